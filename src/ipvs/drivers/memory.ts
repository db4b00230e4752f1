/**
 * A faithful in-process twin of the kernel's IPVS table behind ipvsadm: it keeps state, refuses
 * what the kernel refuses with ipvsadm's messages (via the pure applyOps), refuses before
 * "sending" what ipvsadm would refuse to parse (via checkOp, exactly as the ipvsadm driver
 * does), keeps going after a refused op like `ipvsadm -R`, and records every batch as the
 * ipvsadm lines it stands for, so tests can assert what would have been done.
 */
import { applyOps, type KernelOptions } from '../apply.js';
import {
  ipvsUnavailable,
  type ApplyResult,
  type DestinationObservation,
  type IpvsDriver,
  type ObservedTable,
  type OpOutcome,
  type ServiceObservation,
} from '../driver.js';
import type { TrafficStats } from '../ipvsadm-listing.js';
import { renderOp } from '../ipvsadm-text.js';
import type { Op } from '../op.js';
import { checkOp } from '../rules.js';
import {
  EMPTY_TABLE,
  type DestinationKey,
  type Scheduler,
  type ServiceKey,
  type Table,
} from '../table.js';

export interface MemoryDriverOptions {
  readonly initial?: Table;
  /** Schedulers the simulated kernel has (e.g. all but `twos`, as Debian's 6.1). */
  readonly schedulers?: readonly Scheduler[];
  readonly persistenceEngines?: readonly string[];
}

interface Counters {
  activeConns: number;
  inactiveConns: number;
  stats?: TrafficStats;
}

export class MemoryIpvsDriver implements IpvsDriver {
  readonly name = 'memory';
  private current: Table;
  private readonly kernel: KernelOptions;
  private unavailable = false;
  private readonly counters = new Map<string, Counters>();
  private readonly serviceStats = new Map<ServiceKey, TrafficStats>();
  /** Every batch applied, as `ipvsadm -R` lines (refused-before-sending ops excluded). */
  readonly batches: string[][] = [];

  constructor(options: MemoryDriverOptions = {}) {
    this.current = options.initial ?? EMPTY_TABLE;
    this.kernel = {
      ...(options.schedulers === undefined ? {} : { schedulers: options.schedulers }),
      ...(options.persistenceEngines === undefined
        ? {}
        : { persistenceEngines: options.persistenceEngines }),
    };
  }

  /** The table as it is now. */
  get table(): Table {
    return this.current;
  }

  /** Replace the table behind lvsd's back (drift made by hand). Counters of gone entries go. */
  setTable(table: Table): void {
    this.current = table;
    this.pruneCounters();
  }

  /** Make every call fail as on a kernel without ip_vs. */
  setUnavailable(unavailable: boolean): void {
    this.unavailable = unavailable;
  }

  setConnections(
    service: ServiceKey,
    destination: DestinationKey,
    counts: { activeConns: number; inactiveConns: number },
  ): void {
    const key = `${service} ${destination}`;
    this.counters.set(key, { ...this.counters.get(key), ...counts });
  }

  setStats(
    service: ServiceKey,
    destination: DestinationKey | undefined,
    stats: TrafficStats,
  ): void {
    if (destination === undefined) {
      this.serviceStats.set(service, stats);
      return;
    }
    const key = `${service} ${destination}`;
    this.counters.set(key, { activeConns: 0, inactiveConns: 0, ...this.counters.get(key), stats });
  }

  read(): Promise<ObservedTable> {
    if (this.unavailable) return Promise.reject(unavailableError());
    const observations = new Map<ServiceKey, ServiceObservation>();
    for (const [key, entry] of this.current.services) {
      const destinations = new Map<DestinationKey, DestinationObservation>();
      for (const dkey of entry.destinations.keys()) {
        const c = this.counters.get(`${key} ${dkey}`);
        destinations.set(dkey, {
          activeConns: c?.activeConns ?? 0,
          inactiveConns: c?.inactiveConns ?? 0,
          ...(c?.stats === undefined ? {} : { stats: c.stats }),
        });
      }
      const stats = this.serviceStats.get(key);
      observations.set(key, { destinations, ...(stats === undefined ? {} : { stats }) });
    }
    return Promise.resolve({ table: this.current, observations });
  }

  apply(ops: readonly Op[]): Promise<ApplyResult> {
    if (this.unavailable) return Promise.reject(unavailableError());
    const outcomes: (OpOutcome | undefined)[] = ops.map(() => undefined);
    const sendable: { op: Op; index: number }[] = [];
    for (const [index, op] of ops.entries()) {
      const problem = checkOp(op);
      if (problem === undefined) sendable.push({ op, index });
      else outcomes[index] = { op, ok: false, sent: false, error: problem };
    }
    const { table, steps } = applyOps(
      this.current,
      sendable.map((s) => s.op),
      this.kernel,
    );
    for (const [i, step] of steps.entries()) {
      const index = sendable[i]?.index ?? 0;
      outcomes[index] = {
        op: step.op,
        ok: step.error === undefined,
        sent: true,
        ...(step.error === undefined ? {} : { error: step.error }),
      };
    }
    if (sendable.length > 0) this.batches.push(sendable.map((s) => renderOp(s.op)));
    this.current = table;
    this.pruneCounters();
    const done = outcomes.filter((o): o is OpOutcome => o !== undefined);
    const last = steps.at(-1);
    return Promise.resolve({
      ok: done.every((o) => o.ok),
      outcomes: done,
      after: table,
      // Like ipvsadm -R: the status of the last line.
      ...(last === undefined ? {} : { exitCode: last.error === undefined ? 0 : 255 }),
      unattributed: [],
    });
  }

  private pruneCounters(): void {
    for (const key of [...this.counters.keys()]) {
      const [svc = '', dest = ''] = key.split(' ');
      if (this.current.services.get(svc)?.destinations.has(dest) !== true)
        this.counters.delete(key);
    }
    for (const key of [...this.serviceStats.keys()]) {
      if (!this.current.services.has(key)) this.serviceStats.delete(key);
    }
  }
}

function unavailableError(): Error {
  return ipvsUnavailable("ipvsadm: Can't initialize ipvs: Protocol not available (memory twin)");
}
