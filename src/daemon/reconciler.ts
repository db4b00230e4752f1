/**
 * Keeps the kernel's IPVS table equal to the desired one: coalesces changes, reads the table,
 * applies the pure diff in one batch, and checks the result. It manages only the services it
 * owns (those in the configuration, and those it created that a reload removed); services
 * someone else put in the kernel are left alone. On start a table that already matches is
 * adopted with no operation at all, so a restart never blips traffic; a periodic re-read finds
 * changes made by hand and repairs them, with an event that says so.
 */
import { diff } from '../ipvs/diff.js';
import { isLvsdError } from '../lib/errors.js';
import type { IpvsDriver, ObservedTable } from '../ipvs/driver.js';
import { renderOp } from '../ipvs/ipvsadm-text.js';
import type { Op } from '../ipvs/op.js';
import { tableEquals, type ServiceEntry, type ServiceKey, type Table } from '../ipvs/table.js';
import type { TimerHandle, TimerPort } from '../health/timer-port.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/events.js';

export interface ReconcilerOptions {
  /** Changes within this window go into one batch. */
  readonly coalesceMs?: number;
  /** How often the kernel table is re-read to find changes made by hand (0 = never). */
  readonly driftCheckMs?: number;
  /** Longest wait between retries after a failed batch. */
  readonly maxBackoffMs?: number;
}

/** A read of the kernel's table, dated by wall-clock ms when it began. */
export interface TableRead {
  readonly table: ObservedTable;
  readonly at: number;
}

