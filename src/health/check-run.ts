/**
 * What the scheduler is given (a check's timing), what it hands back per run, and its options.
 * Separate from scheduler.ts so callers can depend on the shapes without the machinery.
 */
import type { Clock } from '../lib/clock.js';
import type { CancelSignal } from './cancel.js';
import type { HealthEffect } from './fsm.js';
import type { TimerPort } from './timer-port.js';

export interface ScheduledCheck {
  readonly id: string;
  /** delay_loop. */
  readonly intervalMs: number;
  /** Hard cap on one run; the probe's signal fires at this point. */
  readonly timeoutMs: number;
  /** Span the first run is spread over (keepalived `warmup`); default the interval. */
  readonly warmupMs?: number | undefined;
}

export interface RunInfo {
  /** The slot this run served (regular or retry). */
  readonly dueMs: number;
  readonly startedMs: number;
  readonly durationMs: number;
  /** The scheduler's timeout aborted the run (the probe then reported whatever it reports). */
  readonly timedOut: boolean;
}

export type RunOutcome<R> =
  | (RunInfo & { readonly kind: 'result'; readonly result: R })
  | (RunInfo & { readonly kind: 'error'; readonly error: unknown });

/** Returned by the result callback to run the check again sooner than its regular slot. */
export interface NextRun {
  readonly retryAfterMs: number;
}

/**
 * `C`: the caller's check objects. The scheduler hands the object it was given (add/update)
 * back to probe and onResult, so a caller can keep what a run needs on it (its probe, its
 * health record) instead of looking it up by id on every run (bench/probe-cpu: the per-check
 * Map lookups were a measurable share of the daemon's own cost).
 */
export interface SchedulerOptions<R, C extends ScheduledCheck = ScheduledCheck> {
  readonly clock: Clock;
  readonly timers: TimerPort;
  readonly probe: (checkId: string, signal: CancelSignal, check: C) => Promise<R>;
  /** Called once per settled run; return `{ retryAfterMs }` for a retry, else undefined. */
  readonly onResult: (checkId: string, outcome: RunOutcome<R>, check: C) => NextRun | undefined;
  /** Tick granularity in ms (10–100 is sensible); default 50. */
  readonly tickMs?: number;
  /** Cap on probes in flight; default 256. */
  readonly maxConcurrent?: number;
  /** keepalived's random warmup; without it first runs are spread by a hash of the id. */
  readonly random?: () => number;
  /** Where an exception thrown by onResult goes; default: rethrown asynchronously. */
  readonly onCallbackError?: (checkId: string, error: unknown) => void;
}

export interface SchedulerStats {
  readonly checks: number;
  readonly running: number;
  readonly queued: number;
}

/** Bridge from the FSM to the scheduler: a `retry` schedule-check effect for this checker
 * becomes a NextRun; `regular` (or none) keeps the check on its delay_loop slots. */
export function nextRunFromEffects(
  effects: readonly HealthEffect[],
  checker: string,
): NextRun | undefined {
  for (const e of effects) {
    if (e.kind === 'schedule-check' && e.checker === checker && e.timing === 'retry') {
      return { retryAfterMs: e.delayMs };
    }
  }
  return undefined;
}
