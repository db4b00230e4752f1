/**
 * The daemon's health bookkeeping: one pure health machine per real server and one quorum
 * state per virtual server, fed with check results; their effects become events, retry
 * requests for the scheduler, and slow-start wake-ups. The desired table reads placements from
 * here. Only the ramp timers make this shell code; all decisions are in health/fsm and quorum.
 */
import type { Config, RealServerConfig, VirtualServerConfig } from '../config/index.js';
import type { NextRun } from '../health/check-run.js';
import {
  desired,
  initialState,
  quorumWeight,
  reconfigure,
  step,
  type CheckOutcome,
  type HealthEffect,
  type RealServerState,
} from '../health/fsm.js';
import {
  initialQuorum,
  liveWeightSum,
  stepQuorum,
  type QuorumEffect,
  type QuorumPolicy,
  type QuorumState,
} from '../health/quorum.js';
import type { TimerHandle, TimerPort } from '../health/timer-port.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/events.js';
import type { RealServerPlacement } from '../ipvs/desired.js';
import { realServerPolicy } from './probes.js';

/** Updated in place on every result (one object per real server, not one per check run). */
export interface LastResult {
  checker: string;
  ok: boolean;
  code: string;
  reason: string;
  latencyMs: number;
  atWall: number;
}

export interface RealServerRecord {
  vs: VirtualServerConfig;
  rs: RealServerConfig;
  state: RealServerState;
  /** Wall-clock ms of the last up/down change (or of the start). */
  sinceWall: number;
  last?: LastResult;
  rampTimer?: TimerHandle;
}

interface VsRecord {
  vs: VirtualServerConfig;
  policy: QuorumPolicy;
  quorum: QuorumState;
}

/**
 * Told of every check result, whether or not it changes anything (metrics' check latency). A
 * narrow port instead of events: results are thousands a second, the stream carries changes.
 * The book asks once per check for its series and keeps it (on the check's slot), so a result
 * costs no look-up; a series the observer dropped reports `live` false and is asked for again.
 * `observe` runs on the check hot path: it must be cheap, must not keep `outcome`, and its
 * errors are swallowed rather than break the health machines.
 */
export interface CheckSeries {
  readonly live: boolean;
  observe(outcome: CheckOutcome): void;
}

export interface CheckObserver {
  seriesFor(vs: string, checkId: string): CheckSeries;
}

/**
 * One check's handle into the book, stable across reloads while the check id stays configured.
 * The daemon keeps it on its scheduled check, so a result reaches its real server without a
 * look-up by id (bench/probe-cpu).
 */
export class CheckSlot {
  /** The real server the check belongs to; undefined until configured or once removed. */
  rec: RealServerRecord | undefined = undefined;
  /** The observer's series for this check, fetched on first use. */
  series: CheckSeries | undefined = undefined;

  constructor(readonly checkId: string) {}
}

export function rsKey(vs: string, rs: string): string {
  return `${vs}/${rs}`;
}

/** Event payloads and subjects are built only when an event is published: almost every result
 * changes nothing, and building them up front cost allocations per check (bench/probe-cpu). */
function latencyOf(outcome: CheckOutcome | undefined): { latencyMs?: number } {
  return outcome ? { latencyMs: outcome.latencyMs } : {};
}

