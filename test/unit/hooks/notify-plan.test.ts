import { describe, expect, it } from 'vitest';
import { NotifyPlanner } from '../../../src/hooks/notify-plan.js';
import { eventMaker, hooksConfig } from './fixtures.js';

const ev = eventMaker();
const transition = (instance: string, from: string, to: string, priority = 100) =>
  ev('vrrp.transition', instance, { instance, from, to, cause: 'test', priority });

describe('VRRP notify argv (keepalived vrrp_notify.c)', () => {
  it('runs the specific script with its own words only, then the generic one with type, name, state, priority', () => {
    const p = new NotifyPlanner(hooksConfig());
    const plan = p.plan(transition('VI_1', 'backup', 'master', 100));
    expect(plan.runs.map((r) => [r.hook, r.queue, r.argv])).toEqual([
      ['notify_master', 'instance:VI_1', ['/usr/local/bin/to-master', 'two words', 'x']],
      [
        'notify',
        'instance:VI_1',
        ['/usr/local/bin/notify-all', 'INSTANCE', 'VI_1', 'MASTER', '100'],
      ],
      ['notify_master', 'group:G1', ['/usr/local/bin/group-master', '--quiet']],
      ['notify', 'group:G1', ['/usr/local/bin/notify-all', 'GROUP', 'G1', 'MASTER', '0']],
    ]);
    expect(plan.vrrpLines).toEqual(['INSTANCE "VI_1" MASTER 100\n', 'GROUP "G1" MASTER 0\n']);
  });

  it('maps every lvsd state to keepalived’s word; INIT has no notify', () => {
    const p = new NotifyPlanner(hooksConfig());
    expect(p.plan(transition('VI_1', 'init', 'init')).runs).toEqual([]);
    const states: [string, string, string][] = [
      ['backup', 'notify_backup', 'BACKUP'],
      ['fault', 'notify_fault', 'FAULT'],
      ['master', 'notify_master', 'MASTER'],
      ['stopped', 'notify_stop', 'STOP'],
    ];
    for (const [to, hook, word] of states) {
      const plan = p.plan(transition('VI_1', 'x', to, 90));
      expect(plan.runs[0]?.hook).toBe(hook);
      expect(plan.runs[1]?.argv.slice(-2)).toEqual([word, '90']);
    }
  });

  it('the effective priority is the one reported with the transition', () => {
    const p = new NotifyPlanner(hooksConfig());
    const plan = p.plan(transition('VI_1', 'init', 'backup', 77));
    expect(plan.runs[1]?.argv).toEqual([
      '/usr/local/bin/notify-all',
      'INSTANCE',
      'VI_1',
      'BACKUP',
      '77',
    ]);
  });

  it('a repeated state is not notified again; an instance without scripts still gets FIFO lines', () => {
    const p = new NotifyPlanner(hooksConfig());
    expect(p.plan(transition('VI_2', 'init', 'backup', 90)).vrrpLines).toEqual([
      'INSTANCE "VI_2" BACKUP 90\n',
      'GROUP "G1" BACKUP 0\n',
    ]);
    expect(p.plan(transition('VI_2', 'backup', 'backup', 90))).toEqual({
      runs: [],
      vrrpLines: [],
      lvsLines: [],
    });
  });

  it('the group follows its first member and stops only when all members stopped', () => {
    const p = new NotifyPlanner(hooksConfig());
    p.plan(transition('VI_1', 'init', 'backup'));
    expect(p.plan(transition('VI_2', 'init', 'backup', 90)).vrrpLines).toEqual([
      'INSTANCE "VI_2" BACKUP 90\n',
    ]);
    expect(p.plan(transition('VI_1', 'backup', 'stopped')).vrrpLines).toEqual([
      'INSTANCE "VI_1" STOP 100\n',
    ]);
    expect(p.plan(transition('VI_2', 'backup', 'stopped', 90)).vrrpLines).toEqual([
      'INSTANCE "VI_2" STOP 90\n',
      'GROUP "G1" STOP 0\n',
    ]);
  });

  it('priority changes: no FIFO line unless notify_priority_changes (keepalived)', () => {
    const p = new NotifyPlanner(hooksConfig());
    p.plan(transition('VI_1', 'init', 'backup'));
    expect(
      p.plan(ev('vrrp.priority', 'VI_1', { instance: 'VI_1', from: 100, to: 90, reason: 'x' })),
    ).toEqual({ runs: [], vrrpLines: [], lvsLines: [] });
  });

  it('priority changes go to the FIFO only, as MASTER_PRIORITY or BACKUP_PRIORITY', () => {
    const base = hooksConfig();
    const p = new NotifyPlanner({
      ...base,
      vrrpInstances: base.vrrpInstances.map((i) => ({ ...i, notifyPriorityChanges: true })),
    });
    expect(
      p.plan(ev('vrrp.priority', 'VI_1', { instance: 'VI_1', from: 100, to: 90, reason: 'x' }))
        .vrrpLines,
    ).toEqual([]);
    p.plan(transition('VI_1', 'init', 'backup'));
    expect(
      p.plan(ev('vrrp.priority', 'VI_1', { instance: 'VI_1', from: 100, to: 90, reason: 'x' })),
    ).toEqual({
      runs: [],
      vrrpLines: ['INSTANCE "VI_1" BACKUP_PRIORITY 90\n'],
      lvsLines: [],
    });
    p.plan(transition('VI_1', 'backup', 'master', 90));
    expect(
      p.plan(ev('vrrp.priority', 'VI_1', { instance: 'VI_1', from: 90, to: 80, reason: 'x' }))
        .vrrpLines,
    ).toEqual(['INSTANCE "VI_1" MASTER_PRIORITY 80\n']);
  });

  it('replays every known state after a reload, instances then groups', () => {
    const p = new NotifyPlanner(hooksConfig());
    p.plan(transition('VI_1', 'init', 'master', 100));
    p.plan(transition('VI_2', 'init', 'master', 90));
    p.configure(hooksConfig());
    expect(p.replayVrrpLines()).toEqual([
      'INSTANCE "VI_1" MASTER 100\n',
      'INSTANCE "VI_2" MASTER 90\n',
      'GROUP "G1" MASTER 0\n',
    ]);
  });
});

