/**
 * bench/cutover, the measurement (bench/cutover.mjs bundles this file with esbuild and calls
 * `runCutover`): the keepalived → lvsd cut-over of docs/operations.md ("Migrating from
 * keepalived", step 4) on the repository's NAT-pair harness (test/helpers/director-lab.ts).
 *
 * Per run, on a fresh lab (daemons killed, VIP/DIP flushed, links up, neighbours flushed):
 *   1. keepalived on both directors, the same generated config (VRRPv2, advert_int 1, sync
 *      group of FRONT on eth0 + BACK on eth1): dir1 (priority 150) MASTER with VIP and DIP,
 *      dir2 (100) BACKUP;
 *   2. step 4.1 of the guide: dir2's keepalived stopped (SIGTERM); dir1 serves alone;
 *   3. 20 answers from dir1 in a row, then a random wait in [0, 1 s) (the phase of the advert
 *      cycle), then the event on dir1: SIGKILL to keepalived's process group (parent and VRRP
 *      child; the VIPs stay), and at once
 *        cutover          `lvsd run` with the equivalent config (the same file plus an lvsd
 *                         block: key file, `timing fast`, in-memory IPVS on a kernel without it)
 *        keepalived-restart  keepalived again with its own file (the reference);
 *      or, the guide's "simple alternative", SIGTERM to keepalived (it removes its VIPs on the
 *      way out), wait for it to end, then lvsd (stop-then-lvsd);
 *   4. the client's prober (UDP to VIP:9000 every 10 ms) is watched for `windowMs` after the kill.
 * Outage = the longest stretch without answers that lost at least one probe: receive time of the
 * first answer after a lost probe minus that of the last answer before it; 0 when no probe was
 * lost. An end state without answers is a failed run (outage undefined).
 */
import { DirectorLab, type PairConfig } from '../../test/helpers/director-lab.js';

export type CutoverKind = 'cutover' | 'keepalived-restart' | 'stop-then-lvsd';

export interface CutoverRow {
  readonly kind: CutoverKind;
  readonly run: number;
  /** Undefined: the client had no answers at the end of the window. */
  readonly outageMs: number | undefined;
  readonly lostProbes: number;
  /** Where the VIP is at the end, and what dir1 reports (lvsd: its VRRP states). */
  readonly vipOn: string;
  readonly state: string;
  /** lvsd: ms from the event until its control socket answered. */
  readonly readyMs?: number;
}

export interface CutoverOptions {
  readonly runs: number;
  readonly windowMs: number;
  readonly kinds: readonly CutoverKind[];
  readonly deadline: number;
  readonly log: (line: string) => void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits (≤ timeoutMs) for `count` answers in a row from dir1 received after `since`. */
async function dir1Answers(
  lab: DirectorLab,
  count: number,
  since: number,
  timeoutMs: number,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const a = lab.answersSince(since).slice(-count);
    if (a.length === count && a.every((x) => x.who === 'dir1')) return true;
    await sleep(10);
  }
  return false;
}

/** Longest answer gap that lost probes, and how many were lost, over answers after `from`. */
export function outageOf(answers: readonly { seq: number; recv: number }[]): {
  outageMs: number;
  lost: number;
} {
  let outageMs = 0;
  let lost = 0;
  for (let i = 1; i < answers.length; i++) {
    const a = answers[i - 1];
    const b = answers[i];
    if (a === undefined || b === undefined || b.seq <= a.seq + 1) continue;
    lost += b.seq - a.seq - 1;
    outageMs = Math.max(outageMs, b.recv - a.recv);
  }
  return { outageMs, lost };
}

const KEEPALIVED: PairConfig = { priority: 150, daemon: 'keepalived' };
const KEEPALIVED_BACKUP: PairConfig = { priority: 100, daemon: 'keepalived' };
/** The same instances and sync group, with the lvsd block (key file, timing fast, memory IPVS). */
const LVSD: PairConfig = { priority: 150 };

async function iteration(
  lab: DirectorLab,
  kind: CutoverKind,
  run: number,
  windowMs: number,
): Promise<CutoverRow> {
  await lab.startPair(KEEPALIVED, KEEPALIVED_BACKUP, 10_000);
  await lab.stop('dir2');
  if (!(await dir1Answers(lab, 20, Date.now(), 3_000)))
    throw new Error(`no answers from dir1 before the event: ${await lab.describe()}`);
  await sleep(Math.random() * 1_000);
  const t = Date.now();
  if (kind === 'stop-then-lvsd') await lab.stop('dir1');
  else await lab.kill9('dir1');
  await lab.startDaemon('dir1', kind === 'keepalived-restart' ? KEEPALIVED : LVSD);
  const readyMs = Date.now() - t;
  await sleep(Math.max(0, t + windowMs - Date.now()));
  // Answers from just before the kill to the end of the window, with a last one required fresh.
  const seen = lab.answersSince(t - 200);
  const last = seen[seen.length - 1];
  const fresh = last !== undefined && Date.now() - last.recv < 500;
  const { outageMs, lost } = outageOf(seen);
  const vipOn = (await lab.holders()).join('+') || 'none';
  const lvsd = kind !== 'keepalived-restart';
  const state = lvsd
    ? Object.entries(await lab.states('dir1').catch(() => ({})))
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || 'no status'
    : 'keepalived';
  const outage = fresh ? outageMs : undefined;
  return {
    kind,
    run,
    outageMs: outage,
    lostProbes: lost,
    vipOn,
    state,
    ...(lvsd ? { readyMs } : {}),
  };
}

/** Both kinds, interleaved run by run (so drift on a shared machine hits both alike). */
export async function runCutover(opt: CutoverOptions): Promise<CutoverRow[]> {
  const lab = await DirectorLab.create('lvdc');
  const rows: CutoverRow[] = [];
  try {
    await lab.startTraffic();
    for (let run = 1; run <= opt.runs; run++) {
      for (const kind of opt.kinds) {
        if (Date.now() > opt.deadline) {
          opt.log(`deadline reached before ${kind} run ${run}`);
          return rows;
        }
        const r = await iteration(lab, kind, run, opt.windowMs);
        opt.log(
          `${kind} run ${run}: outage ${r.outageMs === undefined ? 'NA (no answers at the end)' : `${r.outageMs.toFixed(1)} ms`}, ${r.lostProbes} probes lost, VIP on ${r.vipOn}, ${r.state}${r.readyMs === undefined ? '' : `, lvsd answering ${r.readyMs} ms after the event`}`,
        );
        rows.push(r);
      }
    }
    return rows;
  } finally {
    await lab.dispose(process.env.LVSD_KEEP_LAB === '1');
  }
}
