/**
 * When checks run. Pure: the scheduler owns the timers and asks these functions for times.
 *
 * - Spreading: 10,000 checks with one interval must not fire in the same tick. Each check's
 *   first run is offset within its warmup span (keepalived: `warmup`, default delay_loop) by a
 *   hash of its id, so the offset is deterministic and survives reloads (a check keeps its
 *   phase), or by an injected random source for keepalived's random warmup.
 * - Anchoring: the next regular run is previous due + interval, never now + interval, so a
 *   check does not drift by its own run time over hours. A check that overran its slot skips
 *   the missed slots instead of running them back to back.
 */

/** 32-bit FNV-1a, then murmur3's finaliser so ids differing in the last character still land
 * far apart (plain FNV keeps such ids close in the high bits). */
export function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A deterministic offset in [0, spanMs), whole milliseconds. */
export function spreadOffsetMs(id: string, spanMs: number): number {
  if (spanMs <= 0) return 0;
  return Math.floor((hashId(id) / 0x1_0000_0000) * spanMs);
}

export interface FirstRunInput {
  readonly id: string;
  readonly intervalMs: number;
  /** Span the first run is spread over; default the interval (keepalived's warmup default). */
  readonly warmupMs?: number | undefined;
  /** A random source in [0, 1): keepalived's random warmup. Without it the id's hash is used. */
  readonly random?: (() => number) | undefined;
}

/** Due time of a check's first run after `startMs`. */
export function firstDueMs(input: FirstRunInput, startMs: number): number {
  const span = Math.max(0, input.warmupMs ?? input.intervalMs);
  const offset =
    input.random === undefined
      ? spreadOffsetMs(input.id, span)
      : Math.min(span > 0 ? span - 1 : 0, Math.floor(input.random() * span));
  return startMs + offset;
}

/**
 * The next regular slot after `previousDueMs`: previous + k * interval for the smallest k >= 1
 * that is not in the past at `nowMs` (slots that passed while the check ran are skipped).
 */
export function nextDueMs(previousDueMs: number, intervalMs: number, nowMs: number): number {
  if (!(intervalMs > 0)) throw new RangeError(`interval must be > 0, got ${intervalMs}`);
  const next = previousDueMs + intervalMs;
  if (next >= nowMs) return next;
  return next + Math.ceil((nowMs - next) / intervalMs) * intervalMs;
}

/** How many slots `nextDueMs` skipped (for a metric: checks slower than their interval). */
export function missedSlots(previousDueMs: number, intervalMs: number, nowMs: number): number {
  return Math.round((nextDueMs(previousDueMs, intervalMs, nowMs) - previousDueMs) / intervalMs) - 1;
}

/** The coarse tick a due time is served by: the first tick boundary at or after it. */
export function tickAtOrAfter(atMs: number, tickMs: number): number {
  return Math.ceil(atMs / tickMs) * tickMs;
}