describe('real server and quorum notifies (keepalived ipwrapper.c)', () => {
  const VS = 'tcp:198.18.0.10:80';
  const up = (rs: string) =>
    ev('rs.up', `${VS}/${rs}`, { vs: VS, rs, weight: 1, checker: 'tcp', code: 'ok', reason: 'ok' });
  const down = (rs: string) =>
    ev('rs.down', `${VS}/${rs}`, {
      vs: VS,
      rs,
      checker: 'tcp',
      code: 'refused',
      reason: 'refused',
      removed: false,
    });

  it('notify_up / notify_down get the configured words only; the FIFO gets keepalived’s RS line', () => {
    const p = new NotifyPlanner(hooksConfig());
    const d = p.plan(down('198.18.1.11:80'));
    expect(d.runs.map((r) => [r.hook, r.queue, r.argv])).toEqual([
      ['notify_down', `rs:${VS}/198.18.1.11:80`, ['/usr/local/bin/rs-down', '198.18.1.11']],
    ]);
    expect(d.lvsLines).toEqual(['RS [198.18.1.11]:tcp:80 [198.18.0.10]:tcp:80 DOWN\n']);
    expect(p.plan(up('198.18.1.11:80')).runs[0]?.argv).toEqual([
      '/usr/local/bin/rs-up',
      '198.18.1.11',
    ]);
  });

  it('a server starts up (keepalived without alpha): a first success is no change', () => {
    const p = new NotifyPlanner(hooksConfig());
    expect(p.plan(up('198.18.1.12:80')).lvsLines).toEqual([]);
    expect(p.plan(down('198.18.1.12:80')).lvsLines).toEqual([
      'RS [198.18.1.12]:tcp:80 [198.18.0.10]:tcp:80 DOWN\n',
    ]);
    expect(p.plan(down('198.18.1.12:80')).lvsLines).toEqual([]);
  });

  it('quorum changes run quorum_up / quorum_down and write VS lines', () => {
    const p = new NotifyPlanner(hooksConfig());
    const plan = p.plan(ev('vs.quorum_down', VS, { vs: VS, liveWeight: 0, quorum: 1 }));
    expect(plan.runs.map((r) => r.argv)).toEqual([['/usr/local/bin/quorum', 'down']]);
    expect(plan.lvsLines).toEqual(['VS [198.18.0.10]:tcp:80 DOWN\n']);
  });

  it('fwmark virtual servers use keepalived’s FWM name and protocol none', () => {
    const p = new NotifyPlanner(hooksConfig());
    const plan = p.plan(
      ev('rs.down', 'fwm:7/198.18.1.13:0', {
        vs: 'fwm:7',
        rs: '198.18.1.13:0',
        checker: 'x',
        code: 'x',
        reason: 'x',
        removed: false,
      }),
    );
    expect(plan.lvsLines).toEqual(['RS [198.18.1.13]:none:0 FWM 7 DOWN\n']);
  });

  it('unknown subjects and other events plan nothing', () => {
    const p = new NotifyPlanner(hooksConfig());
    expect(p.plan(ev('daemon.stopping', 'daemon', { signal: 'SIGTERM' })).runs).toEqual([]);
    expect(p.plan(down('198.18.9.9:80')).lvsLines).toEqual([]);
  });
});
