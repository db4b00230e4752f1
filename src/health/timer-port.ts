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

interface IoFirstHandle {
  timeout: NodeJS.Timeout | undefined;
  immediate: NodeJS.Immediate | undefined;
}

/**
 * Node's timers, with one difference: a callback runs only after the I/O already waiting has
 * been read. After a stall (CPU starvation, a long GC pause) Node runs every expired timer
 * before it polls the sockets, so a deadline would be judged without the advert or response
 * that came in meanwhile and sits in the socket's buffer: a backup would declare a live master
 * down, a check time out on an answer it had. setImmediate runs after the poll phase.
 */
export const systemTimers: TimerPort = {
  setTimeout: (callback, delayMs) => {
    const h: IoFirstHandle = { timeout: undefined, immediate: undefined };
    h.timeout = setTimeout(() => {
      h.timeout = undefined;
      h.immediate = setImmediate(callback);
    }, delayMs);
    return h;
  },
  clearTimeout: (handle) => {
    const h = handle as IoFirstHandle | undefined;
    if (h === undefined) return;
    clearTimeout(h.timeout);
    clearImmediate(h.immediate);
  },
};
