/**
 * `lvsd run --ipvs ipvsadm` end to end on a REAL IPVS kernel: the built CLI as a process, HTTP
 * real servers in a child process, the table read with `ipvsadm -Sn` by the test itself. Claim:
 * a backend that starts answering 503 has weight 0 within the configured bound and its weight
 * back after recovery, with a log line for each; SIGTERM exits 0 and leaves the table in place,
 * and a restart adopts it without a single IPVS operation; a weight changed by hand is logged as
 * drift and repaired.
 *
 * Runs where `ipvsadm -Ln` works, i.e. in the VM (build on the host first):
 *   npm run build && ../shared/ipvs-vm/run --timeout 600 -- npx vitest run test/ipvs/daemon-e2e.test.ts
 * and skips elsewhere, saying why. Everything lives in a fresh network namespace (its own IPVS
 * table and loopback): lvsd, the backends and the test's own ipvsadm calls. lvsd's ipvsadm is a
 * PATH shim that records each command, so "no operation" is checked on what lvsd asked for, not
 * only on its log.
 *
 * Timers are VM-friendly (ruling 15: the VM's CPU is emulated, node starts in 0.6-1.8 s):
 * delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 0.5.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  ipvsadmShim,
  missingBuild,
  quietMoment,
  startBackends,
  startLvsd,
  waitUntil,
  weightIn,
  type Backends,
  type IpvsadmShim,
  type LogLine,
  type Lvsd,
} from './e2e-helpers.js';
import { announceSkip, freshNetns, ipvsadmIn, probeIpvs } from './helpers.js';

const probe = probeIpvs();
announceSkip('lvsd run on a real kernel', probe);

const VIP = '198.18.0.10:80';
const VS = `tcp:${VIP}`;
const DELAY_LOOP_S = 1;
// 3 s: under CI the emulated VM is shared with other VMs; 1 s check timeouts failed there.
const CONNECT_TIMEOUT_S = 3;
const RETRY = 1;
const DELAY_BEFORE_RETRY_S = 0.5;
/**
 * The configured bound, as the issue states it: fall × interval + timeout, with keepalived's
 * fall = retry + 1 (down after retry + 1 consecutive failures) = 2 × 1 + 1 = 3 s. The exact worst
 * case is smaller: the first failing check is the next regular slot (at most one delay_loop
 * after the switch), each retry comes delay_before_retry after the previous failure, each check
 * takes at most connect_timeout (a 503 answers at once), each may start one 50 ms scheduler tick
 * late: 1 + 0.5 + 2 × (1 + 0.05) = 3.6 s with hanging checks, 1.6 s for a 503.
 */
const FALL = RETRY + 1;
const BOUND_S = FALL * DELAY_LOOP_S + CONNECT_TIMEOUT_S;
/**
 * Slack for the emulated VM on top of the configured timing (ruling 15): node work at 10-20x
 * slower CPU (the 503 exchange, the health machine, the log line), then one reconcile pass:
 * ~7 ipvsadm processes (read = -Sn + 2 x -Ln, then one -R, then the read-back), each several
 * 100 ms in the VM with the recording shim's bash in front (lvsd logs "applied 1 operation in
 * 1.4-1.5 s" there, 0.7 s without the shim); and this test's own `-Sn` poll (~0.2 s).
 * Measured in five VM runs: rs.down logged 1.55-1.59 s after the switch, the kernel's weight 0
 * seen 3.6-4.3 s after it; weight back 2.0-3.4 s after recovery. 4 s of slack leaves ~3 s of
 * room for a slow run.
 */
const VM_SLACK_S = 4;
const DOWN_BOUND_S = BOUND_S + VM_SLACK_S;
/** Up: the first passing check (no `rise`: keepalived), at most one delay_loop plus its
 *  timeout away, plus the VM slack. */
const UP_BOUND_S = DELAY_LOOP_S + CONNECT_TIMEOUT_S + VM_SLACK_S;
/**
 * Drift: lvsd re-reads the kernel table 5 s after its previous pass ENDED. The hand edit may
 * land just after a pass read the table: that pass (~1.5 s in the VM with the shim), then 5 s,
 * then the repairing pass (read + -R + read back); plus the VM slack. Measured alone: 5.4-8 s;
 * 11.3 s once in CI while other VM test files ran beside it (a pass then took ~3 s).
 */
const DRIFT_PASS_S = 3;
const DRIFT_BOUND_S = 2 * DRIFT_PASS_S + 5 + 2 * VM_SLACK_S;

