/**
 * From one event to what keepalived would have done about it: which notify scripts run with
 * which argv, and which lines go to the VRRP and LVS notify FIFOs (keepalived vrrp_notify.c,
 * check/ipwrapper.c). Pure: the planner keeps the last known states so it can skip repeats
 * and replay every state after a reload; it never runs anything.
 *
 * argv, as keepalived builds it:
 * - notify_master / _backup / _fault / _stop, notify_up / _down, quorum_up / _down: the
 *   configured words exactly, nothing appended;
 * - the generic `notify`: the configured words, then `INSTANCE|GROUP`, the name, the state
 *   (MASTER, BACKUP, FAULT, STOP) and the priority (the effective priority; 0 for a group).
 * The specific script is queued before the generic one, as keepalived starts them.
 */
import type { Config, NotifyConfig, Script } from '../config/types.js';
import type { AnyEvent } from '../lib/events.js';
import {
  keepalivedRsName,
  keepalivedState,
  keepalivedVsName,
  rsLine,
  vrrpPriorityLine,
  vrrpStateLine,
  vsLine,
  type KeepalivedState,
} from './fifo-line.js';
import { SyncGroupStates } from './sync-group-state.js';

export interface NotifyRun {
  /** The queue this run waits in: scripts of one subject run in event order. */
  readonly queue: string;
  readonly script: Script;
  readonly argv: readonly string[];
  /** Which keyword it comes from, for logs and metrics: `notify_master`, `notify`, … */
  readonly hook: HookKind;
}

export type HookKind =
  | 'notify_master'
  | 'notify_backup'
  | 'notify_fault'
  | 'notify_stop'
  | 'notify'
  | 'notify_up'
  | 'notify_down'
  | 'quorum_up'
  | 'quorum_down';

export interface NotifyPlan {
  readonly runs: readonly NotifyRun[];
  readonly vrrpLines: readonly string[];
  readonly lvsLines: readonly string[];
}

const EMPTY: NotifyPlan = { runs: [], vrrpLines: [], lvsLines: [] };

interface RsHooks {
  readonly up?: Script;
  readonly down?: Script;
  readonly fifoRs: string;
  readonly fifoVs: string;
  /** keepalived's alpha: the server starts down, so a first failure is no change. */
  readonly startsDown: boolean;
}

interface VsHooks {
  readonly up?: Script;
  readonly down?: Script;
  readonly fifoVs: string;
}

const SPECIFIC: Record<KeepalivedState, { key: keyof NotifyConfig; hook: HookKind }> = {
  MASTER: { key: 'master', hook: 'notify_master' },
  BACKUP: { key: 'backup', hook: 'notify_backup' },
  FAULT: { key: 'fault', hook: 'notify_fault' },
  STOP: { key: 'stop', hook: 'notify_stop' },
};

export function genericArgv(
  script: Script,
  type: 'INSTANCE' | 'GROUP',
  name: string,
  state: KeepalivedState,
  priority: number,
): string[] {
  return [...script.argv, type, name, state, String(type === 'GROUP' ? 0 : priority)];
}

function vrrpRuns(
  notify: NotifyConfig,
  type: 'INSTANCE' | 'GROUP',
  name: string,
  state: KeepalivedState,
  priority: number,
): NotifyRun[] {
  const queue = `${type === 'GROUP' ? 'group' : 'instance'}:${name}`;
  const runs: NotifyRun[] = [];
  const { key, hook } = SPECIFIC[state];
  const specific = notify[key];
  if (specific) runs.push({ queue, script: specific, argv: specific.argv, hook });
  const generic = notify.generic;
  if (generic)
    runs.push({
      queue,
      script: generic,
      argv: genericArgv(generic, type, name, state, priority),
      hook: 'notify',
    });
  return runs;
}

export class NotifyPlanner {
  private instances = new Map<string, NotifyConfig>();
  /** Instances with keepalived's notify_priority_changes (FIFO lines for priority changes). */
  private priorityLines = new Set<string>();
  private groups = new Map<string, NotifyConfig>();
  private realServers = new Map<string, RsHooks>();
  private virtualServers = new Map<string, VsHooks>();
  private readonly groupStates = new SyncGroupStates();
  private readonly instanceStates = new Map<string, { state: KeepalivedState; priority: number }>();
  private readonly rsUp = new Map<string, boolean>();
  private readonly vsUp = new Map<string, boolean>();
  private instanceOrder: readonly string[] = [];

  constructor(config: Config) {
    this.configure(config);
  }