export class HealthBook {
  private readonly servers = new Map<string, RealServerRecord>();
  private readonly vss = new Map<string, VsRecord>();
  /** Check id to its slot (the real server's record); the hot path holds the slot itself. */
  private readonly slots = new Map<string, CheckSlot>();
  private observer: CheckObserver | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly timers: TimerPort,
    /** Called whenever the desired table may have changed. */
    private readonly changed: () => void,
  ) {}

  /** Start, or reload: keep the health of real servers that survive, start new ones fresh. */
  sync(config: Config): void {
    const now = this.clock.monotonicMs();
    const seen = new Set<string>();
    const seenChecks = new Set<string>();
    for (const vs of config.virtualServers) {
      for (const rs of vs.realServers) {
        const key = rsKey(vs.name, rs.name);
        seen.add(key);
        const policy = realServerPolicy(rs);
        const old = this.servers.get(key);
        if (!old) {
          const rec: RealServerRecord = {
            vs,
            rs,
            state: initialState(policy),
            sinceWall: this.clock.wallMs(),
          };
          this.servers.set(key, rec);
          this.attach(rs, rec, seenChecks);
          continue;
        }
        this.attach(rs, old, seenChecks);
        old.vs = vs;
        old.rs = rs;
        if (JSON.stringify(old.state.policy) !== JSON.stringify(policy)) {
          const t = reconfigure(old.state, policy, now);
          old.state = t.state;
          this.perform(old, t.effects, undefined);
        }
      }
    }
    for (const [id, slot] of this.slots) {
      if (seenChecks.has(id)) continue;
      slot.rec = undefined;
      this.slots.delete(id);
    }
    for (const [key, rec] of this.servers) {
      if (seen.has(key)) continue;
      this.timers.clearTimeout(rec.rampTimer);
      this.servers.delete(key);
    }
    const seenVs = new Set<string>();
    for (const vs of config.virtualServers) {
      seenVs.add(vs.name);
      const policy: QuorumPolicy = {
        quorum: vs.quorum,
        hysteresis: vs.hysteresis,
        sorryServer: vs.sorryServer ? `${vs.sorryServer.address}:${vs.sorryServer.port}` : null,
      };
      const old = this.vss.get(vs.name);
      if (old) {
        old.vs = vs;
        old.policy = policy;
        this.updateQuorum(old);
      } else {
        const t = initialQuorum(policy, this.liveWeight(vs.name));
        const rec = { vs, policy, quorum: t.state };
        this.vss.set(vs.name, rec);
        this.quorumEvents(rec, t.effects);
      }
    }
    for (const name of [...this.vss.keys()]) if (!seenVs.has(name)) this.vss.delete(name);
    this.changed();
  }

  /** Who is told of every check result (undefined: nobody). */
  observeChecks(observer: CheckObserver | undefined): void {
    this.observer = observer;
    for (const slot of this.slots.values()) slot.series = undefined;
  }

  /**
   * The slot of a check id, for the caller to keep (the daemon's scheduled check). Created
   * empty if the id is not configured yet; `sync` fills it, or drops it if the id never is.
   */
  slotFor(checkId: string): CheckSlot {
    let slot = this.slots.get(checkId);
    if (slot === undefined) {
      slot = new CheckSlot(checkId);
      this.slots.set(checkId, slot);
    }
    return slot;
  }

  /** One check result by check id (tests, callers without a slot). */
  onResult(checkId: string, outcome: CheckOutcome): NextRun | undefined {
    const slot = this.slots.get(checkId);
    return slot === undefined ? undefined : this.onSlotResult(slot, outcome);
  }

  /**
   * One check result; returns a retry request for the scheduler, if the machine wants one.
   * `nowMs`: the monotonic time of the result, when the caller has already read it.
   */
  onSlotResult(
    slot: CheckSlot,
    outcome: CheckOutcome,
    nowMs: number = this.clock.monotonicMs(),
  ): NextRun | undefined {
    const rec = slot.rec;
    if (rec === undefined) return undefined;
    const checkId = slot.checkId;
    const observer = this.observer;
    if (observer !== undefined) {
      try {
        let series = slot.series;
        if (series === undefined || !series.live) {
          series = observer.seriesFor(rec.vs.name, checkId);
          slot.series = series;
        }
        series.observe(outcome);
      } catch {
        // Metrics are not worth a health decision.
      }
    }
    const last = (rec.last ??= {
      checker: '',
      ok: false,
      code: '',
      reason: '',
      latencyMs: 0,
      atWall: 0,
    });
    last.checker = checkId;
    last.ok = outcome.ok;
    last.code = outcome.code;
    last.reason = outcome.reason;
    last.latencyMs = outcome.latencyMs;
    last.atWall = this.clock.wallMs();
    const t = step(rec.state, { type: 'result', checker: checkId, outcome }, nowMs);
    rec.state = t.state;
    return this.perform(rec, t.effects, outcome);
  }

  placement(vs: VirtualServerConfig, rs: RealServerConfig): RealServerPlacement {
    const rec = this.servers.get(rsKey(vs.name, rs.name));
    if (!rec) return { kind: 'present', weight: rs.weight };
    return desired(rec.state);
  }

  quorumUp(vs: VirtualServerConfig): boolean {
    return this.vss.get(vs.name)?.quorum.up ?? true;
  }

  records(): IterableIterator<RealServerRecord> {
    return this.servers.values();
  }

  stop(): void {
    for (const rec of this.servers.values()) this.timers.clearTimeout(rec.rampTimer);
  }

  /** Points the slots of a real server's checks at its record (sync). */
  private attach(rs: RealServerConfig, rec: RealServerRecord, seenChecks: Set<string>): void {
    for (const c of rs.checks) {
      const slot = this.slotFor(c.id);
      slot.rec = rec;
      slot.series = undefined;
      seenChecks.add(c.id);
    }
  }

  private perform(
    rec: RealServerRecord,
    effects: readonly HealthEffect[],
    outcome: CheckOutcome | undefined,
  ): NextRun | undefined {
    let next: NextRun | undefined;
    let tableChanged = false;
    for (const e of effects) {
      switch (e.kind) {
        case 'up':
          rec.sinceWall = this.clock.wallMs();
          tableChanged = true;
          this.bus.publish(
            'rs.up',
            rsKey(rec.vs.name, rec.rs.name),
            { kind: e.checker === 'reload' ? 'config' : 'check', detail: e.reason },
            {
              vs: rec.vs.name,
              rs: rec.rs.name,
              weight: e.weight,
              checker: e.checker,
              code: e.code,
              reason: e.reason,
              ...latencyOf(outcome),
            },
          );
          break;
        case 'down':
          if (e.changed) rec.sinceWall = this.clock.wallMs();
          tableChanged = true;
          this.bus.publish(
            'rs.down',
            rsKey(rec.vs.name, rec.rs.name),
            { kind: e.checker === 'reload' ? 'config' : 'check', detail: e.reason },
            {
              vs: rec.vs.name,
              rs: rec.rs.name,
              checker: e.checker,
              code: e.code,
              reason: e.reason,
              removed: rec.rs.onFailure === 'remove',
              ...latencyOf(outcome),
            },
          );
          break;
        case 'weight':
          tableChanged = true;
          this.bus.publish(
            'rs.weight',
            rsKey(rec.vs.name, rec.rs.name),
            { kind: 'check', detail: e.reason },
            {
              vs: rec.vs.name,
              rs: rec.rs.name,
              weight: e.weight,
              previous: e.previous,
              reason: e.reason,
            },
          );
          break;
        case 'checker':
          this.bus.publish(
            'rs.checker',
            rsKey(rec.vs.name, rec.rs.name),
            { kind: 'check', detail: e.reason },
            {
              vs: rec.vs.name,
              rs: rec.rs.name,
              checker: e.checker,
              health: e.health,
              reason: e.reason,
            },
          );
          break;
        case 'schedule-check':
          if (e.timing === 'retry') next = { retryAfterMs: e.delayMs };
          break;
        case 'schedule-ramp':
          this.armRamp(rec, e.atMs);
          break;
      }
    }
    if (tableChanged) {
      const vs = this.vss.get(rec.vs.name);
      if (vs) this.updateQuorum(vs);
      this.changed();
    }
    return next;
  }

  private armRamp(rec: RealServerRecord, atMs: number): void {
    this.timers.clearTimeout(rec.rampTimer);
    const delay = Math.max(0, atMs - this.clock.monotonicMs());
    rec.rampTimer = this.timers.setTimeout(() => {
      rec.rampTimer = undefined;
      if (this.servers.get(rsKey(rec.vs.name, rec.rs.name)) !== rec) return;
      const t = step(rec.state, { type: 'ramp' }, this.clock.monotonicMs());
      rec.state = t.state;
      this.perform(rec, t.effects, undefined);
    }, delay);
  }

  private liveWeight(vsName: string): number {
    const weights: number[] = [];
    for (const rec of this.servers.values())
      if (rec.vs.name === vsName) weights.push(quorumWeight(rec.state));
    return liveWeightSum(weights);
  }

  private updateQuorum(rec: VsRecord): void {
    const t = stepQuorum(rec.quorum, rec.policy, this.liveWeight(rec.vs.name));
    rec.quorum = t.state;
    this.quorumEvents(rec, t.effects);
  }

  private quorumEvents(rec: VsRecord, effects: readonly QuorumEffect[]): void {
    for (const e of effects) {
      if (e.kind === 'quorum-up') {
        this.bus.publish(
          'vs.quorum_up',
          rec.vs.name,
          { kind: 'quorum', detail: e.reason },
          { vs: rec.vs.name, liveWeight: e.weightSum, quorum: e.threshold },
        );
      } else if (e.kind === 'quorum-down') {
        this.bus.publish(
          'vs.quorum_down',
          rec.vs.name,
          { kind: 'quorum', detail: e.reason },
          {
            vs: rec.vs.name,
            liveWeight: e.weightSum,
            quorum: e.threshold,
            ...(rec.policy.sorryServer ? { sorryServer: rec.policy.sorryServer } : {}),
          },
        );
      }
    }
    if (effects.length > 0) this.changed();
  }
}
