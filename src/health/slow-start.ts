/**
 * Slow start: after a real server recovers, its weight ramps linearly from 1 to the configured
 * weight over `periodMs`, so a cold server is not handed a full share of new connections at once
 * (with lc/wlc schedulers a freshly added server would otherwise take nearly all of them).
 *
 * Pure: time is an argument. The FSM asks `slowStartNextStepMs` when to wake it for the next
 * step; the scheduler/reconciler arms a timer for that and feeds a `ramp` event back.
 */

/**
 * The weight a server that has been up since `upSinceMs` should have at `nowMs`.
 * Linear, rounded down, never below 1 while ramping (0 would pause the server, which is what a
 * failure does, not a recovery), and exactly `configured` from `upSinceMs + periodMs` on.
 */
export function slowStartWeight(
  configured: number,
  upSinceMs: number,
  nowMs: number,
  periodMs: number,
): number {
  if (configured <= 0) return 0;
  if (periodMs <= 0) return configured;
  const elapsed = nowMs - upSinceMs;
  if (elapsed >= periodMs) return configured;
  if (elapsed <= 0) return 1;
  return Math.max(1, Math.min(configured, Math.floor((configured * elapsed) / periodMs)));
}

/**
 * Default spacing between ramp steps: at most ~100 weight edits per recovery, so a weight of
 * 1,000,000 does not turn into a million IPVS edits.
 */
export function defaultSlowStartStepMs(periodMs: number): number {
  return Math.max(1, Math.ceil(periodMs / 100));
}

/**
 * When the ramped weight next changes (no sooner than `minStepMs` after `nowMs`), or null when
 * the ramp is over or never changes the weight (configured weight 0 or 1, period 0).
 */
export function slowStartNextStepMs(
  configured: number,
  upSinceMs: number,
  nowMs: number,
  periodMs: number,
  minStepMs: number = defaultSlowStartStepMs(periodMs),
): number | null {
  const endMs = upSinceMs + periodMs;
  if (configured <= 1 || periodMs <= 0 || nowMs >= endMs) return null;
  const current = slowStartWeight(configured, upSinceMs, nowMs, periodMs);
  // The first instant the floor reaches current + 1, then not sooner than the step spacing.
  let at = upSinceMs + Math.ceil(((current + 1) * periodMs) / configured);
  at = Math.max(at, nowMs + minStepMs);
  // Floating-point rounding could land a hair before the change; nudge forward (bounded).
  for (let i = 0; i < 4 && at < endMs; i++) {
    if (slowStartWeight(configured, upSinceMs, at, periodMs) > current) break;
    at += 1;
  }
  return Math.min(at, endMs);
}
