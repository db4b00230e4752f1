/**
 * The daemon: the only place where configuration, health checks, the health machines, the
 * desired table and the IPVS driver are wired together. Start order: configuration, IPVS
 * (adopt or converge), checks; stop runs the other way round and leaves the table in place.
 */
import type { Config, HostFacts, LoadResult } from '../config/index.js';
import { loadConfig } from '../config/index.js';
import type { Diagnostic, SourceReader } from '../keepalived-config/index.js';
import { formatDiagnostic } from '../keepalived-config/index.js';
import { Scheduler, type ScheduledCheck } from '../health/scheduler.js';
import type { RunOutcome } from '../health/check-run.js';
import type { TimerPort } from '../health/timer-port.js';
import type { ProbeResult } from '../health/result.js';
import type { ScriptRun } from '../health/checkers/misc.js';
import { desiredTable, ipvsServiceKey } from '../ipvs/desired.js';
import type { IpvsDriver } from '../ipvs/driver.js';
import type { Clock } from '../lib/clock.js';
import { LvsdError } from '../lib/errors.js';
import type { EventBus } from '../lib/events.js';
import { AdminService, type AdminChange } from '../admin/service.js';
import { AdminStore } from '../admin/store.js';
import { ControlServer } from '../control/server.js';
import { controlPortFor, eventRingOn } from './control-port.js';
import { HealthBook, type CheckSlot } from './health-book.js';
import { probeFor, runTimeoutMs, type Probe } from './probes.js';
import { Reconciler } from './reconciler.js';
import type { ObserverLog } from '../hooks/log-port.js';
import { startObservers, type Observers } from '../observe/index.js';
import type { ControlPort, SpawnerStatus } from '../control/types.js';
import { readKeyFile } from '../vrrp/drivers/key-file.js';
import { Replicator } from './replication.js';
import { ProgressMeter, progressWindowMs } from './watchdog.js';
import { VrrpService, type VrrpDrivers, type VrrpInstanceStatus } from './vrrp-service.js';

export interface DaemonOptions {
  readonly file: string;
  readonly configId: string;
  readonly hostname: string;
  readonly source: SourceReader;
  readonly host: HostFacts;
  readonly driver: IpvsDriver;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly timers: TimerPort;
  readonly tickMs?: number;
  readonly driftCheckMs?: number;
  readonly version?: string;
  /** Where admin state (drains, maintenance) is kept; default: the configuration's state_dir. */
  readonly stateDir?: string;
  /** Control sockets; false: none (tests, plan). Default: the configuration's. */
  readonly control?: false | { readonly adminPath?: string; readonly roPath?: string };
  /** VRRP's drivers; without them vrrp_instance blocks are not run (tests, plan). */
  readonly vrrp?: VrrpDrivers;
  /** How long a backup waits for a master that said it restarts (ruling 14). */
  readonly restartGraceMs?: number;
  /**
   * Notify scripts and FIFOs, webhooks and /metrics (src/observe), logging to `log`; absent:
   * none of them (tests that do not test them, plan).
   */
  readonly observe?: { readonly log: ObserverLog };
  /** How MISC_CHECKs and notify scripts start (run passes its spawner); default: directly. */
  readonly runScript?: ScriptRun;
  /** The spawner's state for `lvsd status` (run passes it). */
  readonly spawnerStatus?: () => SpawnerStatus;
}

export type ReloadResult =
  | {
      readonly ok: true;
      readonly added: string[];
      readonly removed: string[];
      readonly changed: string[];
    }
  | { readonly ok: false; readonly problems: string[] };

export class Daemon {
  private config: Config;
  private loaded: LoadResult;
  private readonly book: HealthBook;
  private readonly reconciler: Reconciler;
  private readonly scheduler: Scheduler<ProbeResult, DaemonCheck>;
  /** The scheduled checks by id (what the scheduler holds and hands back on every run). */
  private readonly checks = new Map<string, DaemonCheck>();
  private admin: AdminService | undefined;
  private control: ControlServer | undefined;
  private vrrp: VrrpService | undefined;
  private replicator: Replicator | undefined;
  private observers: Observers | undefined;
  /** Check results arriving: the systemd watchdog's progress predicate (watchdog.ts). */
  readonly progress: ProgressMeter;

