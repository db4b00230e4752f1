/**
 * Notify parity with keepalived 2.2.7 itself (issue 8, ruling 16). keepalived and lvsd run the
 * same VRRP configuration in the director pair's namespaces (director-lab), with the same
 * recording notify script on every notify keyword of the instances (and of the sync group) and
 * a notify FIFO with a reader. For each transition — the peer starts, the subject starts as
 * backup, the peer stops cleanly and the subject becomes master, a tracked interface goes down
 * (fault) and up again, the subject stops; and with a weighted tracked interface on the peer,
 * its effective priority falls below the subject's and comes back (preemption both ways) —
 * both daemons must record the same SET of argv lines (and the same FIFO lines), per director. A pair is keepalived+keepalived or lvsd+lvsd: lvsd's
 * adverts are its own UDP format (docs/heartbeat-protocol.md), so they do not interoperate.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directorLab, type DirectorLab, type Director } from '../../helpers/director-lab.js';
import { probeNetns, hasTool } from '../../helpers/netns.js';
import {
  FifoReader,
  KeepalivedRunner,
  NotifyRecorder,
  asSet,
  makeFifo,
  type KeepalivedHandle,
} from '../../helpers/notify-recorder.js';

const probe = probeNetns();
const ready = probe.ok && hasTool('keepalived');
const ADVERT = 0.1;

type Kind = 'keepalived' | 'lvsd';
type Scenario = 'instance' | 'group' | 'weighted' | 'weighted-prio';

interface Step {
  readonly name: string;
  /** Per director: the notify lines (namespace tag replaced by the director's name), sorted. */
  readonly notify: Record<Director, string[]>;
  readonly fifo: Record<Director, string[]>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Adds the notify keywords (and FIFO, script security) to a config from lab.config(). */
