/**
 * A read that many pollers share: one read at a time, its result reused while it runs and until
 * `freshMs` after it started. `lvsd status`, the status page and `drain --wait` all poll the
 * kernel's table; however often they ask, lvsd starts at most one `ipvsadm` read per `freshMs`,
 * and a read that is slow (a loaded box, an emulated CPU) is never overlapped by the next one,
 * while what they show is never older than the read before it (freshness counts from the
 * start, as a status frame should show a drain within about `freshMs`).
 * A failed read is reused the same way: a broken ipvsadm is not re-run on every poll.
 */
import type { Clock } from './clock.js';

export function sharedRead<T>(
  read: () => Promise<T>,
  freshMs: number,
  clock: Pick<Clock, 'monotonicMs'>,
): () => Promise<T> {
  let current: Promise<T> | undefined;
  let running = false;
  let startedAt = 0;
  return () => {
    const now = clock.monotonicMs();
    if (current !== undefined && (running || now - startedAt <= freshMs)) return current;
    const p = read();
    current = p;
    running = true;
    startedAt = now;
    const settled = (): void => {
      if (current === p) running = false;
    };
    p.then(settled, settled);
    return p;
  };
}