  private constructor(
    private readonly opts: DaemonOptions,
    loaded: LoadResult & { config: Config },
  ) {
    this.loaded = loaded;
    this.config = loaded.config;
    this.progress = new ProgressMeter(opts.clock, () => progressWindowMs(this.config));
    this.book = new HealthBook(opts.bus, opts.clock, opts.timers, () => {
      this.reconciler.poke();
    });
    this.reconciler = new Reconciler(
      opts.driver,
      () => this.desired(),
      opts.bus,
      opts.clock,
      opts.timers,
      opts.driftCheckMs === undefined ? {} : { driftCheckMs: opts.driftCheckMs },
    );
    this.scheduler = new Scheduler<ProbeResult, DaemonCheck>({
      clock: opts.clock,
      timers: opts.timers,
      // 100 ms batches were the cheapest start pattern measured (shared/notes/performance.md).
      tickMs: opts.tickMs ?? schedulerTick(loaded.config),
      maxConcurrent: this.config.daemon.checkConcurrency,
      // The check object carries its probe and its health slot: no look-up by id per run.
      probe: (_id, signal, check) => check.probe(signal),
      onResult: (_id, outcome, check) => {
        // The scheduler read the clock when the run settled: the same moment for both.
        const now = outcome.startedMs + outcome.durationMs;
        this.progress.beat(now);
        return this.book.onSlotResult(check.slot, toOutcome(outcome), now);
      },
    });
  }

