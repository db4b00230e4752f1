/**
 * Runs one VRRP instance: feeds the pure state machine with adverts, ticks and tracking, and
 * performs its effects through narrow ports — the advert channel, the address driver, the
 * gratuitous-ARP sender — publishing every transition on the event stream. On MASTER the
 * addresses are added and announced; on BACKUP, FAULT and a clean stop they are removed
 * (a restart keeps them: ruling 14).
 */
import type { VirtualAddress, VrrpInstanceConfig } from '../config/index.js';
import type { TimerHandle, TimerPort } from '../health/timer-port.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/events.js';
import {
  initialInstance,
  nextDeadline,
  step,
  type InstanceState,
  type PeerAdvert,
  type TransitionCause,
  type VrrpEffect,
  type VrrpEvent,
} from './fsm.js';

/** What the runner sends; the channel adds authentication, sender id and counter. */
export interface OutgoingAdvert {
  readonly vrid: number;
  readonly priority: number;
  readonly advertIntMs: number;
  readonly restarting: boolean;
  readonly addresses: readonly string[];
}

/** The advert channel: encode + authenticate + transport, and the reverse (already checked). */
export interface AdvertChannel {
  send(advert: OutgoingAdvert): void;
}

export interface AddressPort {
  add(a: VirtualAddress): Promise<void>;
  remove(a: VirtualAddress): Promise<void>;
  holds(a: VirtualAddress): Promise<boolean>;
}

export interface AnnouncePort {
  /** Gratuitous ARP (IPv4) / unsolicited NA (IPv6) for an address just taken over. */
  announce(a: VirtualAddress, delayMs: number, repeat: number): void;
}

export interface RunnerDeps {
  readonly channel: AdvertChannel;
  readonly addresses: AddressPort;
  readonly announce: AnnouncePort;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly timers: TimerPort;
  /** This director's primary address on the instance's interface (the tie-break). */
  readonly primaryAddress: string;
  readonly restartGraceMs?: number;
  /** Called on every transition (sync groups, sync daemon role, notify hooks). */
  readonly onTransition?: (
    to: InstanceState['state'],
    runner: VrrpInstanceRunner,
    cause: TransitionCause,
  ) => void;
}

export class VrrpInstanceRunner {
  private s: InstanceState;
  private timer: TimerHandle;
  /** Address work is serialised so an add and a remove never race. */
  private work: Promise<void> = Promise.resolve();
  /** Address jobs queued so far; a job that is no longer the newest when its turn comes is skipped. */
  private jobs = 0;

  constructor(
    readonly config: VrrpInstanceConfig,
    private readonly deps: RunnerDeps,
  ) {
    this.s = initialInstance({
      priority: config.priority,
      advertIntMs: config.advertIntMs,
      preempt: config.preempt,
      preemptDelayMs: config.preemptDelayMs,
      primaryAddress: deps.primaryAddress,
      peers: Math.max(1, config.unicastPeers.length),
      restartGraceMs: deps.restartGraceMs ?? 10_000,
    });
  }

  get state(): InstanceState {
    return this.s;
  }

  async start(): Promise<void> {
    const held = await Promise.all(
      this.config.virtualAddresses.map((a) => this.deps.addresses.holds(a)),
    );
    this.feed({ type: 'start', holdsAddresses: held.length > 0 && held.every(Boolean) });
  }

  /** An authenticated advert for this VRID from `from`. */
  onAdvert(advert: PeerAdvert): void {
    this.feed({ type: 'advert', advert });
  }

  setTracking(priority: number, fault: boolean): void {
    this.feed({ type: 'track', priority, fault });
  }

  force(to: 'master' | 'backup' | 'fault'): void {
    this.feed({ type: 'force', to });
  }

  /** Stops the instance; resolves when the addresses are handled. */
  async stop(restarting = false): Promise<void> {
    this.feed({ type: 'stop', restarting });
    this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.work;
  }

  /** Resolves when pending address changes are done (tests). */
  settle(): Promise<void> {
    return this.work;
  }

