/**
 * A vrrp_sync_group's own state, for its notify scripts and FIFO lines (keepalived vrrp_sync.c):
 * the group takes a state the moment its first member enters it (that member then drags the
 * others along), and reaches STOP only when every member has stopped. Pure. Used twice, on the
 * same transitions: by the notify planner (group scripts and FIFO lines) and by the VRRP
 * service, which publishes each change as `vrrp.sync_group`.
 */
import type { EventPayloads } from '../lib/events.js';
import type { KeepalivedState } from './fifo-line.js';

export interface GroupChange {
  readonly group: string;
  readonly to: KeepalivedState;
  /** The group's state before (undefined: none yet); set on changes `member` returns. */
  readonly from?: KeepalivedState;
}

export class SyncGroupStates {
  private readonly groupOf = new Map<string, string>();
  private readonly members = new Map<string, readonly string[]>();
  private readonly states = new Map<string, KeepalivedState>();
  private readonly memberStates = new Map<string, KeepalivedState>();

  /** Reload: keep the state of groups that survive, forget the rest. */
  configure(
    groups: readonly { readonly name: string; readonly members: readonly string[] }[],
  ): void {
    this.groupOf.clear();
    this.members.clear();
    for (const g of groups) {
      if (g.members.length === 0) continue; // keepalived drops an empty group
      this.members.set(g.name, g.members);
      for (const m of g.members) this.groupOf.set(m, g.name);
    }
    for (const name of [...this.states.keys()])
      if (!this.members.has(name)) this.states.delete(name);
  }

  /** A member instance entered `to`; returns the group's change, if any. */
  member(instance: string, to: KeepalivedState): GroupChange | undefined {
    this.memberStates.set(instance, to);
    const group = this.groupOf.get(instance);
    if (group === undefined) return undefined;
    if (to === 'STOP') {
      const all = (this.members.get(group) ?? []).every((m) => this.memberStates.get(m) === 'STOP');
      if (!all || this.states.get(group) === 'STOP') return undefined;
    } else if (this.states.get(group) === to) return undefined;
    const from = this.states.get(group);
    this.states.set(group, to);
    return from === undefined ? { group, to } : { group, to, from };
  }

  groupFor(instance: string): string | undefined {
    return this.groupOf.get(instance);
  }

  /** Every group with a known state, in config order (the reload replay). */
  known(): GroupChange[] {
    const out: GroupChange[] = [];
    for (const group of this.members.keys()) {
      const to = this.states.get(group);
      if (to !== undefined) out.push({ group, to });
    }
    return out;
  }
}

const LVSD_STATE = {
  MASTER: 'master',
  BACKUP: 'backup',
  FAULT: 'fault',
  STOP: 'stopped',
} as const satisfies Record<KeepalivedState, string>;

/** The `vrrp.sync_group` payload of a change, in lvsd's state names (as vrrp.transition). */
export function syncGroupEvent(
  change: GroupChange,
  instance: string,
  cause: string,
): EventPayloads['vrrp.sync_group'] {
  return {
    group: change.group,
    from: change.from === undefined ? null : LVSD_STATE[change.from],
    to: LVSD_STATE[change.to],
    instance,
    cause,
  };
}