  /** Loads the configuration and starts; throws LvsdError CONFIG_INVALID or the driver's error. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const loaded = load(opts);
    if (!loaded.config || loaded.cannotRun) {
      throw new LvsdError(
        'CONFIG_INVALID',
        `${opts.file}: the configuration cannot run:\n${problems(loaded.diagnostics, true).join('\n')}`,
        `check it with: lvsd check-config -f ${opts.file}`,
      );
    }
    const d = new Daemon(opts, { ...loaded, config: loaded.config });
    // The ring before anything publishes: opening the admin state reports expired drains.
    const ring = eventRingOn(opts.bus);
    // Admin state first: a drained server must come up drained, from the first batch on.
    const { service, load: adminLoad } = await AdminService.open({
      store: new AdminStore({ dir: opts.stateDir ?? d.config.daemon.stateDir }),
      clock: opts.clock,
      director: d.config.routerId,
      onChange: (change) => {
        d.onAdminChange(change);
      },
      onError: (what, err) => {
        opts.bus.publish(
          'admin.error',
          'admin',
          { kind: 'operator' },
          { what, message: err instanceof Error ? err.message : String(err) },
        );
      },
    });
    d.admin = service;
    await service.syncConfigWindows(d.config.daemon.maintenance);
    if (adminLoad.kind === 'corrupt') {
      opts.bus.publish(
        'admin.state_corrupt',
        'admin',
        { kind: 'startup' },
        { file: adminLoad.file, reason: adminLoad.reason, keptAs: adminLoad.keptAs },
      );
    } else if (adminLoad.kind === 'too-new') {
      await service.stop();
      throw new LvsdError(
        'ADMIN_STATE_TOO_NEW',
        `${adminLoad.file} was written by a newer lvsd (format ${adminLoad.version}); refusing to start rather than lose it`,
        'run the newer lvsd, or move the file away if its drains no longer matter',
      );
    }
    try {
      // The control sockets first: if another lvsd holds them, fail before touching IPVS.
      const port = controlPortFor(d, service, {
        id: d.config.routerId,
        version: opts.version ?? 'dev',
        configFile: opts.file,
        driver: opts.driver.name,
        startedAt: opts.clock.wallMs(),
        clock: opts.clock,
        timers: opts.timers,
        ring,
        ...(opts.spawnerStatus ? { spawner: opts.spawnerStatus } : {}),
      });
      if (opts.control !== false) {
        const c = opts.control ?? {};
        d.control = await ControlServer.start({
          port,
          adminPath: c.adminPath ?? d.config.daemon.controlSocket,
          roPath: c.roPath ?? d.config.daemon.controlSocketReadOnly,
          ...(d.config.daemon.controlGroup ? { adminGroup: d.config.daemon.controlGroup } : {}),
          ...(d.config.daemon.readGroup ? { readGroup: d.config.daemon.readGroup } : {}),
        });
      }
      await d.startReplication();
      // Observers before the subsystems start: VRRP's first transitions run notify scripts.
      if (opts.observe) {
        d.observers = await d.startObserving(opts.observe.log, port);
        // Every check result, not only changes, for the check latency histogram.
        d.book.observeChecks(d.observers.metrics.checks);
      }
      d.book.sync(d.config);
      await d.reconciler.start();
      d.syncChecks();
      // VRRP last: a director takes the VIPs only once its IPVS table is loaded.
      if (opts.vrrp && d.config.vrrpInstances.length > 0) d.vrrp = await d.startVrrp(opts.vrrp);
    } catch (err) {
      await d.scheduler.stop().catch(() => undefined);
      await d.replicator?.stop().catch(() => undefined);
      await d.observers?.stop().catch(() => undefined);
      await d.control?.close().catch(() => undefined);
      await service.stop().catch(() => undefined);
      d.book.stop();
      await d.reconciler.stop();
      throw err;
    }
    opts.bus.publish(
      'daemon.started',
      'daemon',
      { kind: 'startup' },
      { version: opts.version ?? 'dev', pid: process.pid, driver: opts.driver.name },
    );
    return d;
  }

  get current(): Config {
    return this.config;
  }

  get diagnostics(): readonly Diagnostic[] {
    return this.loaded.diagnostics;
  }

  /** Re-reads the file. A file that cannot run, or that brings new problems, changes nothing. */
  reload(): ReloadResult {
    const next = load(this.opts);
    const known = new Set(this.loaded.diagnostics.map(problemKey));
    const fresh = next.diagnostics.filter(
      (d) => d.severity !== 'notice' && !known.has(problemKey(d)),
    );
    if (!next.config || next.cannotRun || next.exitStatus === 6 || fresh.length > 0) {
      const list = problems(next.cannotRun || !next.config ? next.diagnostics : fresh, false);
      this.opts.bus.publish(
        'config.rejected',
        'config',
        { kind: 'config' },
        { file: this.opts.file, problems: list },
      );
      return { ok: false, problems: list };
    }
    const before = { replication: this.config.daemon.replication };
    const vsBefore = new Map(this.config.virtualServers.map((v) => [v.name, JSON.stringify(v)]));
    const after = new Map(next.config.virtualServers.map((v) => [v.name, JSON.stringify(v)]));
    const added = [...after.keys()].filter((k) => !vsBefore.has(k));
    const removed = [...vsBefore.keys()].filter((k) => !after.has(k));
    const changed = [...after.keys()].filter(
      (k) => vsBefore.has(k) && vsBefore.get(k) !== after.get(k),
    );
    this.loaded = next;
    this.config = next.config;
    this.book.sync(this.config);
    this.syncChecks();
    this.reconciler.poke();
    this.reloadVrrp();
    void this.observers?.reload(this.config, this.config.notifyFifos);
    void this.admin?.syncConfigWindows(this.config.daemon.maintenance).catch((err: unknown) => {
      this.opts.bus.publish(
        'admin.error',
        'admin',
        { kind: 'config' },
        { what: 'maintenance windows', message: err instanceof Error ? err.message : String(err) },
      );
    });
    if (JSON.stringify(before.replication) !== JSON.stringify(this.config.daemon.replication))
      void this.restartReplication();
    this.opts.bus.publish(
      'config.reloaded',
      'config',
      { kind: 'config' },
      { file: this.opts.file, added, removed, changed },
    );
    return { ok: true, added, removed, changed };
  }

  /**
   * Stops VRRP, checks and the reconciler. The IPVS table is left as it is (a restart adopts
   * it). VRRP hands the VIPs over at once, unless `restarting` (ruling 14: keep them, and ask
   * the peer to wait for this director to come back).
   */
  async stop(signal = 'stop', restarting = false): Promise<void> {
    this.opts.bus.publish(
      'daemon.stopping',
      'daemon',
      { kind: 'signal', detail: signal },
      { signal },
    );
    // VRRP first, so the peer takes over while this director's table still works; then the
    // API (no new drains), admin state, checks, IPVS.
    await this.vrrp?.stop(restarting);
    await this.control?.close();
    await this.replicator?.stop();
    await this.admin?.stop();
    await this.scheduler.stop();
    this.book.stop();
    await this.reconciler.settle();
    await this.reconciler.stop();
    // Last: the STOP notifies of the instances above run in this drain.
    await this.observers?.stop();
  }