export class Reconciler {
  private readonly managed = new Set<ServiceKey>();
  /** What the kernel held after our last pass (managed services only). */
  private known: Table | undefined;
  private timer: TimerHandle;
  private driftTimer: TimerHandle;
  private running: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private stopped = false;
  /** Passes start only after start() has read the kernel's table once. */
  private started = false;
  /** The kernel's table as last read, whoever read it (a pass, status, drain --wait). */
  private last: TableRead | undefined;
  /**
   * The desired table as last built; poke() drops it. Building it for 10,000 real servers
   * (sorting, address parsing) was most of a drift pass that found nothing to do, every
   * driftCheckMs, while nothing it depends on had changed (bench/probe-cpu, --cpu-prof).
   */
  private desiredCache: Table | undefined;
  private readonly coalesceMs: number;
  private readonly driftCheckMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly driver: IpvsDriver,
    private readonly desired: () => Table,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly timers: TimerPort,
    options: ReconcilerOptions = {},
  ) {
    this.coalesceMs = options.coalesceMs ?? 20;
    this.driftCheckMs = options.driftCheckMs ?? 5000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  /** The first pass: adopt or converge. Throws the driver's error (e.g. no IPVS in the kernel). */
  async start(): Promise<void> {
    const observed = await this.refresh();
    const desired = this.desired();
    for (const key of desired.services.keys()) this.managed.add(key);
    const mine = this.mine(observed.table);
    const ops = diff(mine, desired);
    if (ops.length === 0) {
      let destinations = 0;
      for (const e of desired.services.values()) destinations += e.destinations.size;
      this.bus.publish(
        'ipvs.adopted',
        'ipvs',
        { kind: 'startup' },
        { services: desired.services.size, destinations },
      );
      this.known = mine;
    } else {
      await this.applyOps(ops);
    }
    this.started = true;
    this.armDrift();
  }

  /** Something the desired table depends on changed. Everything that changes it must poke. */
  poke(): void {
    this.desiredCache = undefined;
    if (this.stopped || !this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.pass();
    }, this.coalesceMs);
  }

  /** Resolves when no pass is running or pending (tests, shutdown). */
  async settle(): Promise<void> {
    for (let i = 0; i < 100 && (this.running || this.timer !== undefined); i++) {
      if (this.running) await this.running;
      else await new Promise<void>((r) => this.timers.setTimeout(r, this.coalesceMs + 1));
    }
  }

  /**
   * The table as last read (with counters) and when that read began: what status shows when a
   * fresh read takes too long. It may predate a batch applied since; its date says so.
   */
  lastRead(): TableRead | undefined {
    return this.last;
  }

  /** Reads the kernel's table now (passes, status, drain --wait), dated for lastRead(). */
  async refresh(): Promise<ObservedTable> {
    const at = this.clock.wallMs();
    const table = await this.driver.read();
    this.last = { table, at };
    return table;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    this.timers.clearTimeout(this.driftTimer);
    this.timer = undefined;
    if (this.running) await this.running;
  }

  private pass(): Promise<void> {
    const run = this.runPass().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.poke();
      }
    });
    this.running = run;
    return run;
  }

  private async runPass(): Promise<void> {
    let observed: ObservedTable;
    try {
      observed = await this.refresh();
    } catch (err) {
      this.fail(err);
      return;
    }
    const desired = (this.desiredCache ??= this.desired());
    for (const key of desired.services.keys()) this.managed.add(key);
    const mine = this.mine(observed.table);
    const ops = opsFor(mine, desired);
    if (ops.length === 0) {
      this.known = mine;
      this.failures = 0;
      this.forgetRemoved(desired);
      return;
    }
    if (this.known !== undefined && !tableEquals(this.known, mine)) {
      // The kernel is not what we left it as: someone changed it by hand.
      this.bus.publish(
        'ipvs.drift',
        'ipvs',
        { kind: 'drift' },
        { ops: ops.length, lines: ops.map(renderOp) },
      );
    }
    await this.applyOps(ops);
    this.forgetRemoved(desired);
  }

  private async applyOps(ops: readonly Op[]): Promise<void> {
    const started = this.clock.monotonicMs();
    let result;
    try {
      result = await this.driver.apply(ops);
    } catch (err) {
      this.fail(err);
      return;
    }
    const durationMs = Math.round(this.clock.monotonicMs() - started);
    this.known = this.mine(result.after);
    const failed = result.outcomes.filter((o) => !o.ok);
    const applied = result.outcomes.filter((o) => o.ok).map((o) => renderOp(o.op));
    if (applied.length > 0)
      this.bus.publish(
        'ipvs.applied',
        'ipvs',
        { kind: 'kernel' },
        { ops: applied.length, lines: applied, durationMs },
      );
    if (failed.length > 0 || !result.ok) {
      this.bus.publish(
        'ipvs.failed',
        'ipvs',
        { kind: 'kernel' },
        {
          ops: ops.length,
          failed: failed.map((o) => ({
            line: renderOp(o.op),
            error: o.error ?? 'not in the table after the batch',
          })),
          unattributed: result.unattributed,
        },
      );
      this.retryLater();
    } else {
      this.failures = 0;
    }
  }

  private fail(err: unknown): void {
    const e = isLvsdError(err) ? err : undefined;
    this.bus.publish(
      'ipvs.error',
      'ipvs',
      { kind: 'kernel' },
      {
        code: e?.code ?? 'IPVS_ERROR',
        message: err instanceof Error ? err.message : String(err),
        ...(e?.hint ? { hint: e.hint } : {}),
      },
    );
    this.retryLater();
  }

  private retryLater(): void {
    if (this.stopped) return;
    this.failures++;
    const delay = Math.min(this.maxBackoffMs, 500 * 2 ** Math.min(this.failures - 1, 10));
    this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.pass();
    }, delay);
  }

  private armDrift(): void {
    if (this.driftCheckMs <= 0 || this.stopped) return;
    this.driftTimer = this.timers.setTimeout(() => {
      this.driftTimer = undefined;
      const go = this.running ? this.running.then(() => this.pass()) : this.pass();
      void go.finally(() => {
        this.armDrift();
      });
    }, this.driftCheckMs);
  }

  /** Services lvsd manages, as the kernel has them. */
  private mine(table: Table): Table {
    const services = new Map<ServiceKey, ServiceEntry>();
    for (const [key, entry] of table.services) if (this.managed.has(key)) services.set(key, entry);
    return { services };
  }

  private forgetRemoved(desired: Table): void {
    const present = this.known?.services;
    for (const key of [...this.managed]) {
      if (!desired.services.has(key) && !present?.has(key)) this.managed.delete(key);
    }
  }
}

/**
 * The ops that make `observed` the desired table. A table that already matches (every drift
 * pass, almost always) is recognised by map lookups alone: diff() sorts both tables, parsing
 * every address, which at 10,000 real servers was ~10 µs per check of the daemon's CPU
 * (bench/probe-cpu --rss --cpu-prof). tableEquals uses diff's own equality, so equal tables
 * have no ops.
 */
function opsFor(observed: Table, desired: Table): Op[] {
  return tableEquals(observed, desired) ? [] : diff(observed, desired);
}
