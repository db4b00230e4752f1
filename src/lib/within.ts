/**
 * A wait with a bound: `p`'s value if it settles within `ms`, else `late()`'s. `p` goes on
 * running; whoever caches it (sharedRead) still gets its value. A rejection of `p` within the
 * bound is passed on.
 */
import type { TimerPort } from '../health/timer-port.js';

export function within<T>(p: Promise<T>, ms: number, timers: TimerPort, late: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = timers.setTimeout(() => {
      if (done) return;
      done = true;
      resolve(late());
    }, ms);
    p.then(
      (v) => {
        if (done) return;
        done = true;
        timers.clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        if (done) return;
        done = true;
        timers.clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