  private feed(e: VrrpEvent): void {
    const now = this.deps.clock.monotonicMs();
    const t = step(this.s, e, now);
    const before = this.s;
    this.s = t.state;
    for (const eff of t.effects) this.perform(eff, before, e);
    this.arm();
  }

  private arm(): void {
    this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const at = nextDeadline(this.s);
    if (at === null || this.s.state === 'stopped') return;
    const delay = Math.max(0, at - this.deps.clock.monotonicMs());
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      this.feed({ type: 'tick' });
    }, delay);
  }

  private perform(eff: VrrpEffect, before: InstanceState, cause: VrrpEvent): void {
    const c = this.config;
    switch (eff.kind) {
      case 'send-advert':
        this.deps.channel.send({
          vrid: c.virtualRouterId,
          priority: eff.priority,
          advertIntMs: c.advertIntMs,
          restarting: eff.restarting,
          addresses: c.virtualAddresses.map((a) => a.address),
        });
        return;
      case 'priority':
        this.deps.bus.publish(
          'vrrp.priority',
          c.name,
          { kind: 'vrrp' },
          {
            instance: c.name,
            from: eff.from,
            to: eff.to,
            reason: cause.type === 'track' ? 'tracking' : cause.type,
          },
        );
        return;
      case 'transition': {
        this.deps.bus.publish(
          'vrrp.transition',
          c.name,
          { kind: eff.cause === 'stop' ? 'signal' : 'vrrp', detail: eff.cause },
          {
            instance: c.name,
            from: eff.from,
            to: eff.to,
            cause: eff.cause,
            ...(eff.peer === undefined ? {} : { peer: eff.peer }),
            priority: this.s.effectivePriority,
          },
        );
        const restarting = cause.type === 'stop' && cause.restarting;
        if (eff.to === 'master') this.queue(() => this.takeAddresses());
        else if (
          !restarting &&
          (before.state === 'master' ||
            eff.from === 'init' ||
            eff.to === 'fault' ||
            eff.to === 'stopped')
        )
          this.queue(() => this.releaseAddresses());
        this.deps.onTransition?.(eff.to, this, eff.cause);
        return;
      }
    }
  }

  /**
   * Only the newest queued job runs: while an `ip addr` is slow (a loaded or emulated host:
   * seconds each in the IPVS VM), transitions that come and go behind it (BACKUP and MASTER
   * again) would otherwise replay every add and remove, with the VIP away in between. The job
   * that runs last is always the one for the state the instance is in.
   */
  private queue(job: () => Promise<void>): void {
    const mine = ++this.jobs;
    const run = (): Promise<void> | undefined => (mine === this.jobs ? job() : undefined);
    this.work = this.work.then(run).catch((err: unknown) => {
      this.deps.bus.publish(
        'vrrp.warning',
        this.config.name,
        { kind: 'network' },
        {
          instance: this.config.name,
          message: `address change failed: ${err instanceof Error ? err.message : String(err)}`,
        },
      );
    });
  }

  private async takeAddresses(): Promise<void> {
    const c = this.config;
    for (const a of [...c.virtualAddresses, ...c.excludedAddresses]) {
      await this.deps.addresses.add(a);
      this.deps.bus.publish(
        'vrrp.address',
        c.name,
        { kind: 'vrrp' },
        { instance: c.name, address: `${a.address}/${a.prefix}`, dev: a.dev, action: 'added' },
      );
      this.deps.announce.announce(a, c.garpMasterDelayMs, c.garpMasterRepeat);
    }
  }

  private async releaseAddresses(): Promise<void> {
    const c = this.config;
    for (const a of [...c.virtualAddresses, ...c.excludedAddresses]) {
      if (!(await this.deps.addresses.holds(a))) continue;
      await this.deps.addresses.remove(a);
      this.deps.bus.publish(
        'vrrp.address',
        c.name,
        { kind: 'vrrp' },
        { instance: c.name, address: `${a.address}/${a.prefix}`, dev: a.dev, action: 'removed' },
      );
    }
  }
}
