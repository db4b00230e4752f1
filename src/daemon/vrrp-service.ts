/**
 * VRRP in the daemon: one runner per vrrp_instance, wired to its advert socket (codec, key,
 * replay guard), its addresses and announcements, its tracked scripts and interfaces, its sync
 * group and the IPVS connection-sync daemon. Everything that decides lives in src/vrrp (pure);
 * this file only connects the pieces and keeps their timers.
 */
import { randomBytes } from 'node:crypto';
import type {
  Config,
  VirtualAddress,
  VrrpInstanceConfig,
  VrrpScriptConfig,
} from '../config/index.js';
import type { TimerHandle, TimerPort } from '../health/timer-port.js';
import type { Clock } from '../lib/clock.js';
import { LvsdError } from '../lib/errors.js';
import type { EventBus } from '../lib/events.js';
import {
  AdvertSockets,
  type AdvertLink,
  type OpenTransport,
  type UnroutedReason,
} from '../vrrp/advert-socket.js';
import {
  garpSchedule,
  startAnnouncements,
  type AnnouncementRun,
  type Announcer,
} from '../vrrp/drivers/garp.js';
import type { LinkPort } from '../vrrp/drivers/links.js';
import {
  switchSyncRole,
  type SyncDaemonDriver,
  type SyncRole,
} from '../vrrp/drivers/sync-daemon.js';
import { ipForwardWarning } from '../vrrp/drivers/sysctl.js';
import type { UdpTransportOptions } from '../vrrp/drivers/transport-udp.js';
import type { AddressScope, VipAddress, VipDriver } from '../vrrp/drivers/vip.js';
import type { VrrpState } from '../vrrp/fsm.js';
import { VrrpInstanceRunner, type OutgoingAdvert } from '../vrrp/runner.js';
import { ScriptTracker, type ScriptRunner } from '../vrrp/script-tracker.js';
import { syncGroupForces, type Member } from '../vrrp/sync-group.js';
import { keepalivedState } from '../hooks/fifo-line.js';
import { SyncGroupStates, syncGroupEvent } from '../hooks/sync-group-state.js';
import type { TransitionCause } from '../vrrp/fsm.js';
import { effectivePriority, type TrackedItem } from '../vrrp/tracking.js';
import { encodeAdvert, type MacKey } from '../vrrp/wire/advert.js';
import type { DropReason } from '../vrrp/wire/counters.js';
import { DropReporter } from '../vrrp/drop-reporter.js';
import { keyFromAuthPass, type WireKey } from '../vrrp/wire/keys.js';
import { initialReceiver, receiveAdvert, type ReceiverState } from '../vrrp/wire/receive.js';

export interface VrrpDrivers {
  readonly vips: VipDriver;
  readonly announcer: Announcer;
  readonly links: LinkPort;
  readonly openTransport: OpenTransport;
  readonly readKey: (path: string) => Promise<WireKey>;
  readonly runScript: (
    script: VrrpScriptConfig,
    scriptSecurity: boolean,
  ) => ReturnType<ScriptRunner>;
  readonly syncDaemon?: SyncDaemonDriver;
  /** `net.ipv4.ip_forward` as the kernel has it (the NAT master warning); absent: not checked. */
  readonly ipForward?: () => Promise<string>;
  /** This boot's sender id (16 hex digits); random by default. */
  readonly senderId?: () => string;
  /** How often tracked links are read. Default 100 ms. */
  readonly linkPollMs?: number;
}

export interface VrrpServiceOptions {
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly timers: TimerPort;
  readonly drivers: VrrpDrivers;
  /** How long a backup waits for a master that said it restarts (ruling 14). Default 10 s. */
  readonly restartGraceMs?: number;
}

export interface VrrpTrackedStatus {
  readonly kind: 'script' | 'interface';
  readonly name: string;
  readonly ok: boolean;
  readonly weight: number;
}

export interface VrrpInstanceStatus {
  readonly name: string;
  readonly state: string;
  /** The effective priority (after tracking); 0 in FAULT is not shown, the state says it. */
  readonly priority: number;
  readonly configuredPriority: number;
  /** This director's address when MASTER, else the master last heard (null: none heard). */
  readonly master: string | null;
  readonly primaryAddress: string;
  readonly advertIntMs: number;
  /** Wall-clock ms of the last transition. */
  readonly since: number;
  readonly adverts: {
    readonly sent: number;
    readonly sendErrors: number;
    readonly received: number;
  };
  readonly dropped: Partial<Record<DropReason, number>>;
  readonly tracking: readonly VrrpTrackedStatus[];
}

