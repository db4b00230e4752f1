/**
 * Coarse deadlines for probes. With thousands of checks a second, one native timer per check
 * (armed, then cleared a millisecond later) costs wake-ups and allocations for timers that almost
 * never fire (performance.md: wake-ups dominate). Instead every in-flight probe registers a
 * deadline here and ONE shared timer serves them all. It is armed for the earliest pending
 * deadline (rounded up to TICK_MS), and only re-armed when a new deadline is earlier than that:
 * deadlines are mostly `now + connect_timeout`, later than the armed one, and are cancelled
 * long before it, so the process wakes about once per timeout length for them, not every tick
 * (a 20 ms sweep interval was 50 wake-ups a second while any probe was in flight, i.e. always,
 * at 1,000 checks a second: bench/probe-cpu). The timer is unref'd: the probe's own socket or
 * child keeps the process alive, not its timeout.
 *
 * Precision is TICK_MS: a deadline fires between `ms` and `ms + TICK_MS` after it was armed,
 * which is far below anything a health-check timeout is configured in.
 */

import { clearIoFirst, ioFirstTimeout, type IoFirstTimer } from '../timer-port.js';

export const TICK_MS = 20;

export interface Deadline {
  /** performance.now() value at which `fire` runs. */
  at: number;
  /** Position in `pending`, or -1 once fired or cancelled. */
  index: number;
  readonly fire: () => void;
}

const pending: Deadline[] = [];
let timer: IoFirstTimer | undefined;
/** performance.now() the timer fires at (Infinity: not armed). */
let timerAt = Infinity;

/**
 * Runs after the poll phase (ioFirstTimeout): a probe whose answer is already in its socket's
 * buffer when the timer expires after a stall has cancelled its deadline by now.
 */
function sweep(): void {
  timer = undefined;
  timerAt = Infinity;
  const now = performance.now();
  const due: Deadline[] = [];
  let earliest = Infinity;
  for (let i = 0; i < pending.length;) {
    const d = pending[i] as Deadline;
    if (d.at <= now) {
      removeAt(i);
      due.push(d);
    } else {
      if (d.at < earliest) earliest = d.at;
      i++;
    }
  }
  if (earliest !== Infinity) armTimer(earliest);
  // Fire after the sweep: a callback may arm or cancel other deadlines.
  for (const d of due) d.fire();
}

/** Make sure the timer fires by `at` (rounded up to the tick, so nearby deadlines share it). */
function armTimer(at: number): void {
  const wake = Math.ceil(at / TICK_MS) * TICK_MS;
  if (wake >= timerAt) return;
  clearIoFirst(timer);
  timerAt = wake;
  timer = ioFirstTimeout(sweep, Math.max(0, wake - performance.now()), true);
}

/** O(1) removal: move the last entry into the hole. */
function removeAt(i: number): void {
  const victim = pending[i] as Deadline;
  const last = pending.pop() as Deadline;
  if (last !== victim) {
    pending[i] = last;
    last.index = i;
  }
  victim.index = -1;
}

export function armDeadline(ms: number, fire: () => void): Deadline {
  const d: Deadline = { at: performance.now() + ms, index: pending.length, fire };
  pending.push(d);
  armTimer(d.at);
  return d;
}

/**
 * Move a pending deadline to `ms` from now (the next phase of the same probe): no allocation,
 * no array work. A fired or cancelled deadline is armed afresh.
 */
export function restartDeadline(d: Deadline, ms: number): Deadline {
  if (d.index < 0) return armDeadline(ms, d.fire);
  d.at = performance.now() + ms;
  // Usually later than before (the armed timer then just fires early and re-arms).
  armTimer(d.at);
  return d;
}

export function cancelDeadline(d: Deadline | undefined): void {
  if (d !== undefined && d.index >= 0) removeAt(d.index);
  // Nothing left: drop the timer rather than wake for nothing (one clearTimeout, rare with load).
  if (pending.length === 0 && timer !== undefined) {
    clearIoFirst(timer);
    timer = undefined;
    timerAt = Infinity;
  }
}

/** For tests: how many deadlines are armed (a leak shows up here). */
export function pendingDeadlines(): number {
  return pending.length;
}
