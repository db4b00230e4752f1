/**
 * Drop counters by reason, pure: one record per instance (or per socket), incremented by the
 * shell for every datagram it drops, exported as metrics and shown by `lvsd status`.
 */
import type { DecodeFailureReason } from './advert.js';

/** Every reason a received datagram is dropped, in the order of the receive path. */
export const DROP_REASONS = [
  // The shell, before decoding.
  'bad-ttl',
  'unknown-source',
  // decodeAdvert.
  'too-short',
  'too-long',
  'bad-magic',
  'bad-version',
  'bad-auth-type',
  'unauthenticated',
  'auth-mismatch',
  'bad-mac',
  'bad-type',
  'truncated',
  'trailing-bytes',
  'malformed',
  'wrong-vrid',
  'wrong-family',
  // After decoding.
  'own',
  'replay',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

/** Compile-time check: every decoder reason is a drop reason (`false` would not compile). */
export const decoderReasonsCounted: [Exclude<DecodeFailureReason, DropReason>] extends [never]
  ? true
  : false = true;

export type DropCounters = Readonly<Record<DropReason, number>>;

export function emptyDropCounters(): DropCounters {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
}

export function countDrop(counters: DropCounters, reason: DropReason, by = 1): DropCounters {
  return { ...counters, [reason]: counters[reason] + by };
}

export function totalDrops(counters: DropCounters): number {
  return DROP_REASONS.reduce((sum, r) => sum + counters[r], 0);
}

/** Only the reasons with a count, for logs: `{ 'bad-mac': 3 }`. */
export function nonZeroDrops(counters: DropCounters): Partial<Record<DropReason, number>> {
  return Object.fromEntries(
    DROP_REASONS.filter((r) => counters[r] > 0).map((r) => [r, counters[r]]),
  );
}