const VALID_SCOPES = new Set(['global', 'site', 'link', 'host', 'nowhere']);

function vipOf(a: VirtualAddress): VipAddress {
  return {
    address: a.address,
    prefixLength: a.prefix,
    dev: a.dev,
    ...(a.broadcast === undefined ? {} : { broadcast: a.broadcast }),
    ...(a.scope !== undefined && VALID_SCOPES.has(a.scope)
      ? { scope: a.scope as AddressScope }
      : {}),
    ...(a.label === undefined ? {} : { label: a.label }),
  };
}

/** What a reload compares: everything but source positions (a comment added above moves them). */
function specOf(x: object): string {
  return JSON.stringify(x, (k, v: unknown) => (k === 'at' ? undefined : v));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The tracked items of an instance with their configured weights. */
interface TrackSpec {
  readonly kind: 'script' | 'interface';
  readonly name: string;
  readonly weight: number;
  readonly reverse: boolean;
}

class Instance {
  runner!: VrrpInstanceRunner;
  link: AdvertLink | undefined;
  receiver: ReceiverState = initialReceiver();
  counter = 0n;
  sent = 0;
  sendErrors = 0;
  received = 0;
  since: number;
  lastTrack: { priority: number; fault: boolean } | undefined;
  readonly sends = new Set<Promise<void>>();
  readonly announcements = new Set<AnnouncementRun>();
  drops!: DropReporter<DropReason>;

  constructor(
    readonly config: VrrpInstanceConfig,
    readonly primary: string,
    readonly key: WireKey | null,
    readonly senderId: string,
    readonly tracks: readonly TrackSpec[],
    readonly spec: string,
    now: number,
  ) {
    this.since = now;
  }
}

export class VrrpService {
  private config: Config;
  private readonly instances = new Map<string, Instance>();
  private readonly scripts = new Map<string, ScriptTracker>();
  private readonly links = new Map<string, boolean>();
  private readonly sockets: AdvertSockets;
  /** Datagrams no instance here took (garbage, a VRID not configured here). */
  private readonly unrouted: DropReporter<UnroutedReason>;
  private linkTimer: TimerHandle;
  private syncWork: Promise<void> = Promise.resolve();
  private syncRole: SyncRole | 'none' | undefined;
  private stopped = false;
  /** Each sync group's own state, for its vrrp.sync_group events. */
  private readonly groupStates = new SyncGroupStates();

  private constructor(
    config: Config,
    private readonly opts: VrrpServiceOptions,
  ) {
    this.config = config;
    this.unrouted = new DropReporter(opts.bus, opts.clock, opts.timers, undefined);
    this.sockets = new AdvertSockets(opts.drivers.openTransport, (reason, from, socket) => {
      // A multicast socket hears every interface's segment: count a datagram once, on the
      // socket of the interface its sender is on.
      if (socket.mode === 'multicast' && !opts.drivers.links.onLink(socket.interfaceName, from))
        return;
      this.unrouted.count(reason, from);
    });
  }

  /** Starts every instance; rejects (nothing left running) when one cannot start. */
  static async start(config: Config, opts: VrrpServiceOptions): Promise<VrrpService> {
    const s = new VrrpService(config, opts);
    try {
      await s.apply(config, false);
      s.pollLinks();
    } catch (err) {
      await s.stop(false).catch(() => undefined);
      throw err;
    }
    return s;
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** Datagrams no instance took, by reason, since start. */
  unroutedDrops(): Partial<Record<UnroutedReason, number>> {
    return this.unrouted.totalsObject();
  }

  status(): VrrpInstanceStatus[] {
    return [...this.instances.values()].map((i) => {
      const st = i.runner.state;
      return {
        name: i.config.name,
        state: st.state.toUpperCase(),
        priority: st.effectivePriority,
        configuredPriority: i.config.priority,
        master: st.state === 'master' ? i.primary : st.master,
        primaryAddress: i.primary,
        advertIntMs: i.config.advertIntMs,
        since: i.since,
        adverts: { sent: i.sent, sendErrors: i.sendErrors, received: i.received },
        dropped: i.drops.totalsObject(),
        tracking: i.tracks.map((t) => ({
          kind: t.kind,
          name: t.name,
          weight: t.weight,
          ok: this.fine(t),
        })),
      };
    });
  }

  /** Brings the instances in line with a new configuration; unchanged ones are not touched. */
  async reload(config: Config): Promise<void> {
    await this.apply(config, true);
  }

  /**
   * Stops every instance. A clean stop hands the VIPs over at once (priority 0) and removes
   * them; `restarting` keeps them and asks the peer to wait (ruling 14).
   */
  async stop(restarting: boolean): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.opts.timers.clearTimeout(this.linkTimer);
    this.linkTimer = undefined;
    // All at once: every instance's priority-0 advert leaves before any VIP is removed, so
    // the peer's sync group never sees one member stopping and another still advertising.
    await Promise.all([...this.instances.values()].map((i) => this.stopInstance(i, restarting)));
    this.instances.clear();
    this.unrouted.stop();
    for (const t of this.scripts.values()) await t.stop();
    this.scripts.clear();
    if (!restarting) this.switchSync('none', 'stop');
    await this.syncWork;
    await this.sockets.close();
  }

  private async apply(config: Config, reloading: boolean): Promise<void> {
    const previous = this.config;
    this.config = config;
    this.groupStates.configure(config.vrrpSyncGroups);
    const wanted = new Map(config.vrrpInstances.map((c) => [c.name, c]));
    // Scripts first: an instance's tracking reads them.
    const scriptDefs = new Map(config.vrrpScripts.map((s) => [s.name, s]));
    const used = new Set(config.vrrpInstances.flatMap((c) => c.trackScripts.map((t) => t.name)));
    for (const [name, t] of [...this.scripts]) {
      const def = scriptDefs.get(name);
      if (!used.has(name) || !def || specOf(def) !== specOf(t.config)) {
        await t.stop();
        this.scripts.delete(name);
      }
    }
    for (const name of used) {
      const def = scriptDefs.get(name);
      if (def && !this.scripts.has(name)) this.startScript(def);
    }
    const leaving: Promise<void>[] = [];
    for (const [name, inst] of [...this.instances]) {
      const next = wanted.get(name);
      if (next && specOf(next) === inst.spec) continue;
      // A changed instance restarts in place (it keeps its VIPs: no blip); a removed one hands
      // them over. All together, as on a stop.
      leaving.push(this.stopInstance(inst, next !== undefined));
      this.instances.delete(name);
    }
    await Promise.all(leaving);
    const fresh: Instance[] = [];
    for (const c of config.vrrpInstances) {
      if (this.instances.has(c.name)) continue;
      const inst = await this.createInstance(c);
      this.instances.set(c.name, inst);
      fresh.push(inst);
    }
    for (const inst of fresh) this.retrack(inst);
    const sync = config.lvsSyncDaemon;
    if (!reloading && sync && this.opts.drivers.syncDaemon) this.switchSync('backup', 'startup');
    else if (reloading && JSON.stringify(previous.lvsSyncDaemon) !== JSON.stringify(sync))
      this.switchSync(sync ? this.syncRoleFor() : 'none', 'reload');
    for (const inst of fresh) await inst.runner.start();
  }

  private async createInstance(c: VrrpInstanceConfig): Promise<Instance> {
    const d = this.opts.drivers;
    const vips = new Set(c.virtualAddresses.map((a) => a.address));
    const primary =
      c.unicastSrcIp ??
      (c.interface === undefined
        ? undefined
        : d.links.addresses(c.interface, c.family).find((a) => !vips.has(a)));
    if (primary === undefined)
      throw new LvsdError(
        'VRRP_NO_ADDRESS',
        `vrrp_instance ${c.name}: interface ${c.interface ?? '(none)'} has no IPv${c.family} address of its own to send adverts from`,
        'give the interface an address, or set unicast_src_ip',
      );
    const key = await this.keyOf(c);
    if (key?.weak)
      this.opts.bus.publish(
        'vrrp.warning',
        c.name,
        { kind: 'config' },
        {
          instance: c.name,
          message:
            'adverts are authenticated with a key derived from auth_pass, which is weak: set key_file in the lvsd block',
        },
      );
    const tracks: TrackSpec[] = [];
    const inGroup = c.syncGroup
      ? this.config.vrrpSyncGroups.find((g) => g.name === c.syncGroup)
      : undefined;
    // In a sync group without sync_group_tracking_weight, weights are ignored (keepalived).
    const weighted = inGroup === undefined || inGroup.trackingWeight;
    if (c.interface !== undefined)
      tracks.push({ kind: 'interface', name: c.interface, weight: 0, reverse: false });
    for (const t of c.trackInterfaces)
      if (t.name !== c.interface)
        tracks.push({ kind: 'interface', ...t, weight: weighted ? t.weight : 0 });
    for (const t of c.trackScripts) tracks.push({ kind: 'script', ...t });
    for (const t of tracks)
      if (t.kind === 'interface' && !this.links.has(t.name))
        this.links.set(t.name, d.links.linkUp(t.name));
    const inst = new Instance(
      c,
      primary,
      key,
      d.senderId?.() ?? randomBytes(8).toString('hex'),
      tracks,
      specOf(c),
      this.opts.clock.wallMs(),
    );
    inst.drops = new DropReporter(this.opts.bus, this.opts.clock, this.opts.timers, c.name);
    const transport: UdpTransportOptions =
      c.unicastPeers.length > 0
        ? { mode: 'unicast', sourceAddress: primary, peers: c.unicastPeers }
        : c.family === 4
          ? {
              mode: 'multicast',
              family: 4,
              interfaceName: c.interface ?? '',
              interfaceAddress: primary,
            }
          : { mode: 'multicast', family: 6, interfaceName: c.interface ?? '' };
    inst.link = await this.sockets.attach(transport, c.virtualRouterId, (buf, from) => {
      this.receive(inst, buf, from.address);
    });
    inst.runner = new VrrpInstanceRunner(c, {
      channel: {
        send: (a) => {
          this.send(inst, a);
        },
      },
      addresses: {
        add: async (a) => {
          await d.vips.add(vipOf(a));
        },
        remove: async (a) => {
          await d.vips.remove(vipOf(a));
        },
        holds: (a) => d.vips.hasAddress(vipOf(a)),
      },
      announce: {
        announce: (a, delayMs, repeat) => {
          if (inst.runner.state.state !== 'master') return;
          const run = startAnnouncements(
            d.announcer,
            [{ dev: a.dev, addresses: [a.address] }],
            garpSchedule(delayMs, repeat),
            this.opts.timers,
          );
          inst.announcements.add(run);
          void run.done.then((rounds) => {
            inst.announcements.delete(run);
            const failed = rounds.flatMap((r) => r.failed);
            if (failed.length > 0)
              this.warn(
                c.name,
                `gratuitous ARP/NA for ${a.address} failed: ${failed[0]?.reason ?? ''}`,
              );
          });
        },
      },
      bus: this.opts.bus,
      clock: this.opts.clock,
      timers: this.opts.timers,
      primaryAddress: primary,
      ...(this.opts.restartGraceMs === undefined
        ? {}
        : { restartGraceMs: this.opts.restartGraceMs }),
      onTransition: (to, _runner, cause) => {
        this.onTransition(inst, to, cause);
      },
    });
    return inst;
  }

  private async keyOf(c: VrrpInstanceConfig): Promise<WireKey | null> {
    switch (c.auth.kind) {
      case 'none':
        return null;
      case 'pass':
      case 'ah':
        return keyFromAuthPass(c.auth.pass, c.virtualRouterId, c.family);
      case 'key-file':
        return this.opts.drivers.readKey(c.auth.path);
    }
  }

  private send(inst: Instance, a: OutgoingAdvert): void {
    const c = inst.config;
    let buf: Buffer;
    try {
      buf = encodeAdvert(
        {
          vrid: a.vrid,
          priority: a.priority,
          advertIntMs: a.advertIntMs,
          restarting: a.restarting,
          family: c.family,
          addresses: c.virtualAddresses.filter((v) => v.family === c.family).map((v) => v.address),
          senderId: inst.senderId,
          counter: inst.counter++,
        },
        inst.key satisfies MacKey | null,
      );
    } catch (err) {
      this.warn(c.name, `cannot encode advert: ${message(err)}`);
      return;
    }
    const link = inst.link;
    if (!link) return;
    const p = link.send(buf).then((r) => {
      inst.sent += r.sent;
      inst.sendErrors += r.failed.length;
    });
    inst.sends.add(p);
    void p.finally(() => inst.sends.delete(p));
  }

  private receive(inst: Instance, data: Buffer, from: string): void {
    const c = inst.config;
    // Multicast: the socket may hear another interface's segment (advert-socket.ts).
    if (
      c.unicastPeers.length === 0 &&
      c.interface !== undefined &&
      !this.opts.drivers.links.onLink(c.interface, from)
    ) {
      inst.drops.count('unknown-source', from);
      return;
    }
    const r = receiveAdvert(
      inst.receiver,
      { data, from, ttl: null },
      {
        vrid: c.virtualRouterId,
        family: c.family,
        key: inst.key,
        requireAuth: inst.key !== null,
        peers: c.unicastPeers.length > 0 ? c.unicastPeers : null,
        ownSenderId: inst.senderId,
      },
    );
    inst.receiver = r.state;
    if (r.ok) {
      inst.received += 1;
      inst.runner.onAdvert(r.peer);
      return;
    }
    if (r.reason === 'own') return;
    inst.drops.count(r.reason, from);
  }

  private onTransition(inst: Instance, to: VrrpState, cause: TransitionCause): void {
    inst.since = this.opts.clock.wallMs();
    this.groupTransition(inst.config.name, to, cause);
    if (to !== 'master') {
      for (const run of inst.announcements) run.cancel();
      inst.announcements.clear();
    }
    const c = inst.config;
    if (to === 'master') this.checkForwarding(c.name);
    const sync = this.config.lvsSyncDaemon;
    if (sync && this.syncInstance() === c.name && to !== 'stopped' && to !== 'init')
      this.switchSync(to === 'master' ? 'master' : 'backup', c.name);
    if (c.syncGroup && to !== 'stopped' && to !== 'init' && !this.stopped) {
      const group = this.config.vrrpSyncGroups.find((g) => g.name === c.syncGroup);
      // After this step has finished: the forced members then see a settled peer.
      if (group)
        queueMicrotask(() => {
          if (this.stopped) return;
          const members: Member[] = group.members.flatMap((m) => {
            const i = this.instances.get(m);
            return i
              ? [{ name: m, state: i.runner.state.state, ownFault: i.lastTrack?.fault ?? false }]
              : [];
          });
          for (const f of syncGroupForces(members, c.name, to))
            this.instances.get(f.member)?.runner.force(f.to);
        });
    }
  }

  /** The member's group state (keepalived's rule, as its group notify uses) as an event. */
  private groupTransition(instance: string, to: VrrpState, cause: TransitionCause): void {
    const state = keepalivedState(to);
    const change = state === undefined ? undefined : this.groupStates.member(instance, state);
    if (!change) return;
    this.opts.bus.publish(
      'vrrp.sync_group',
      change.group,
      { kind: cause === 'stop' ? 'signal' : 'vrrp', detail: `${instance}: ${cause}` },
      syncGroupEvent(change, instance, cause),
    );
  }

  private checkForwarding(instance: string): void {
    const read = this.opts.drivers.ipForward;
    const nat = this.config.virtualServers.some((v) => v.forwarding === 'nat');
    if (!read || !nat || this.config.vrrpInstances[0]?.family === 6) return;
    void read()
      .then((value) => {
        const w = ipForwardWarning(value, { instance, nat });
        if (w) this.warn(instance, w);
      })
      .catch(() => undefined);
  }

  private syncInstance(): string | undefined {
    return this.config.lvsSyncDaemon?.instance ?? this.config.vrrpInstances[0]?.name;
  }

  private syncRoleFor(): SyncRole {
    const name = this.syncInstance();
    const i = name === undefined ? undefined : this.instances.get(name);
    return i?.runner.state.state === 'master' ? 'master' : 'backup';
  }

  /** Switches the IPVS sync daemon in order; a failure is reported and the daemon goes on. */
  private switchSync(role: SyncRole | 'none', why: string): void {
    const driver = this.opts.drivers.syncDaemon;
    const sync = this.config.lvsSyncDaemon;
    if (!driver || (!sync && role !== 'none')) return;
    // Never switched: nothing to stop (no lvs_sync_daemon, or it never started).
    if (role === this.syncRole || (role === 'none' && this.syncRole === undefined)) return;
    this.syncRole = role;
    const instance = this.syncInstance() ?? why;
    const cfg = {
      interface: sync?.interface ?? 'lo',
      ...(sync?.id === undefined ? {} : { syncId: sync.id }),
      ...(sync?.maxlen === undefined ? {} : { maxLen: sync.maxlen }),
      ...(sync?.port === undefined ? {} : { port: sync.port }),
      ...(sync?.ttl === undefined ? {} : { ttl: sync.ttl }),
      ...(sync?.group === undefined ? {} : { group: sync.group }),
    };
    this.syncWork = this.syncWork.then(async () => {
      try {
        await switchSyncRole(driver, role, cfg);
        this.opts.bus.publish(
          'vrrp.sync_daemon',
          instance,
          { kind: 'vrrp', detail: why },
          { instance, role, ok: true, detail: why },
        );
      } catch (err) {
        this.opts.bus.publish(
          'vrrp.sync_daemon',
          instance,
          { kind: 'vrrp', detail: why },
          { instance, role, ok: false, detail: message(err) },
        );
      }
    });
  }

  private startScript(def: VrrpScriptConfig): void {
    const t = new ScriptTracker(
      def,
      (script) => this.opts.drivers.runScript(script, this.config.scriptSecurity),
      this.opts.clock,
      this.opts.timers,
      (ok, detail) => {
        this.opts.bus.publish(
          'vrrp.tracked',
          def.name,
          { kind: 'vrrp', detail },
          { kind: 'script', name: def.name, ok, detail },
        );
        for (const inst of this.instances.values())
          if (inst.tracks.some((x) => x.kind === 'script' && x.name === def.name))
            this.retrack(inst);
      },
    );
    this.scripts.set(def.name, t);
    t.start();
  }

  private fine(t: TrackSpec): boolean {
    if (t.kind === 'script') return this.scripts.get(t.name)?.ok ?? false;
    return this.links.get(t.name) ?? false;
  }

  private retrack(inst: Instance): void {
    const items: TrackedItem[] = inst.tracks.map((t) => ({
      weight: t.weight,
      reverse: t.reverse,
      fine: this.fine(t),
    }));
    const r = effectivePriority(inst.config.priority, items);
    if (inst.lastTrack?.priority === r.priority && inst.lastTrack.fault === r.fault) return;
    inst.lastTrack = r;
    inst.runner.setTracking(r.priority, r.fault);
  }

  private pollLinks(): void {
    if (this.stopped) return;
    const changed = new Set<string>();
    for (const [dev, was] of this.links) {
      const up = this.opts.drivers.links.linkUp(dev);
      if (up === was) continue;
      this.links.set(dev, up);
      changed.add(dev);
      this.opts.bus.publish(
        'vrrp.tracked',
        dev,
        { kind: 'network' },
        { kind: 'interface', name: dev, ok: up, detail: up ? 'link up' : 'link down' },
      );
    }
    if (changed.size > 0)
      for (const inst of this.instances.values())
        if (inst.tracks.some((t) => t.kind === 'interface' && changed.has(t.name)))
          this.retrack(inst);
    this.linkTimer = this.opts.timers.setTimeout(() => {
      this.pollLinks();
    }, this.opts.drivers.linkPollMs ?? 100);
  }

  private async stopInstance(inst: Instance, restarting: boolean): Promise<void> {
    await inst.runner.stop(restarting);
    // The last advert (priority 0, or "restarting") must leave before the socket closes.
    await Promise.all([...inst.sends]);
    for (const run of inst.announcements) run.cancel();
    inst.announcements.clear();
    inst.drops.stop();
    await inst.link?.detach();
    inst.link = undefined;
  }

  private warn(instance: string, text: string): void {
    this.opts.bus.publish('vrrp.warning', instance, { kind: 'vrrp' }, { instance, message: text });
  }
}
