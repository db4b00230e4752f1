/**
 * Soak: randomised failure/recovery cycles on the NAT pair with lvsd's defaults (`timing fast`,
 * 80 ms adverts), asserting after each that exactly one director holds VIP and DIP and the
 * client reaches it, and at the end that there was no false failover (dir2 became MASTER
 * exactly once per failure of dir1, never otherwise).
 *
 * Each cycle picks a target (the master dir1 three times in four, else the backup dir2), an
 * action (crash: SIGSTOP + links down + SIGKILL, then "reboot"; stop: SIGTERM; kill: SIGKILL of
 * the daemon only, addresses and links stay; flap: the target's front link down 100–600 ms)
 * and a random phase in the advert cycle, then recovers (daemon restarted, links up).
 *
 * 10 cycles by default (~15 s); LVSD_SOAK=1 runs 100 (about 2 minutes). LVSD_SOAK_CYCLES=N
 * and LVSD_SOAK_SEED=S override; the seed is printed so a failure can be replayed. The stop
 * flap of /work/notes/vrrp-bugs.md #2 (fixed in d044a3a: the backup went MASTER → BACKUP →
 * MASTER on some clean stops) is counted separately and must be zero.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  DIP,
  VIP,
  type Director,
  type DirectorLab,
  type PairConfig,
} from '../../helpers/director-lab.js';
import { seededRandom } from '../../../src/vrrp/drivers/transport-memory.js';
import { probeNetns } from '../../helpers/netns.js';
import { useDirectorLab } from './suite.js';

const probe = probeNetns();
const CYCLES = Math.min(
  1_000,
  Number(process.env.LVSD_SOAK_CYCLES ?? (process.env.LVSD_SOAK === '1' ? 100 : 10)),
);
const SEED = Number(process.env.LVSD_SOAK_SEED ?? Date.now() % 1_000_000);
const ADVERT_MS = 80;
const C1: PairConfig = { priority: 150 };
const C2: PairConfig = { priority: 100 };
type Action = 'crash' | 'stop' | 'kill' | 'flap';
const ACTIONS: readonly Action[] = ['crash', 'stop', 'kill', 'flap'];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function stats(v: readonly number[]): string {
  if (v.length === 0) return 'n=0';
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  const med = n % 2 ? (s[(n - 1) / 2] ?? 0) : ((s[n / 2 - 1] ?? 0) + (s[n / 2] ?? 0)) / 2;
  const p90 = s[Math.ceil(0.9 * n) - 1] ?? 0;
  return `n=${n} min ${(s[0] ?? 0).toFixed(0)} / median ${med.toFixed(0)} / p90 ${p90.toFixed(0)} / max ${(s[n - 1] ?? 0).toFixed(0)} ms`;
}

/** FRONT's transitions to MASTER in a daemon log (all runs of that director). */
function mastersIn(log: string): number {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return 0;
  }
  return text
    .split('\n')
    .filter(
      (l) =>
        l.includes('"vrrp.transition"') &&
        l.includes('"instance":"FRONT"') &&
        l.includes('"to":"master"'),
    ).length;
}

/** FRONT's transitions in a daemon log, as "HH:MM:SS.mmm message" lines. */
function transitionsIn(log: string): string[] {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.includes('"vrrp.transition"') && l.includes('"instance":"FRONT"'))
    .map((l) => {
      const t = /"time":"[^T]*T([0-9:.]{12})/.exec(l)?.[1] ?? '';
      const m = /"msg":"([^"]*)"/.exec(l)?.[1] ?? l;
      return `${t} ${m}`;
    });
}

/** The client reaches `who` (3 answers in a row within 2 s), else a failure with the state. */
async function reach(lab: DirectorLab, who: string, where: string): Promise<void> {
  const got = await lab.reaches();
  if (got !== who)
    throw new Error(
      `${where}: the client reaches ${got ?? 'no one'}, not ${who} (${await lab.describe()})`,
    );
}

/** The known stop flap: MASTER → BACKUP (sync-group) and back to MASTER within 200 ms. */
function stopFlaps(transitions: readonly string[]): number {
  const ms = (l: string): number => {
    const [h = 0, m = 0, sec = 0] = l.slice(0, 12).split(':').map(Number);
    return ((h * 60 + m) * 60 + sec) * 1000;
  };
  let n = 0;
  for (let i = 1; i < transitions.length; i++) {
    const a = transitions[i - 1] ?? '';
    const b = transitions[i] ?? '';
    if (
      a.includes('MASTER -> BACKUP (sync-group') &&
      b.includes('BACKUP -> MASTER (sync-group') &&
      ms(b) - ms(a) <= 200
    )
      n += 1;
  }
  return n;
}

