/**
 * Blast-radius guard, pure (the idea of seesaw's rateLimitVS): before a batch is applied, count
 * how much traffic capacity it takes away, and say which limit it breaks. It returns data and
 * never throws; the reconciler decides (apply, apply part, or hold and alert).
 *
 * Counting is done on the result of applying the ops, so implicit deletes (a deleted service
 * takes its real servers with it) count like explicit ones.
 */
import { applyOps } from './apply.js';
import type { Op } from './op.js';
import type { Table } from './table.js';

export interface GuardLimits {
  /** Virtual services removed. */
  readonly maxServiceDeletes?: number;
  /** Real servers removed, explicitly or with their service. */
  readonly maxDestinationDeletes?: number;
  /** Real servers that had weight > 0 and keep their place with weight 0. */
  readonly maxDestinationsZeroed?: number;
  /** Share (0..1) of the real servers with weight > 0 that end removed or at weight 0. */
  readonly maxFractionLost?: number;
}

export interface GuardCounts {
  readonly serviceDeletes: number;
  readonly destinationDeletes: number;
  readonly destinationsZeroed: number;
  /** Real servers with weight > 0, before and after. */
  readonly liveBefore: number;
  readonly liveAfter: number;
  /** Live before, and removed or zeroed after. */
  readonly liveLost: number;
}

export interface GuardViolation {
  readonly limit: keyof GuardLimits;
  readonly allowed: number;
  readonly actual: number;
  readonly message: string;
}

export interface GuardReport {
  readonly ok: boolean;
  readonly counts: GuardCounts;
  readonly violations: readonly GuardViolation[];
}

export function countImpact(ops: readonly Op[], observed: Table): GuardCounts {
  const after = applyOps(observed, ops).table;
  let serviceDeletes = 0;
  let destinationDeletes = 0;
  let destinationsZeroed = 0;
  let liveBefore = 0;
  let liveAfter = 0;
  let liveLost = 0;
  for (const [key, entry] of observed.services) {
    const next = after.services.get(key);
    if (next === undefined) serviceDeletes += 1;
    for (const [dkey, d] of entry.destinations) {
      const nd = next?.destinations.get(dkey);
      if (nd === undefined) destinationDeletes += 1;
      else if (d.weight > 0 && nd.weight === 0) destinationsZeroed += 1;
      if (d.weight > 0) {
        liveBefore += 1;
        if (nd === undefined || nd.weight === 0) liveLost += 1;
      }
    }
  }
  for (const entry of after.services.values()) {
    for (const d of entry.destinations.values()) if (d.weight > 0) liveAfter += 1;
  }
  return {
    serviceDeletes,
    destinationDeletes,
    destinationsZeroed,
    liveBefore,
    liveAfter,
    liveLost,
  };
}

export function guard(ops: readonly Op[], observed: Table, limits: GuardLimits): GuardReport {
  const counts = countImpact(ops, observed);
  const violations: GuardViolation[] = [];
  const check = (limit: keyof GuardLimits, actual: number, what: string): void => {
    const allowed = limits[limit];
    if (allowed !== undefined && actual > allowed) {
      violations.push({ limit, allowed, actual, message: `${what}: ${actual} > ${allowed}` });
    }
  };
  check('maxServiceDeletes', counts.serviceDeletes, 'virtual services deleted');
  check('maxDestinationDeletes', counts.destinationDeletes, 'real servers deleted');
  check('maxDestinationsZeroed', counts.destinationsZeroed, 'real servers set to weight 0');
  const fraction = counts.liveBefore === 0 ? 0 : counts.liveLost / counts.liveBefore;
  check('maxFractionLost', fraction, 'share of live real servers lost');
  return { ok: violations.length === 0, counts, violations };
}
