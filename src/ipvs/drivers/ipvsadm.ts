/**
 * The real driver: ipvsadm through execa (no shell).
 *
 * read  = `-Sn` (the table) + `-Ln --thresholds` (thresholds, which `-Sn` omits, and
 *         ActiveConn/InActConn) + `-Ln --stats --exact`, merged by key. The three are separate
 *         snapshots; when their keys disagree (the table changed in between) the read is
 *         repeated, a bounded number of times.
 * apply = ops checked first (a line ipvsadm cannot parse would stop the batch there), one
 *         `ipvsadm -R` batch on stdin, then the table is read back and every op is judged by
 *         whether its effect is there: `-R` is not atomic, its status is that of the last line,
 *         and its stderr does not say which line failed.
 */
import { LvsdError } from '../../lib/errors.js';
import {
  IPVS_ERROR_CODES,
  type ApplyResult,
  type DestinationObservation,
  type IpvsDriver,
  type ObservedTable,
  type OpOutcome,
  type ServiceObservation,
} from '../driver.js';
import { parseListing, type Listing, type ListedService } from '../ipvsadm-listing.js';
import { parseSave, renderBatch, type ParseResult, type TextIssue } from '../ipvsadm-text.js';
import type { Op } from '../op.js';
import { checkOp } from '../rules.js';
import type { Destination, DestinationKey, ServiceEntry, ServiceKey, Table } from '../table.js';
import { attributeOutcomes } from '../verify.js';
import { runIpvsadm, runRead, type IpvsadmRunOptions } from './ipvsadm-exec.js';

export type { IpvsadmRunOptions } from './ipvsadm-exec.js';

export interface IpvsadmDriverOptions extends IpvsadmRunOptions {
  /** Tries to get three listings that agree (default 3). */
  readonly readAttempts?: number;
}

function unwrap<T>(what: string, result: ParseResult<T>): T {
  if (result.ok) return result.value;
  const shown = result.issues
    .slice(0, 5)
    .map((i: TextIssue) => `line ${i.line}: ${i.message} (${JSON.stringify(i.text)})`);
  throw new LvsdError(IPVS_ERROR_CODES.parse, `cannot parse ${what}: ${shown.join('; ')}`);
}

function byKey(listing: Listing): Map<ServiceKey, ListedService> {
  return new Map(listing.services.map((s) => [s.key, s]));
}

/** Same services and the same real servers in each. */
function agree(table: Table, listings: readonly Listing[]): boolean {
  return listings.every((listing) => {
    if (listing.services.length !== table.services.size) return false;
    return listing.services.every((s) => {
      const entry = table.services.get(s.key);
      return (
        entry !== undefined &&
        entry.destinations.size === s.destinations.length &&
        s.destinations.every((d) => entry.destinations.has(d.key))
      );
    });
  });
}

function merge(table: Table, thresholds: Listing, stats: Listing | undefined): ObservedTable {
  const th = byKey(thresholds);
  const st = stats === undefined ? new Map<ServiceKey, ListedService>() : byKey(stats);
  const services = new Map<ServiceKey, ServiceEntry>();
  const observations = new Map<ServiceKey, ServiceObservation>();
  for (const [key, entry] of table.services) {
    const thDests = new Map(th.get(key)?.destinations.map((d) => [d.key, d]));
    const stDests = new Map(st.get(key)?.destinations.map((d) => [d.key, d]));
    const destinations = new Map<DestinationKey, Destination>();
    const observed = new Map<DestinationKey, DestinationObservation>();
    for (const [dkey, d] of entry.destinations) {
      const t = thDests.get(dkey);
      const s = stDests.get(dkey)?.stats;
      destinations.set(dkey, {
        ...d,
        upperThreshold: t?.upperThreshold ?? d.upperThreshold,
        lowerThreshold: t?.lowerThreshold ?? d.lowerThreshold,
      });
      if (t !== undefined) {
        observed.set(dkey, {
          activeConns: t.activeConns ?? 0,
          inactiveConns: t.inactiveConns ?? 0,
          ...(s === undefined ? {} : { stats: s }),
        });
      }
    }
    services.set(key, { service: entry.service, destinations });
    const svcStats = st.get(key)?.stats;
    observations.set(key, {
      destinations: observed,
      ...(svcStats === undefined ? {} : { stats: svcStats }),
    });
  }
  return { table: { services }, observations };
}

export class IpvsadmDriver implements IpvsDriver {
  readonly name = 'ipvsadm';

  constructor(private readonly options: IpvsadmDriverOptions = {}) {}

  read(): Promise<ObservedTable> {
    return this.readListings(true);
  }

  /** With `withStats` false (the read-back after a batch) `--stats` is skipped: one process less. */
  private async readListings(withStats: boolean): Promise<ObservedTable> {
    const attempts = Math.max(1, this.options.readAttempts ?? 3);
    let merged: ObservedTable | undefined;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      const [save, thresholds, stats] = await Promise.all([
        runRead(this.options, ['-Sn']),
        runRead(this.options, ['-Ln', '--thresholds']),
        withStats ? runRead(this.options, ['-Ln', '--stats', '--exact']) : undefined,
      ]);
      const table = unwrap('ipvsadm -Sn', parseSave(save));
      const th = unwrap('ipvsadm -Ln --thresholds', parseListing(thresholds));
      const st =
        stats === undefined
          ? undefined
          : unwrap('ipvsadm -Ln --stats --exact', parseListing(stats));
      merged = merge(table, th, st);
      if (agree(table, st === undefined ? [th] : [th, st])) return merged;
    }
    // Still changing under us: give what -Sn said (thresholds and counters where known).
    if (merged === undefined) throw new Error('unreachable: at least one read attempt');
    return merged;
  }

  async apply(ops: readonly Op[]): Promise<ApplyResult> {
    const outcomes: (OpOutcome | undefined)[] = ops.map(() => undefined);
    const sendable: { op: Op; index: number }[] = [];
    for (const [index, op] of ops.entries()) {
      const problem = checkOp(op);
      if (problem === undefined) sendable.push({ op, index });
      else outcomes[index] = { op, ok: false, sent: false, error: problem };
    }
    let exitCode: number | undefined;
    let errorLines: string[] = [];
    if (sendable.length > 0) {
      const batch = renderBatch(sendable.map((s) => s.op));
      let out;
      try {
        out = await runIpvsadm(this.options, ['-R'], batch);
      } catch (error) {
        if (error instanceof LvsdError && error.code === IPVS_ERROR_CODES.commandFailed) {
          // Timed out or killed mid-batch: some lines may have run; the caller must re-read.
          throw new LvsdError(IPVS_ERROR_CODES.applyFailed, error.message, 'read the table again', {
            cause: error,
          });
        }
        throw error;
      }
      exitCode = out.exitCode;
      errorLines = out.stderr
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
    }
    const after = (await this.readListings(false)).table;
    const judged = attributeOutcomes(
      sendable.map((s) => s.op),
      after,
      errorLines,
    );
    for (const [i, outcome] of judged.outcomes.entries()) {
      outcomes[sendable[i]?.index ?? 0] = outcome;
    }
    const done = outcomes.filter((o): o is OpOutcome => o !== undefined);
    return {
      ok: done.every((o) => o.ok) && judged.unattributed.length === 0,
      outcomes: done,
      after,
      ...(exitCode === undefined ? {} : { exitCode }),
      unattributed: judged.unattributed,
    };
  }
}
