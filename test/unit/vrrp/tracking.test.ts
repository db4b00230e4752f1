import { describe, expect, it } from 'vitest';
import { effectivePriority, initialScript, stepScript } from '../../../src/vrrp/tracking.js';
import { syncGroupForces, type Member } from '../../../src/vrrp/sync-group.js';

describe('vrrp_script rise/fall', () => {
  it('goes KO after fall failures and OK after rise successes', () => {
    let s = initialScript(false);
    s = stepScript(s, false, 2, 3);
    s = stepScript(s, false, 2, 3);
    expect(s.ok).toBe(true);
    s = stepScript(s, false, 2, 3);
    expect(s.ok).toBe(false);
    s = stepScript(s, true, 2, 3);
    expect(s.ok).toBe(false);
    s = stepScript(s, true, 2, 3);
    expect(s.ok).toBe(true);
  });

  it('init_fail starts KO', () => {
    expect(initialScript(true).ok).toBe(false);
  });

  it('a success resets the failure count', () => {
    let s = initialScript(false);
    for (const r of [false, false, true, false, false]) s = stepScript(s, r, 1, 3);
    expect(s.ok).toBe(true);
  });
});

describe('effective priority', () => {
  it.each([
    [[{ weight: 0, reverse: false, fine: false }], 100, true],
    [[{ weight: 0, reverse: true, fine: true }], 100, true],
    [[{ weight: 20, reverse: false, fine: true }], 120, false],
    [[{ weight: 20, reverse: false, fine: false }], 100, false],
    [[{ weight: -30, reverse: false, fine: false }], 70, false],
    [[{ weight: -30, reverse: true, fine: false }], 100, false],
    [[{ weight: -200, reverse: false, fine: false }], 1, false],
    [[{ weight: 253, reverse: false, fine: true }], 254, false],
  ])('%j -> %i (fault %s)', (items, priority, fault) => {
    expect(effectivePriority(100, items)).toEqual({ priority, fault });
  });

  it('never changes an owner', () => {
    expect(effectivePriority(255, [{ weight: -50, reverse: false, fine: false }])).toEqual({
      priority: 255,
      fault: false,
    });
  });
});

describe('sync groups', () => {
  const m = (name: string, state: Member['state'], ownFault = false): Member => ({
    name,
    state,
    ownFault,
  });

  it('one member to MASTER moves the backups', () => {
    expect(syncGroupForces([m('a', 'master'), m('b', 'backup')], 'a', 'master')).toEqual([
      { member: 'b', to: 'master' },
    ]);
  });

  it('one member to BACKUP moves the masters', () => {
    expect(syncGroupForces([m('a', 'backup'), m('b', 'master')], 'a', 'backup')).toEqual([
      { member: 'b', to: 'backup' },
    ]);
  });

  it('one member to FAULT moves everyone', () => {
    expect(
      syncGroupForces([m('a', 'fault', true), m('b', 'master'), m('c', 'backup')], 'a', 'fault'),
    ).toEqual([
      { member: 'b', to: 'fault' },
      { member: 'c', to: 'fault' },
    ]);
  });

  it('members held in FAULT by the group come back when the faulty one recovers', () => {
    expect(syncGroupForces([m('a', 'backup'), m('b', 'fault')], 'a', 'backup')).toEqual([
      { member: 'b', to: 'backup' },
    ]);
    expect(syncGroupForces([m('a', 'backup'), m('b', 'fault', true)], 'a', 'backup')).toEqual([]);
  });
});
