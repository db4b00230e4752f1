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

export const systemTimers: TimerPort = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