  /** Waits until pending table changes are applied (tests, plan). */
  settle(): Promise<void> {
    return this.reconciler.settle();
  }

  health(): HealthBook {
    return this.book;
  }

  /** Every running VRRP instance's state; [] without VRRP. */
  vrrpStatus(): VrrpInstanceStatus[] {
    return this.vrrp?.status() ?? [];
  }

  /** Advert-port datagrams no instance took, by reason. */
  vrrpUnrouted(): Readonly<Record<string, number>> {
    return this.vrrp?.unroutedDrops() ?? {};
  }

  private startVrrp(drivers: VrrpDrivers): Promise<VrrpService> {
    return VrrpService.start(this.config, {
      bus: this.opts.bus,
      clock: this.opts.clock,
      timers: this.opts.timers,
      drivers,
      restartGraceMs: this.opts.restartGraceMs ?? this.config.daemon.restartGraceMs,
    });
  }

  private reloadVrrp(): void {
    const drivers = this.opts.vrrp;
    if (!drivers) return;
    const fail = (err: unknown): void => {
      this.opts.bus.publish(
        'vrrp.warning',
        'vrrp',
        { kind: 'config' },
        {
          instance: 'vrrp',
          message: `reload of VRRP failed: ${err instanceof Error ? err.message : String(err)}`,
        },
      );
    };
    if (this.vrrp) {
      this.vrrp.reload(this.config).catch(fail);
    } else if (this.config.vrrpInstances.length > 0) {
      this.startVrrp(drivers).then((v) => {
        this.vrrp = v;
      }, fail);
    }
  }

  ipvs(): Reconciler {
    return this.reconciler;
  }

  /** The IPVS service keys a virtual server stands for. */
  serviceKeys(vsName: string): string[] {
    const vs = this.config.virtualServers.find((v) => v.name === vsName);
    if (!vs) return [];
    return vs.services.map(ipvsServiceKey);
  }

  private startObserving(log: ObserverLog, port: ControlPort): Promise<Observers> {
    return startObservers({
      bus: this.opts.bus,
      config: this.config,
      log,
      clock: this.opts.clock,
      fifos: this.config.notifyFifos,
      ...(this.opts.runScript ? { runScript: this.opts.runScript } : {}),
      snapshot: {
        virtualServers: async () => (await port.status()).virtualServers,
        vrrpInstances: () => this.vrrpStatus(),
        status: () => port.status(),
        recentEvents: (n) => port.events?.recent(n) ?? [],
      },
    });
  }

  /** Ruling 11: only with a key_file (config leaves replication out without one). */
  private async startReplication(): Promise<void> {
    const settings = this.config.daemon.replication;
    const keyFile = this.config.daemon.keyFile;
    if (!settings || !keyFile || !this.admin) return;
    const key = await readKeyFile(keyFile);
    this.replicator = await Replicator.start({
      settings,
      keyBytes: key.bytes,
      director: this.config.routerId,
      admin: this.admin,
      bus: this.opts.bus,
      clock: this.opts.clock,
      timers: this.opts.timers,
    });
  }

  private async restartReplication(): Promise<void> {
    const old = this.replicator;
    this.replicator = undefined;
    await old?.stop();
    await this.startReplication().catch((err: unknown) => {
      this.opts.bus.publish(
        'admin.error',
        'admin',
        { kind: 'config' },
        { what: 'replication', message: err instanceof Error ? err.message : String(err) },
      );
    });
  }