function config(a: number, b: number): string {
  const rs = (port: number, weight: number) => `    real_server 127.0.0.1 ${port} {
        weight ${weight}
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            delay_loop ${DELAY_LOOP_S}
            connect_timeout ${CONNECT_TIMEOUT_S}
            retry ${RETRY}
            delay_before_retry ${DELAY_BEFORE_RETRY_S}
        }
    }`;
  return `virtual_server 198.18.0.10 80 {
    lb_algo wlc
    lb_kind NAT
    protocol TCP
${rs(a, 2)}
${rs(b, 3)}
}
`;
}

function linesOf(l: LogLine): string[] {
  const lines = l.event?.data['lines'];
  return Array.isArray(lines) ? (lines as string[]) : [];
}

describe.skipIf(!probe.ok)('lvsd run --ipvs ipvsadm on a real kernel', { timeout: 120_000 }, () => {
  let netns: { name: string; dispose: () => Promise<void> } | undefined;
  let dir: string | undefined;
  let conf: string;
  let shim: IpvsadmShim;
  let backends: Backends | undefined;
  let portA: number; // the one that fails (weight 2)
  let portB: number; // stays healthy (weight 3)
  let rsA: string;
  const procs: Lvsd[] = [];
  let first: Lvsd;
  let second: Lvsd;

  async function save(): Promise<string> {
    const r = await ipvsadmIn((netns as { name: string }).name, ['-Sn']);
    if (r.exitCode !== 0) throw new Error(`ipvsadm -Sn failed (${r.exitCode}): ${r.stderr}`);
    return r.stdout;
  }

  /** Polls `-Sn` until `ok`; returns the table and the time taken, or throws after `ms` (with
   *  the last table, and `proc`'s log when given). */
  async function tableWhen(ok: (t: string) => boolean, ms: number, what: string, proc?: Lvsd) {
    let last = '';
    try {
      const took = await waitUntil(
        async () => {
          last = await save();
          return ok(last);
        },
        ms,
        what,
        100,
      );
      return { table: last, ms: took };
    } catch (err) {
      throw new Error(
        `${(err as Error).message}\n--- ipvsadm -Sn ---\n${last}${proc ? proc.dump() : ''}`,
      );
    }
  }

  function expected(weightA: number, weightB: number): string {
    const rows = [
      [portA, weightA],
      [portB, weightB],
    ].sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0));
    return (
      `-A -t ${VIP} -s wlc\n` +
      rows.map(([port, w]) => `-a -t ${VIP} -r 127.0.0.1:${port} -m -w ${w}\n`).join('')
    );
  }

  function launch(): Lvsd {
    const p = startLvsd({
      netns: (netns as { name: string }).name,
      conf,
      pathPrefix: shim.dir,
      runDir: dir as string,
    });
    procs.push(p);
    return p;
  }

  beforeAll(async () => {
    const missing = missingBuild();
    if (missing !== undefined) throw new Error(missing);
    netns = await freshNetns();
    dir = mkdtempSync(join(tmpdir(), 'lvsd-e2e-'));
    shim = ipvsadmShim(dir);
    backends = await startBackends(netns.name, 2);
    [portA = 0, portB = 0] = backends.ports;
    rsA = `127.0.0.1:${portA}`;
    conf = join(dir, 'keepalived.conf');
    writeFileSync(conf, config(portA, portB));
  });

  afterAll(async () => {
    for (const p of procs) if (p.running()) await p.stop('SIGKILL', 5000).catch(() => undefined);
    await backends?.stop();
    if (netns) {
      await ipvsadmIn(netns.name, ['-C']);
      await netns.dispose();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts on an empty table and builds it', async () => {
    expect(await save()).toBe('');
    first = launch();
    await first.waitFor((l) => l.event?.name === 'daemon.started', 30_000, 'daemon.started');
    const built = await first.waitFor(
      (l) => l.event?.name === 'ipvs.applied',
      5000,
      'ipvs.applied',
    );
    // One batch: the service, then its real servers (in lvsd's key order: by port here).
    expect(linesOf(built)).toEqual(expected(2, 3).trimEnd().split('\n'));
    expect(await save()).toBe(expected(2, 3));
    expect(shim.changes().filter((l) => !l.startsWith('  '))).toEqual(['ipvsadm -R']);
  });

  it(`a 503 backend has weight 0 within ${DOWN_BOUND_S} s, its weight back within ${UP_BOUND_S} s`, async () => {
    const b = backends as Backends;
    // Let checks pass first: a checker's very first failure takes it down at once, without
    // retries (keepalived's start-up rule), which is not what this measures.
    await waitUntil(async () => (await b.requests(portA)) >= 2, 15_000, 'two checks of A');

    const fromDown = first.lines.length;
    onTestFinished(() => b.setStatus(portA, 200));
    await b.setStatus(portA, 503);
    const t503 = performance.now();
    const down = await tableWhen(
      (t) => weightIn(t, VIP, rsA) === 0,
      DOWN_BOUND_S * 1000 + 3000,
      `weight 0 for ${rsA}`,
      first,
    );
    const downLine = await first.waitFor(
      (l) => l.event?.name === 'rs.down',
      2000,
      'rs.down',
      fromDown,
    );
    // lvsd logs ipvs.applied after reading the table back, so the line may follow what -Sn saw.
    const downApplied = await first.waitFor(
      (l) => linesOf(l).includes(`-e -t ${VIP} -r ${rsA} -m -w 0`),
      5000,
      'ipvs.applied with -w 0',
      fromDown,
    );
    console.log(
      `[e2e] 503 -> weight 0 seen by -Sn after ${Math.round(down.ms)} ms; rs.down logged after ` +
        `${Math.round(downLine.seenAt - t503)} ms, ipvs.applied after ` +
        `${Math.round(downApplied.seenAt - t503)} ms (bound ${BOUND_S} s + VM slack ${VM_SLACK_S} s)`,
    );
    expect(down.ms).toBeLessThanOrEqual(DOWN_BOUND_S * 1000);
    expect(down.table).toBe(expected(0, 3));
    expect(downLine.level).toBe('warn');
    expect(downLine.msg).toBe(
      `real server ${rsA} of ${VS} DOWN: status 503 (${RETRY + 1}/${RETRY + 1} failures) (weight 0)`,
    );
    expect(downApplied.event?.name).toBe('ipvs.applied');
    expect(linesOf(downApplied)).toEqual([`-e -t ${VIP} -r ${rsA} -m -w 0`]);

    const fromUp = first.lines.length;
    await b.setStatus(portA, 200);
    const t200 = performance.now();
    const up = await tableWhen(
      (t) => weightIn(t, VIP, rsA) === 2,
      UP_BOUND_S * 1000 + 3000,
      `weight 2 back for ${rsA}`,
      first,
    );
    const upLine = await first.waitFor((l) => l.event?.name === 'rs.up', 2000, 'rs.up', fromUp);
    const upApplied = await first.waitFor(
      (l) => linesOf(l).includes(`-e -t ${VIP} -r ${rsA} -m -w 2`),
      5000,
      'ipvs.applied with -w 2',
      fromUp,
    );
    console.log(
      `[e2e] recovery -> weight 2 seen by -Sn after ${Math.round(up.ms)} ms; rs.up logged after ` +
        `${Math.round(upLine.seenAt - t200)} ms, ipvs.applied after ` +
        `${Math.round(upApplied.seenAt - t200)} ms (bound ${UP_BOUND_S} s)`,
    );
    expect(up.ms).toBeLessThanOrEqual(UP_BOUND_S * 1000);
    expect(up.table).toBe(expected(2, 3));
    expect(upLine.level).toBe('info');
    expect(upLine.msg).toMatch(new RegExp(`^real server ${rsA} of ${VS} UP \\(weight 2\\): `));
    expect(upApplied.event?.name).toBe('ipvs.applied');
    expect(linesOf(upApplied)).toEqual([`-e -t ${VIP} -r ${rsA} -m -w 2`]);
    // One down and one up line, for that server only.
    expect(first.events('rs.down').map((l) => l.event?.data['rs'])).toEqual([rsA]);
    expect(first.events('rs.up').map((l) => l.event?.data['rs'])).toEqual([rsA]);
  });

  it('SIGTERM exits 0 and leaves the table; a restart adopts it with no IPVS operation', async () => {
    const b = backends as Backends;
    const before = await save();
    expect(before).toBe(expected(2, 3));
    // Signal at a moment when lvsd runs no ipvsadm (the last test signals during a call).
    await quietMoment(shim, 15_000);
    expect(await first.stop('SIGTERM', 15_000), first.dump()).toEqual({ code: 0, signal: null });
    expect(first.events('daemon.stopping')).toHaveLength(1);
    expect(await save()).toBe(before);

    const changesBefore = shim.changes();
    const callsBefore = shim.calls().ended;
    second = launch();
    await second.waitFor((l) => l.event?.name === 'daemon.started', 30_000, 'daemon.started');
    const adopted = await second.waitFor(
      (l) => l.event?.name === 'ipvs.adopted',
      1000,
      'ipvs.adopted',
    );
    expect(adopted.event?.data).toEqual({ services: 1, destinations: 2 });
    // Let it run: both backends checked (and passing) three more times each.
    const [na, nb] = [await b.requests(portA), await b.requests(portB)];
    await waitUntil(
      async () => Math.min((await b.requests(portA)) - na, (await b.requests(portB)) - nb) >= 3,
      15_000,
      'three more checks of each backend',
    );
    // ... and one periodic re-read of the kernel table (every 5 s) after the start-up read:
    // 6 ipvsadm calls (each read is -Sn, -Ln --thresholds, -Ln --stats --exact).
    await waitUntil(
      () => shim.calls().ended - callsBefore >= 6,
      15_000,
      'a periodic re-read of the table',
    );
    expect(second.events('ipvs.applied')).toEqual([]);
    expect(second.events('ipvs.drift')).toEqual([]);
    // From outside lvsd: the second process only read the table.
    expect(shim.changes()).toEqual(changesBefore);
    expect(await save()).toBe(before);
  });

  it(`a weight changed by hand is logged as drift and restored within ${DRIFT_BOUND_S} s`, async () => {
    const name = (netns as { name: string }).name;
    const edit = await ipvsadmIn(name, ['-e', '-t', VIP, '-r', rsA, '-m', '-w', '7']);
    expect(edit).toMatchObject({ exitCode: 0, stderr: '' });
    expect(await save()).toBe(expected(7, 3));
    const repaired = await tableWhen(
      (t) => weightIn(t, VIP, rsA) === 2,
      DRIFT_BOUND_S * 1000,
      `weight 2 restored for ${rsA}`,
      second,
    );
    console.log(`[e2e] drift repaired in ${Math.round(repaired.ms)} ms (bound ${DRIFT_BOUND_S} s)`);
    expect(repaired.table).toBe(expected(2, 3));
    const drift = await second.waitFor((l) => l.event?.name === 'ipvs.drift', 2000, 'ipvs.drift');
    expect(drift.level).toBe('warn');
    expect(linesOf(drift)).toEqual([`-e -t ${VIP} -r ${rsA} -m -w 2`]);
    // ipvs.applied comes after lvsd's read-back, which may be after -Sn showed the repair.
    await second.waitFor((l) => l.event?.name === 'ipvs.applied', 5000, 'ipvs.applied');
    // The repair is the only operation the second process issued.
    expect(second.events('ipvs.applied').flatMap(linesOf)).toEqual([
      `-e -t ${VIP} -r ${rsA} -m -w 2`,
    ]);

    await quietMoment(shim, 15_000);
    expect(await second.stop('SIGTERM', 15_000), second.dump()).toEqual({
      code: 0,
      signal: null,
    });
    expect(await save()).toBe(expected(2, 3));
  });

  /*
   * Regression: `lvsd run` once handled SIGTERM with `process.once`. execa, which runs ipvsadm,
   * has signal-exit listen for SIGTERM while a child runs; when the signal came, the `once`
   * listener had already removed itself, signal-exit saw itself as the only listener and
   * re-raised the signal: lvsd died by SIGTERM (status 143) instead of finishing its stop and
   * exiting 0, and execa's cleanup killed the running ipvsadm (possibly an `-R` batch).
   * Here every ipvsadm call is slowed to 3 s and the signal is sent while one is running.
   */
  it('SIGTERM while an ipvsadm call is in flight still stops cleanly and exits 0', async () => {
    // A failed test before this one may have left its daemon holding the control socket.
    for (const p of procs) if (p.running()) await p.stop('SIGKILL', 5000).catch(() => undefined);
    const third = launch();
    await third.waitFor((l) => l.event?.name === 'daemon.started', 30_000, 'daemon.started');
    shim.setDelay(3);
    try {
      const { begun } = shim.calls();
      await waitUntil(
        () => {
          const c = shim.calls();
          return c.begun > begun && c.begun > c.ended;
        },
        15_000,
        'an ipvsadm call in flight',
      );
      const before = await save();
      expect(await third.stop('SIGTERM', 30_000), third.dump()).toEqual({
        code: 0,
        signal: null,
      });
      expect(third.events('daemon.stopping')).toHaveLength(1);
      expect(third.events('ipvs.applied')).toEqual([]);
      expect(await save()).toBe(before);
    } finally {
      shim.setDelay(0);
    }
  });
});
