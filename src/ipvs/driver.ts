/**
 * The IPVS port: one narrow interface, two drivers (ipvsadm, memory). Errors carry a stable
 * code; per-op refusals are data in ApplyResult, not exceptions, because `ipvsadm -R` applies
 * the rest of a batch when one line fails and the caller must know exactly which ops took.
 */
import { LvsdError } from '../lib/errors.js';
import type { TrafficStats } from './ipvsadm-listing.js';
import { describeOp, type Op } from './op.js';
import type { DestinationKey, ServiceKey, Table } from './table.js';

export type { TrafficStats } from './ipvsadm-listing.js';

export interface DestinationObservation {
  /** TCP ESTABLISHED (for drain --wait); other states count as inactive. */
  readonly activeConns: number;
  readonly inactiveConns: number;
  readonly stats?: TrafficStats;
}

export interface ServiceObservation {
  readonly stats?: TrafficStats;
  readonly destinations: ReadonlyMap<DestinationKey, DestinationObservation>;
}

export interface ObservedTable {
  /** What the kernel holds, in the same model as a desired table (diff input). */
  readonly table: Table;
  /** Counters, where the driver could read them. */
  readonly observations: ReadonlyMap<ServiceKey, ServiceObservation>;
}

export interface OpOutcome {
  readonly op: Op;
  /** The op's effect is in the table read back after the batch. */
  readonly ok: boolean;
  /** false: refused before sending (it would have stopped the batch); see `error`. */
  readonly sent: boolean;
  /** ipvsadm's stderr line for this op, or lvsd's reason. */
  readonly error?: string;
}

export interface ApplyResult {
  readonly ok: boolean;
  readonly outcomes: readonly OpOutcome[];
  /** The table read back after the batch. */
  readonly after: Table;
  /** ipvsadm -R's exit status (that of its last line: not the batch's). */
  readonly exitCode?: number;
  /** Error lines that could not be tied to an op. */
  readonly unattributed: readonly string[];
}

export interface IpvsDriver {
  readonly name: string;
  read(): Promise<ObservedTable>;
  apply(ops: readonly Op[]): Promise<ApplyResult>;
}

export const IPVS_ERROR_CODES = {
  /** The kernel has no IPVS (no ip_vs module): ipvsadm says "Protocol not available". */
  unavailable: 'IPVS_UNAVAILABLE',
  /** No ipvsadm binary. */
  notFound: 'IPVSADM_NOT_FOUND',
  /** A batch could not be run at all (timeout, signal), or assertApplied found failed ops. */
  applyFailed: 'IPVS_APPLY_FAILED',
  /** ipvsadm's output did not parse. */
  parse: 'IPVS_PARSE',
  /** ipvsadm (or `ip netns exec`) failed in another way while reading. */
  commandFailed: 'IPVS_COMMAND_FAILED',
} as const;

export const HINT_MEMORY = "run with --ipvs memory to use lvsd's in-memory table";

export function ipvsUnavailable(detail: string): LvsdError {
  return new LvsdError(
    IPVS_ERROR_CODES.unavailable,
    `the kernel has no IPVS (ip_vs module): ${detail}`,
    HINT_MEMORY,
  );
}

export function ipvsadmNotFound(path: string, cause?: unknown): LvsdError {
  return new LvsdError(
    IPVS_ERROR_CODES.notFound,
    `ipvsadm not found (${path})`,
    'apt-get install ipvsadm',
    { cause },
  );
}

/** Throws IPVS_APPLY_FAILED naming every op that did not take; for callers that want throws. */
export function assertApplied(result: ApplyResult): void {
  const failed = result.outcomes.filter((o) => !o.ok);
  if (failed.length === 0 && result.unattributed.length === 0) return;
  const lines = failed.map(
    (o) => `${describeOp(o.op)}: ${o.error ?? 'not in the table afterwards'}`,
  );
  throw new LvsdError(
    IPVS_ERROR_CODES.applyFailed,
    `${failed.length} IPVS op(s) failed: ${[...lines, ...result.unattributed].join('; ')}`,
  );
}
