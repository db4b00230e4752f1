/**
 * bench/failover without ../shared: the same measurement as the shared lab's failover-bench,
 * on the repository's own NAT-pair harness (test/helpers/director-lab.ts, shared with the e2e
 * tests). bench/failover.mjs bundles this file with esbuild and calls `runNative`.
 *
 * Per iteration: a fresh pair (both daemons killed, VIP/DIP flushed, links up, the client's
 * neighbour table flushed); dir1 (priority 150, `state MASTER`) started and holding VIP and
 * DIP, then dir2 (priority 100, BACKUP) settled. The client probes VIP:9000 over UDP every
 * 10 ms. After 20 answers from dir1, a random wait of [0, advert interval) puts the action at a
 * random phase of the advert cycle, then:
 *   crash  SIGSTOP to dir1's daemon group, both links down (one `ip -batch`), SIGKILL; then the
 *          "reboot" (addresses flushed, links up, daemon started) for the fail-back
 *   kill9  SIGKILL to the daemon's group only (addresses and links stay), then restarted
 *   stop   SIGTERM to the daemon (clean stop), then restarted
 * Outage = receive time of the first answer from the new holder minus that of the last answer
 * from the old one (the shared lab's definition). Fail-back: dir1's daemon started again, the
 * outage measured the same way (dir2 → dir1).
 */
import { DirectorLab, type PairConfig } from '../../test/helpers/director-lab.js';

export interface NativeRow {
  readonly daemon: string;
  readonly scenario: string;
  readonly advert_s: string;
  readonly phase: 'failover' | 'failback';
  readonly run: number;
  readonly outage_ms: string;
  readonly vip_on: string;
}

export interface NativeOptions {
  readonly runs: number;
  readonly adverts: readonly string[];
  readonly scenarios: readonly ('crash' | 'kill9' | 'stop')[];
  /** Also lvsd with its own defaults (timing fast, advert_int omitted), crash only. */
  readonly defaults: boolean;
  readonly keepalivedVersion: string;
  readonly lvsdVersion: string;
  readonly deadline: number;
  readonly log: (line: string) => void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits for `count` answers in a row from `who` received after `since`. */
async function answersFrom(
  lab: DirectorLab,
  who: string,
  count: number,
  since: number,
  timeoutMs: number,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; i < 100_000 && Date.now() < end; i++) {
    const a = lab.answersSince(since).slice(-count);
    if (a.length === count && a.every((x) => x.who === who)) return true;
    await sleep(10);
  }
  return false;
}

async function iteration(
  lab: DirectorLab,
  daemon: 'lvsd' | 'keepalived',
  label: string,
  scenario: 'crash' | 'kill9' | 'stop',
  advert: number | undefined,
  run: number,
): Promise<NativeRow[]> {
  const advS = advert ?? 0.08;
  const c1: PairConfig = {
    priority: 150,
    state: 'MASTER',
    daemon,
    ...(advert === undefined ? {} : { advertInt: advert }),
  };
  const c2: PairConfig = {
    priority: 100,
    state: 'BACKUP',
    daemon,
    ...(advert === undefined ? {} : { advertInt: advert }),
  };
  const failoverMax = 2_000 + 10_000 * advS;
  const failbackMax = 3_000 + 10_000 * advS;
  const row = (
    phase: 'failover' | 'failback',
    outage: number | undefined,
    vipOn: string,
  ): NativeRow => ({
    daemon: label,
    scenario,
    advert_s: advert === undefined ? '0.08' : String(advert),
    phase,
    run,
    outage_ms: outage === undefined ? 'NA' : outage.toFixed(1),
    vip_on: vipOn,
  });
  await lab.startPair(c1, c2, 5_000 + 10_000 * advS);
  if (!(await answersFrom(lab, 'dir1', 20, Date.now(), 3_000)))
    throw new Error('no baseline answers from dir1');
  await sleep(Math.random() * advS * 1000);
  let t = Date.now();
  let stopping: Promise<unknown> = Promise.resolve();
  if (scenario === 'crash') t = await lab.crash('dir1');
  else if (scenario === 'kill9') await lab.kill9('dir1');
  else stopping = lab.stop('dir1');
  await answersFrom(lab, 'dir2', 30, t, failoverMax);
  const out1 = lab.outage(t, 'dir1', 'dir2');
  await stopping;
  const rows = [row('failover', out1, (await lab.holders()).join('+') || 'none')];
  if (scenario === 'crash') {
    await lab.flush('dir1');
    await lab.linksUp('dir1');
  }
  const t1 = Date.now();
  await lab.startDaemon('dir1', c1);
  await answersFrom(lab, 'dir1', 30, t1, failbackMax);
  rows.push(
    row('failback', lab.outage(t1, 'dir2', 'dir1'), (await lab.holders()).join('+') || 'none'),
  );
  return rows;
}

export async function runNative(o: NativeOptions): Promise<NativeRow[]> {
  const lab = await DirectorLab.create('bf');
  const rows: NativeRow[] = [];
  const plan: {
    daemon: 'lvsd' | 'keepalived';
    label: string;
    advert: number | undefined;
    scenarios: readonly ('crash' | 'kill9' | 'stop')[];
  }[] = [];
  for (const a of o.adverts) {
    plan.push({
      daemon: 'keepalived',
      label: o.keepalivedVersion,
      advert: Number(a),
      scenarios: o.scenarios,
    });
    plan.push({ daemon: 'lvsd', label: o.lvsdVersion, advert: Number(a), scenarios: o.scenarios });
  }
  if (o.defaults)
    plan.push({
      daemon: 'lvsd',
      label: `${o.lvsdVersion} (timing fast)`,
      advert: undefined,
      scenarios: ['crash'],
    });
  try {
    await lab.startTraffic();
    outer: for (const p of plan)
      for (const sc of p.scenarios)
        for (let n = 1; n <= o.runs; n++) {
          if (Date.now() > o.deadline) {
            o.log('time limit reached');
            break outer;
          }
          try {
            const r = await iteration(lab, p.daemon, p.label, sc, p.advert, n);
            rows.push(...r);
            o.log(
              `${p.label} ${sc} advert ${p.advert ?? '0.08 (defaults)'} #${n}: ${r.map((x) => `${x.phase} ${x.outage_ms} ms`).join(', ')}`,
            );
          } catch (err) {
            o.log(`${p.label} ${sc} #${n}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
  } finally {
    await lab.reset().catch(() => undefined);
    await lab.dispose();
  }
  return rows;
}
