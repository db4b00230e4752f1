/**
 * Coarse deadlines for probes. With thousands of checks a second, one native timer per check
 * (armed, then cleared a millisecond later) costs wake-ups and allocations for timers that almost
 * never fire (performance.md: wake-ups dominate). Instead every in-flight probe registers a
 * deadline here and one shared interval sweeps them every TICK_MS. The interval exists only
 * while deadlines are pending, and is unref'd: the probe's own socket or child keeps the process
 * alive, not its timeout.
 *
 * Precision is TICK_MS: a deadline fires between `ms` and `ms + TICK_MS` after it was armed,
 * which is far below anything a health-check timeout is configured in.
 */

// 20 ms: check timeouts are (sub)seconds; a 10 ms sweep cost a wake-up every 10 ms while any
// probe was in flight, i.e. always, at 1,000 checks a second (bench/probe-cpu).
export const TICK_MS = 20;

export interface Deadline {
  /** performance.now() value at which `fire` runs. */
  at: number;
  /** Position in `pending`, or -1 once fired or cancelled. */
  index: number;
  readonly fire: () => void;
}

const pending: Deadline[] = [];
let sweeper: NodeJS.Timeout | undefined;

function sweep(): void {
  const now = performance.now();
  const due: Deadline[] = [];
  for (let i = 0; i < pending.length;) {
    const d = pending[i] as Deadline;
    if (d.at <= now) {
      removeAt(i);
      due.push(d);
    } else {
      i++;
    }
  }
  if (pending.length === 0 && sweeper !== undefined) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
  // Fire after the sweep: a callback may arm or cancel other deadlines.
  for (const d of due) d.fire();
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
  if (sweeper === undefined) {
    sweeper = setInterval(sweep, TICK_MS);
    sweeper.unref();
  }
  return d;
}

/**
 * Move a pending deadline to `ms` from now (the next phase of the same probe): no allocation,
 * no array work. A fired or cancelled deadline is armed afresh.
 */
export function restartDeadline(d: Deadline, ms: number): Deadline {
  if (d.index < 0) return armDeadline(ms, d.fire);
  d.at = performance.now() + ms;
  return d;
}

export function cancelDeadline(d: Deadline | undefined): void {
  if (d !== undefined && d.index >= 0) removeAt(d.index);
}

/** For tests: how many deadlines are armed (a leak shows up here). */
export function pendingDeadlines(): number {
  return pending.length;
}