function withNotify(
  text: string,
  rec: NotifyRecorder,
  fifo: string,
  instances: readonly string[],
  group: boolean,
  priorityChanges: boolean,
): string {
  const kw = ['notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'notify'];
  // After script_user: keepalived applies these in file order (before it, it looks for the
  // default user keepalived_script and fails).
  let out = text.replace(
    '  script_user root\n',
    `  script_user root\n  enable_script_security\n  notify_fifo ${fifo}\n${priorityChanges ? '  vrrp_notify_priority_changes true\n' : ''}`,
  );
  for (const i of instances)
    out = out.replace(
      `vrrp_instance ${i} {\n`,
      `vrrp_instance ${i} {\n${kw.map((k) => rec.line(k, `${i}/${k}`)).join('\n')}\n`,
    );
  if (group)
    out = out.replace(
      'vrrp_sync_group LAB {\n',
      `vrrp_sync_group LAB {\n${kw.map((k) => rec.line(k, `LAB/${k}`)).join('\n')}\n`,
    );
  return out;
}

describe.skipIf(!ready)(
  `notify parity: VRRP ${ready ? '' : `(skipped: ${probe.ok ? 'keepalived is not installed' : probe.reason})`}`,
  { timeout: 120_000 },
  () => {
    let lab: DirectorLab;
    let ka: KeepalivedRunner;
    let rec: NotifyRecorder;

    beforeAll(async () => {
      lab = await directorLab('np');
      ka = new KeepalivedRunner(lab.dir);
      rec = new NotifyRecorder(lab.dir);
      // A spare link in dir2 for track_interface (a veth pair inside dir2).
      await lab.net.veth({ ns: lab.ns.dir2, ifname: 'trk0' }, { ns: lab.ns.dir2, ifname: 'trk1' });
      await lab.net.veth({ ns: lab.ns.dir1, ifname: 'trk0' }, { ns: lab.ns.dir1, ifname: 'trk1' });
    }, 30_000);
    afterAll(async () => {
      await ka?.killAll();
      rec?.dispose();
      await lab?.dispose();
    });

    /** Runs the whole sequence with one daemon kind; the lines of each step. */
    async function run(kind: Kind, scenario: Scenario): Promise<Step[]> {
      const group = scenario === 'group';
      const weighted = scenario === 'weighted' || scenario === 'weighted-prio';
      await ka.killAll();
      await lab.reset();
      for (const d of ['dir1', 'dir2'] as const) await lab.ip(d, ['link', 'set', 'trk0', 'up']);
      await rec.take(0, 0, 0);
      const fifos: Record<Director, string> = {
        dir1: join(lab.dir, 'dir1.fifo'),
        dir2: join(lab.dir, 'dir2.fifo'),
      };
      const readers: Record<Director, FifoReader> = {
        dir1: (makeFifo(fifos.dir1), new FifoReader(fifos.dir1)),
        dir2: (makeFifo(fifos.dir2), new FifoReader(fifos.dir2)),
      };
      const instances = group ? ['FRONT', 'BACK'] : ['FRONT'];
      const conf = (d: Director, priority: number): string =>
        withNotify(
          lab.config(d, {
            priority,
            advertInt: ADVERT,
            auth: 'none',
            frontOnly: !group,
            daemon: kind,
            ...(!weighted && d === 'dir2' ? { front: '  track_interface {\n    trk0\n  }' } : {}),
            ...(weighted && d === 'dir1'
              ? { front: '  track_interface {\n    trk0 weight -60\n  }' }
              : {}),
          }),
          rec,
          fifos[d],
          instances,
          group,
          scenario === 'weighted-prio',
        );
      const handles = new Map<Director, KeepalivedHandle>();
      const start = async (d: Director, priority: number): Promise<void> => {
        if (kind === 'keepalived')
          handles.set(d, ka.start(lab.ns[d], d, conf(d, priority), 'vrrp'));
        else await lab.startDaemon(d, conf(d, priority));
      };
      const stop = async (d: Director): Promise<void> => {
        if (kind === 'keepalived') {
          const h = handles.get(d);
          if (h) await ka.stop(h);
        } else await lab.stop(d);
      };
      const tag = (l: string): string =>
        l.replace(lab.ns.dir1, 'dir1').replace(lab.ns.dir2, 'dir2').replace(rec.script, 'SCRIPT');
      const steps: Step[] = [];
      const t0 = Date.now();
      const step = async (name: string, min: number): Promise<void> => {
        const lines = (await rec.take(min)).map(tag);
        const by = (d: Director): string[] =>
          asSet(lines.filter((l) => l.startsWith(`${d} `)).map((l) => l.slice(d.length + 1)));
        const fifo1 = await readers.dir1.take(0, 300, 1_000);
        const fifo2 = await readers.dir2.take(0, 300, 1_000);
        if (process.env.LVSD_PARITY_SHOW === '1')
          console.log(
            `${kind} ${name} (${Date.now() - t0} ms):\n  ${lines.join('\n  ')}\n  ${[...fifo1, ...fifo2].join('\n  ')}`,
          );
        steps.push({
          name,
          notify: { dir1: by('dir1'), dir2: by('dir2') },
          fifo: { dir1: asSet(fifo1), dir2: asSet(fifo2) },
        });
      };
      try {
        // The peer alone: backup at start, master after the master-down timer.
        await start('dir1', 150);
        expect(await lab.waitHolder('dir1', 8_000, group)).toBe(true);
        await step('peer starts and becomes master', 2);
        await start('dir2', 100);
        await sleep(1_000);
        await step('subject starts as backup', 1);
        if (weighted) {
          // dir1's tracked interface (weight -60) goes down: 150 - 60 = 90 < 100, dir2 preempts.
          await lab.ip('dir1', ['link', 'set', 'trk0', 'down']);
          expect(await lab.waitHolder('dir2', 5_000, false)).toBe(true);
          await step('peer loses 60 of priority: subject preempts', 2);
          await lab.ip('dir1', ['link', 'set', 'trk0', 'up']);
          expect(await lab.waitHolder('dir1', 5_000, false)).toBe(true);
          await step('peer regains its priority and preempts back', 2);
          await stop('dir2');
          await step('subject stops', 1);
          await stop('dir1');
          await step('peer stops', 1);
        } else {
          await stop('dir1');
          expect(await lab.waitHolder('dir2', 5_000, group)).toBe(true);
          await step('peer stops, subject becomes master', 2);
          await lab.ip('dir2', ['link', 'set', 'trk0', 'down']);
          expect(await lab.waitHolder('none', 5_000, group)).toBe(true);
          await step('tracked interface down: fault', 1);
          await lab.ip('dir2', ['link', 'set', 'trk0', 'up']);
          expect(await lab.waitHolder('dir2', 5_000, group)).toBe(true);
          await step('tracked interface up: master again', 1);
          await stop('dir2');
          await step('subject stops', 1);
        }
      } finally {
        await stop('dir1');
        await stop('dir2');
        for (const d of ['dir1', 'dir2'] as const) {
          readers[d].close();
          rmSync(fifos[d], { force: true });
        }
      }
      return steps;
    }

    const show = (steps: readonly Step[]): string =>
      steps
        .map(
          (s) =>
            `## ${s.name}\n` +
            (['dir1', 'dir2'] as const)
              .map(
                (d) =>
                  `${d} notify:\n    ${s.notify[d].join('\n    ')}\n${d} fifo:\n    ${s.fifo[d].join('\n    ')}`,
              )
              .join('\n'),
        )
        .join('\n');

    const cache = new Map<string, Promise<Step[]>>();
    const runOnce = (kind: Kind, scenario: Scenario): Promise<Step[]> => {
      const key = `${kind} ${scenario}`;
      let p = cache.get(key);
      if (!p) {
        p = run(kind, scenario);
        cache.set(key, p);
      }
      return p;
    };
    /** FIFO lines without the priority-change lines (INSTANCE "X" MASTER_PRIORITY 90 …). */
    const noPriority = (steps: readonly Step[]): Step[] =>
      steps.map((s) => ({
        ...s,
        fifo: {
          dir1: s.fifo.dir1.filter((l) => !/_PRIORITY /.test(l)),
          dir2: s.fifo.dir2.filter((l) => !/_PRIORITY /.test(l)),
        },
      }));

    function compare(k: readonly Step[], l: readonly Step[], what: 'notify' | 'fifo'): void {
      expect(l.map((s) => s.name)).toEqual(k.map((s) => s.name));
      // keepalived recorded something at every step: the comparison is not vacuous.
      for (const s of k) expect(s.notify.dir1.length + s.notify.dir2.length).toBeGreaterThan(0);
      for (let i = 0; i < k.length; i++) {
        const ks = k[i];
        const ls = l[i];
        if (ks === undefined || ls === undefined) continue;
        expect({ step: ks.name, [what]: ls[what] }).toEqual({ step: ks.name, [what]: ks[what] });
      }
    }

    async function both(scenario: Scenario): Promise<{ k: Step[]; l: Step[] }> {
      const k = await runOnce('keepalived', scenario);
      const l = await runOnce('lvsd', scenario);
      if (process.env.LVSD_PARITY_SHOW === '1')
        console.log(`# keepalived\n${show(k)}\n# lvsd\n${show(l)}`);
      return { k, l };
    }

    const titles: Record<'instance' | 'group', string> = {
      instance: 'one instance (FRONT)',
      group: 'sync group LAB (FRONT + BACK)',
    };
    for (const scenario of ['instance', 'group'] as const)
      it(`${titles[scenario]}: the same argv lines and FIFO lines per transition`, async () => {
        const { k, l } = await both(scenario);
        compare(k, l, 'notify');
        compare(k, l, 'fifo');
      });

    it('a weighted tracked interface (effective priority, preemption both ways): the same argv lines; the same FIFO lines but for priority changes', async () => {
      const { k, l } = await both('weighted');
      compare(k, l, 'notify');
      compare(noPriority(k), noPriority(l), 'fifo');
      // keepalived writes no priority-change line without (vrrp_)notify_priority_changes.
      expect(k.flatMap((s) => [...s.fifo.dir1, ...s.fifo.dir2]).join('\n')).not.toMatch(
        /_PRIORITY /,
      );
    });

    // Found by this test and fixed: keepalived writes `INSTANCE "X" MASTER_PRIORITY N` /
    // `BACKUP_PRIORITY N` only with vrrp_notify_priority_changes (global_defs) or
    // notify_priority_changes (instance); so does lvsd now.
    it('weighted, without notify_priority_changes: no priority lines in the FIFO, as keepalived', async () => {
      const { k, l } = await both('weighted');
      compare(k, l, 'fifo');
    });

    it('weighted, with vrrp_notify_priority_changes: the same argv lines and FIFO lines, priority changes included', async () => {
      const { k, l } = await both('weighted-prio');
      compare(k, l, 'notify');
      compare(k, l, 'fifo');
      expect(k.flatMap((s) => [...s.fifo.dir1, ...s.fifo.dir2]).join('\n')).toMatch(
        /MASTER_PRIORITY 90/,
      );
    });
  },
);