  private onAdminChange(change: AdminChange): void {
    if (change.kind !== 'merged') this.replicator?.changed();
    if (change.kind === 'command') {
      const r = change.result;
      if (!r.ok || !r.changed) return;
      const c = change.command;
      if (c.type === 'drain')
        this.opts.bus.publish(
          'admin.drained',
          `${c.vs}/${c.rs}`,
          { kind: 'operator', ...(c.reason ? { detail: c.reason } : {}) },
          { vs: c.vs, rs: c.rs, by: c.by, via: c.via, ...(c.reason ? { reason: c.reason } : {}) },
        );
      else if (c.type === 'undrain')
        this.opts.bus.publish(
          'admin.undrained',
          `${c.vs}/${c.rs}`,
          { kind: 'operator' },
          { vs: c.vs, rs: c.rs, by: c.by, via: c.via },
        );
    } else if (change.kind === 'expired') {
      for (const e of change.entries)
        this.opts.bus.publish(
          'admin.expired',
          `${e.vs}/${e.rs}`,
          { kind: 'operator' },
          { vs: e.vs, rs: e.rs },
        );
    }
    this.reconciler.poke();
  }

  private desired() {
    return desiredTable({
      config: this.config,
      placement: (vs, rs) => this.book.placement(vs, rs),
      quorumUp: (vs) => this.book.quorumUp(vs),
      drained: (vs, rs) => this.admin?.drained(vs.name, rs.name) ?? false,
    });
  }

  /** Brings the scheduler in line with the configuration's checks (start and reload). */
  private syncChecks(): void {
    const wanted = new Set<string>();
    for (const vs of this.config.virtualServers) {
      for (const rs of vs.realServers) {
        for (const c of rs.checks) {
          wanted.add(c.id);
          const spec = JSON.stringify(c);
          // Always a fresh probe: it also depends on global settings (script security).
          const probe = probeFor(c, this.config.scriptSecurity, this.opts.runScript);
          const old = this.checks.get(c.id);
          if (old !== undefined && old.spec === spec) {
            old.probe = probe;
            continue;
          }
          const check: DaemonCheck = {
            id: c.id,
            intervalMs: c.health.delayLoopMs,
            timeoutMs: runTimeoutMs(c),
            warmupMs: c.health.warmupMs,
            spec,
            probe,
            slot: this.book.slotFor(c.id),
          };
          this.checks.set(c.id, check);
          if (old === undefined) this.scheduler.add(check);
          else this.scheduler.update(check);
        }
      }
    }
    for (const id of this.checks.keys()) {
      if (wanted.has(id)) continue;
      this.scheduler.remove(id);
      this.checks.delete(id);
    }
  }
}

/** A check as the daemon schedules it: its timing, plus what each run needs at hand. */
interface DaemonCheck extends ScheduledCheck {
  /** JSON of the check's configuration: a reload re-plans the check only when it changed. */
  readonly spec: string;
  probe: Probe;
  readonly slot: CheckSlot;
}

/**
 * The scheduler's tick: 100 ms batches are the cheapest (shared/notes/performance.md), but a
 * tick coarser than a quarter of the shortest check or retry interval would show up in
 * detection times (bench/detection). The tick is fixed at start; a reload keeps it.
 */
export function schedulerTick(config: Config): number {
  let shortest = Infinity;
  for (const vs of config.virtualServers) {
    for (const rs of vs.realServers) {
      for (const c of rs.checks)
        shortest = Math.min(
          shortest,
          c.health.delayLoopMs,
          c.health.delayBeforeRetryMs,
          c.connectTimeoutMs,
        );
    }
  }
  return Math.max(10, Math.min(100, Math.floor(shortest / 4)));
}

function load(opts: DaemonOptions): LoadResult {
  return loadConfig(opts.file, {
    source: opts.source,
    host: opts.host,
    configId: opts.configId,
    hostname: opts.hostname,
  });
}

function problemKey(d: Diagnostic): string {
  return `${d.code}\u0000${d.message}`;
}

function problems(ds: readonly Diagnostic[], fatalOnly: boolean): string[] {
  return ds
    .filter(
      (d) => d.severity !== 'notice' && (!fatalOnly || d.exitClass === 4 || d.severity === 'error'),
    )
    .map(formatDiagnostic);
}

function toOutcome(o: RunOutcome<ProbeResult>): ProbeResult {
  if (o.kind === 'result') return o.result;
  const message = o.error instanceof Error ? o.error.message : String(o.error);
  return { ok: false, code: 'io', reason: `checker failed: ${message}`, latencyMs: o.durationMs };
}
