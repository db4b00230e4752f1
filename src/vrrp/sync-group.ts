/**
 * vrrp_sync_group (keepalived vrrp_sync.c, pure): the members of a group change state
 * together. When one member becomes MASTER the others are moved to MASTER; when one steps down
 * to BACKUP the masters among the others follow; when one enters FAULT all do; a member that
 * was put in FAULT only because of its group returns to BACKUP when no member is faulty.
 */
export type MemberState = 'init' | 'backup' | 'master' | 'fault' | 'stopped';

export interface Member {
  readonly name: string;
  readonly state: MemberState;
  /** Its own tracking says fault (not just the group). */
  readonly ownFault: boolean;
}

export type Force = { readonly member: string; readonly to: 'master' | 'backup' | 'fault' };

export function syncGroupForces(
  members: readonly Member[],
  changed: string,
  to: MemberState,
): Force[] {
  const others = members.filter(
    (m) => m.name !== changed && m.state !== 'stopped' && m.state !== 'init',
  );
  if (to === 'fault')
    return others.filter((m) => m.state !== 'fault').map((m) => ({ member: m.name, to: 'fault' }));
  if (to === 'master')
    return others
      .filter((m) => m.state === 'backup')
      .map((m) => ({ member: m.name, to: 'master' }));
  if (to === 'backup') {
    const forces: Force[] = others
      .filter((m) => m.state === 'master')
      .map((m) => ({ member: m.name, to: 'backup' }));
    // Leaving fault: members held in FAULT by the group alone come back once nobody is faulty.
    const stillFaulty = members.some((m) => m.name !== changed && m.ownFault);
    if (!stillFaulty) {
      for (const m of others)
        if (m.state === 'fault' && !m.ownFault) forces.push({ member: m.name, to: 'backup' });
    }
    return forces;
  }
  return [];
}
