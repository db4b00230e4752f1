import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import { sharedRead } from '../../../src/lib/shared-read.js';

/** A read the test settles by hand. */
function manualReads() {
  const pending: { resolve: (v: number) => void; reject: (e: Error) => void }[] = [];
  let started = 0;
  const read = () =>
    new Promise<number>((resolve, reject) => {
      started++;
      pending.push({ resolve, reject });
    });
  return { read, pending, started: () => started };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

/** A shared read with freshMs 500 over hand-settled reads, on a fake clock. */
function setup() {
  const clock = new FakeClock();
  const m = manualReads();
  return { clock, m, get: sharedRead(m.read, 500, clock) };
}

/** Starts a read, lets `ms` pass, settles it with `value`; returns its promise (boxed: an
 * async function would unwrap it). */
async function readTaking(t: ReturnType<typeof setup>, ms: number, value: number) {
  const p = t.get();
  t.clock.advance(ms);
  t.m.pending[t.m.started() - 1]?.resolve(value);
  await p;
  await flush();
  return { p };
}

describe('sharedRead', () => {
  it('shares one read among callers while it runs, however long it takes', async () => {
    const { clock, m, get } = setup();
    const a = get();
    clock.advance(5_000); // a slow read: far past freshMs, still running
    const b = get();
    expect(b).toBe(a);
    expect(m.started()).toBe(1);
    m.pending[0]?.resolve(7);
    expect(await b).toBe(7);
  });

  it('reuses the result until freshMs after the read started, then reads again', async () => {
    const t = setup();
    const { clock, m, get } = t;
    const { p: first } = await readTaking(t, 200, 1);
    clock.advance(300); // 500 ms after the start
    expect(get()).toBe(first);
    expect(m.started()).toBe(1);
    clock.advance(1);
    const second = get();
    expect(second).not.toBe(first);
    expect(m.started()).toBe(2);
    m.pending[1]?.resolve(2);
    expect(await second).toBe(2);
  });

  it('a slow read is read again on the next call after it settles, not before', async () => {
    const t = setup();
    const { p: first } = await readTaking(t, 2_000, 1);
    expect(t.get()).not.toBe(first);
    expect(t.m.started()).toBe(2);
  });

  it('reuses a failed read for freshMs too, then retries', async () => {
    const { clock, m, get } = setup();
    const first = get();
    m.pending[0]?.reject(new Error('Protocol not available'));
    await expect(first).rejects.toThrow('Protocol not available');
    await flush();
    await expect(get()).rejects.toThrow('Protocol not available');
    expect(m.started()).toBe(1);
    clock.advance(501);
    const retry = get();
    m.pending[1]?.resolve(3);
    expect(await retry).toBe(3);
    expect(m.started()).toBe(2);
  });
});
