import { describe, expect, it } from 'vitest';
import { within } from '../../../src/lib/within.js';
import { flush, ManualTimers } from '../../integration/scheduler/manual-timers.js';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve: (v: T) => void = () => undefined;
  let reject: (e: Error) => void = () => undefined;
  const p = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { p, resolve, reject };
}

/** Records what a within() settles with, as it happens. */
function watch<T>(p: Promise<T>) {
  const seen: { value?: T; error?: string } = {};
  p.then(
    (v) => (seen.value = v),
    (e: unknown) => (seen.error = e instanceof Error ? e.message : String(e)),
  );
  return seen;
}

describe('within', () => {
  it("gives the promise's value when it settles before the bound, and cancels the timer", async () => {
    const timers = new ManualTimers();
    const d = deferred<string>();
    const seen = watch(within(d.p, 1000, timers, () => 'late'));
    await timers.advance(999);
    expect(seen).toEqual({});
    d.resolve('fresh');
    await flush();
    expect(seen).toEqual({ value: 'fresh' });
    expect(timers.pending).toBe(0);
  });

  it("gives late()'s value at the bound, and a later settle changes nothing", async () => {
    const timers = new ManualTimers();
    const d = deferred<string>();
    let asked = 0;
    const seen = watch(
      within(d.p, 1000, timers, () => {
        asked++;
        return 'last known';
      }),
    );
    await timers.advance(1000);
    expect(seen).toEqual({ value: 'last known' });
    d.resolve('fresh');
    await flush();
    expect(seen).toEqual({ value: 'last known' });
    expect(asked).toBe(1);
  });

  it('passes on a rejection within the bound; one after it is ignored', async () => {
    const timers = new ManualTimers();
    const early = deferred<string>();
    const a = watch(within(early.p, 1000, timers, () => 'late'));
    early.reject(new Error('ipvsadm: exit 2'));
    await flush();
    expect(a).toEqual({ error: 'ipvsadm: exit 2' });

    const slow = deferred<string>();
    const b = watch(within(slow.p, 1000, timers, () => 'late'));
    await timers.advance(1000);
    slow.reject(new Error('too late'));
    await flush();
    expect(b).toEqual({ value: 'late' });
  });
});