  configure(config: Config): void {
    this.instances = new Map(config.vrrpInstances.map((i) => [i.name, i.notify]));
    this.priorityLines = new Set(
      config.vrrpInstances.filter((i) => i.notifyPriorityChanges).map((i) => i.name),
    );
    this.instanceOrder = config.vrrpInstances.map((i) => i.name);
    this.groups = new Map(config.vrrpSyncGroups.map((g) => [g.name, g.notify]));
    this.groupStates.configure(config.vrrpSyncGroups);
    this.realServers = new Map();
    this.virtualServers = new Map();
    for (const vs of config.virtualServers) {
      const fifoVs = keepalivedVsName(vs);
      this.virtualServers.set(vs.name, {
        fifoVs,
        ...(vs.quorumUp ? { up: vs.quorumUp } : {}),
        ...(vs.quorumDown ? { down: vs.quorumDown } : {}),
      });
      for (const rs of vs.realServers)
        this.realServers.set(`${vs.name}/${rs.name}`, {
          fifoRs: keepalivedRsName(vs, rs),
          fifoVs,
          startsDown: rs.health.alpha,
          ...(rs.notifyUp ? { up: rs.notifyUp } : {}),
          ...(rs.notifyDown ? { down: rs.notifyDown } : {}),
        });
    }
    for (const name of [...this.instanceStates.keys()])
      if (!this.instances.has(name)) this.instanceStates.delete(name);
  }

  plan(event: AnyEvent): NotifyPlan {
    switch (event.name) {
      case 'vrrp.transition':
        return this.transition(event.data.instance, event.data.to, event.data.priority);
      case 'vrrp.priority':
        return this.priority(event.data.instance, event.data.to);
      case 'rs.up':
        return this.realServer(event.data.vs, event.data.rs, true);
      case 'rs.down':
        return this.realServer(event.data.vs, event.data.rs, false);
      case 'vs.quorum_up':
        return this.quorum(event.data.vs, true);
      case 'vs.quorum_down':
        return this.quorum(event.data.vs, false);
      default:
        return EMPTY;
    }
  }

  /**
   * Every known VRRP state again, instances then groups: keepalived's FIFO readers lose track
   * of state across a reload (fifo_write_vrrp_states_on_reload); lvsd always re-reports.
   */
  replayVrrpLines(): string[] {
    const lines: string[] = [];
    for (const name of this.instanceOrder) {
      const s = this.instanceStates.get(name);
      if (s) lines.push(vrrpStateLine('INSTANCE', name, s.state, s.priority));
    }
    for (const g of this.groupStates.known()) lines.push(vrrpStateLine('GROUP', g.group, g.to, 0));
    return lines;
  }

  private transition(instance: string, to: string, priority: number): NotifyPlan {
    const state = keepalivedState(to);
    const notify = this.instances.get(instance);
    if (state === undefined || notify === undefined) return EMPTY;
    const previous = this.instanceStates.get(instance);
    this.instanceStates.set(instance, { state, priority });
    if (previous?.state === state) return EMPTY;
    const runs = vrrpRuns(notify, 'INSTANCE', instance, state, priority);
    const vrrpLines = [vrrpStateLine('INSTANCE', instance, state, priority)];
    const change = this.groupStates.member(instance, state);
    if (change) {
      runs.push(
        ...vrrpRuns(this.groups.get(change.group) ?? {}, 'GROUP', change.group, change.to, 0),
      );
      vrrpLines.push(vrrpStateLine('GROUP', change.group, change.to, 0));
    }
    return { runs, vrrpLines, lvsLines: [] };
  }

  private priority(instance: string, to: number): NotifyPlan {
    const s = this.instanceStates.get(instance);
    if (s === undefined || s.state === 'STOP' || s.state === 'FAULT') return EMPTY;
    s.priority = to;
    // keepalived writes these lines only with (vrrp_)notify_priority_changes.
    if (!this.priorityLines.has(instance)) return EMPTY;
    return {
      runs: [],
      vrrpLines: [vrrpPriorityLine(instance, s.state === 'MASTER', to)],
      lvsLines: [],
    };
  }

  private realServer(vs: string, rs: string, up: boolean): NotifyPlan {
    const key = `${vs}/${rs}`;
    const hooks = this.realServers.get(key);
    if (hooks === undefined) return EMPTY;
    const was = this.rsUp.get(key) ?? !hooks.startsDown;
    this.rsUp.set(key, up);
    if (was === up) return EMPTY;
    const script = up ? hooks.up : hooks.down;
    const runs: NotifyRun[] = script
      ? [{ queue: `rs:${key}`, script, argv: script.argv, hook: up ? 'notify_up' : 'notify_down' }]
      : [];
    return { runs, vrrpLines: [], lvsLines: [rsLine(hooks.fifoRs, hooks.fifoVs, up)] };
  }

  private quorum(vs: string, up: boolean): NotifyPlan {
    const hooks = this.virtualServers.get(vs);
    if (hooks === undefined) return EMPTY;
    if (this.vsUp.get(vs) === up) return EMPTY;
    this.vsUp.set(vs, up);
    const script = up ? hooks.up : hooks.down;
    const runs: NotifyRun[] = script
      ? [{ queue: `vs:${vs}`, script, argv: script.argv, hook: up ? 'quorum_up' : 'quorum_down' }]
      : [];
    return { runs, vrrpLines: [], lvsLines: [vsLine(hooks.fifoVs, up)] };
  }
}
