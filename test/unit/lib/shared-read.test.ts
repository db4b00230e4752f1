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

describe('sharedRead', () => {
  it('shares one read among callers while it runs, however long it takes', async () => {
    const clock = new FakeClock();
    const m = manualReads();
    const get = sharedRead(m.read, 500, clock);
    const a = get();
    clock.advance(5_000); // a slow read: far past freshMs, still running
    const b = get();
    expect(b).toBe(a);
    expect(m.started()).toBe(1);
    m.pending[0]?.resolve(7);
    expect(await b).toBe(7);
  });

  it('reuses the result until freshMs after the read started, then reads again', async () => {
    const clock = new FakeClock();
    const m = manualReads();
    const get = sharedRead(m.read, 500, clock);
    const first = get();
    clock.advance(200);
    m.pending[0]?.resolve(1);
    await first;
    await flush();
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
    const clock = new FakeClock();
    const m = manualReads();
    const get = sharedRead(m.read, 500, clock);
    const first = get();
    clock.advance(2_000);
    m.pending[0]?.resolve(1);
    await first;
    await flush();
    expect(get()).not.toBe(first);
    expect(m.started()).toBe(2);
  });

  it('reuses a failed read for freshMs too, then retries', async () => {
    const clock = new FakeClock();
    const m = manualReads();
    const get = sharedRead(m.read, 500, clock);
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