describe.skipIf(!probe.ok)(`soak ${probe.ok ? '' : `(skipped: ${probe.reason})`}`, () => {
  const lab = useDirectorLab('fos');

  it(
    `${CYCLES} random failure/recovery cycles: one holder after each, the client reaches it, no false failover (seed ${SEED})`,
    async () => {
      const rnd = seededRandom(SEED);
      const outages: Record<Action, number[]> = { crash: [], stop: [], kill: [], flap: [] };
      const takeover: number[] = [];
      let dir1Failures = 0;
      const timeline: string[] = [];
      const started = Date.now();
      const loadStart = loadavg()[0] ?? 0;
      await lab().startPair(C1, C2);
      expect(await lab().reaches()).toBe('dir1');
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const target: Director = rnd() < 0.75 ? 'dir1' : 'dir2';
        const action = ACTIONS[Math.floor(rnd() * ACTIONS.length)] ?? 'crash';
        const where = `cycle ${cycle}/${CYCLES} (seed ${SEED}): ${action} ${target}`;
        await sleep(rnd() * ADVERT_MS);
        timeline.push(`${new Date().toISOString().slice(11, 23)} ${where}`);
        let t = Date.now();
        switch (action) {
          case 'crash':
            t = await lab().crash(target);
            break;
          case 'stop':
            await lab().stop(target);
            break;
          case 'kill':
            await lab().kill9(target);
            break;
          case 'flap':
            await lab().ip(target, ['link', 'set', 'eth0', 'down']);
            break;
        }
        if (target === 'dir1') {
          dir1Failures += 1;
          // dir2 takes over: it holds VIP and DIP (dir1 may still hold them after a kill).
          const ok = await lab().waitState('dir2', 'MASTER', 2_000);
          if (!ok) throw new Error(`${where}: dir2 did not become MASTER in 2 s`);
          takeover.push(Date.now() - t);
          const who = await lab().reaches(2_000);
          if (action !== 'kill' && who !== 'dir2')
            throw new Error(
              `${where}: the client reaches ${who ?? 'no one'}, not dir2 (${await lab().describe()})`,
            );
          const o = lab().outage(t, 'dir1', 'dir2');
          if (o !== undefined) outages[action].push(o);
        } else {
          await sleep(100 + rnd() * 300);
          expect(await lab().holders(VIP), where).toEqual(['dir1']);
          await reach(lab(), 'dir1', where);
        }
        // Recovery.
        if (action === 'flap') {
          await sleep(100 + rnd() * 500);
          await lab().ip(target, ['link', 'set', 'eth0', 'up']);
        } else {
          if (action === 'crash') {
            await lab().flush(target);
            await lab().linksUp(target);
          }
          await lab().startDaemon(target, target === 'dir1' ? C1 : C2);
        }
        // Settled: dir1 (higher priority, preempt) alone holds both addresses; dir2 BACKUP.
        if (!(await lab().waitHolder('dir1', 4_000))) {
          throw new Error(
            `${where}: VIP on ${(await lab().holders(VIP)).join('+') || 'none'}, DIP on ${(await lab().holders(DIP)).join('+') || 'none'} 4 s after recovery`,
          );
        }
        expect(await lab().waitState('dir2', 'BACKUP', 2_000), where).toBe(true);
        await reach(lab(), 'dir1', where);
        await sleep(rnd() * 200);
        expect(await lab().holders(VIP), where).toEqual(['dir1']);
        expect(await lab().holders(DIP), where).toEqual(['dir1']);
      }
      const d2 = lab().daemon('dir2')?.log ?? '';
      const d1 = lab().daemon('dir1')?.log ?? '';
      const dir2Masters = mastersIn(d2);
      console.log(
        [
          `soak: ${CYCLES} cycles in ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${SEED}, advert ${ADVERT_MS} ms (timing fast), 1-min load ${loadStart.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)}`,
          `  dir1 failures ${dir1Failures}; dir2 → MASTER ${dir2Masters} times; dir1 → MASTER ${mastersIn(d1)} times (incl. the first election)`,
          `  action → dir2 MASTER in status (incl. waiting for a stopped daemon to exit, and polling): ${stats(takeover)}`,
          ...ACTIONS.map((a) => `  client outage, ${a} of the master: ${stats(outages[a])}`),
        ].join('\n'),
      );
      const flaps = stopFlaps(transitionsIn(d2));
      console.log(
        `  stop flaps (MASTER → BACKUP → MASTER by sync group within 200 ms, vrrp-bugs.md #2): ${flaps}`,
      );
      // No false failover: dir2 became MASTER once per failure of dir1 and never otherwise,
      // and never flapped MASTER → BACKUP → MASTER on a clean stop (vrrp-bugs.md #2).
      if (dir2Masters !== dir1Failures || flaps > 0)
        console.log(
          `soak: dir2 → MASTER ${dir2Masters} times for ${dir1Failures} failures of dir1\n` +
            `cycles:\n${timeline.join('\n')}\ndir2 FRONT transitions:\n${transitionsIn(d2).join('\n')}`,
        );
      expect(flaps).toBe(0);
      expect(dir2Masters).toBe(dir1Failures);
      // lvsd's defaults (issue 5): a crashed master is replaced within 400 ms for the client.
      for (const o of outages.crash) expect(o).toBeLessThanOrEqual(400);
    },
    60_000 + CYCLES * 8_000,
  );
});
