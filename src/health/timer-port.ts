/**
 * The timer port. The scheduler is the only health module that owns a timer, and it owns one:
 * production passes Node's timers, tests a manual port driven by a FakeClock, so no test sleeps.
 */
export type TimerHandle = unknown;

/** The timer port: the real one is Node's timers; tests use a manual one with a FakeClock. */
export interface TimerPort {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A timer whose callback waits for the I/O pending at its expiry: see ioFirstTimeout. */
export interface IoFirstTimer {
  timeout: NodeJS.Timeout | undefined;
  immediate: NodeJS.Immediate | undefined;
}

/**
 * Node's setTimeout, with one difference: the callback runs only after the I/O already waiting
 * has been read. After a stall (CPU starvation, a long GC pause) Node runs every expired timer
 * before it polls the sockets, so a deadline would be judged without the advert or response
 * that came in meanwhile and sits in the socket's buffer: a backup would declare a live master
 * down, a check time out on an answer it had. setImmediate runs after the poll phase.
 * `unref`: the wait does not keep the process alive (the probes' shared deadline timer). The
 * immediate stays ref'd: it lives one loop turn, and an unref'd one does not stop the poll phase
 * from blocking, so it would run only at the next unrelated wake-up.
 */
export function ioFirstTimeout(callback: () => void, delayMs: number, unref = false): IoFirstTimer {
  const t: IoFirstTimer = { timeout: undefined, immediate: undefined };
  t.timeout = setTimeout(() => {
    t.timeout = undefined;
    t.immediate = setImmediate(callback);
  }, delayMs);
  if (unref) t.timeout.unref();
  return t;
}

export function clearIoFirst(t: IoFirstTimer | undefined): void {
  if (t === undefined) return;
  clearTimeout(t.timeout);
  clearImmediate(t.immediate);
}

/** The real port: Node's timers, I/O first. */
export const systemTimers: TimerPort = {
  setTimeout: (callback, delayMs) => ioFirstTimeout(callback, delayMs),
  clearTimeout: (handle) => {
    clearIoFirst(handle as IoFirstTimer | undefined);
  },
};
