// One round of bench/hooks-storm.mjs, in its own process (bundled by the bench with esbuild,
// so it runs the TypeScript sources; src/daemon/probes.ts is swapped for storm-probes.mjs,
// which times every check). argv: MODE (hooks | bare) and JSON options
// {servers, flipsPerSec, seed, warmupS, seconds}. Prints one JSON line with the round's figures.
//
// hooks: notify_up / notify_down (/bin/true) on every real server and a webhook whose receiver
//        reads each alert and never answers; bare: neither; notify / webhook: only one of them
//        (bench --split, to tell their costs apart). All: lvsd in-process (memory IPVS
//        driver, observers started, event ring and control sockets, metrics off), the same
//        flapping backends (same seed) in their own process.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  countingLog,
  hangingReceiver,
  newBus,
  percentile,
  startStormDaemon,
  stormSetup,
} from '../../test/helpers/storm-lab.ts';
import { SpawnerClient } from '../../src/spawner/client.ts';

const [mode, optsJson] = process.argv.slice(2);
const o = JSON.parse(optsJson ?? '{}');
const notify = mode === 'hooks' || mode === 'notify';
const webhook = mode === 'hooks' || mode === 'webhook';
const dir = mkdtempSync(join(tmpdir(), `lvsd-hooks-storm-${mode}-`));

const CAP = 2_000_000;
const lat = new Float64Array(CAP);
let n = 0;
let failed = 0;
let measuring = false;
globalThis.__lvsdStormProbe = (ms, ok) => {
  if (!measuring) return;
  if (n < CAP) lat[n++] = ms;
  if (!ok) failed++;
};

let receiver;
let backends;
let daemon;
let spawner;

/** utime + stime of a process, in ms (USER_HZ is 100 on Linux). */
function procCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}
try {
  receiver = webhook ? await hangingReceiver() : undefined;
  let file;
  ({ backends, file } = await stormSetup({
    servers: o.servers,
    flipsPerSec: o.flipsPerSec,
    seed: o.seed,
    dir,
    hooks: notify,
    webhooks: receiver ? { hang: receiver.url } : {},
  }));
  const bus = newBus();
  let events = 0;
  let rsEvents = 0;
  bus.subscribe((e) => {
    if (!measuring) return;
    events++;
    if (e.name === 'rs.up' || e.name === 'rs.down') rsEvents++;
  });
  const log = countingLog();
  // As `lvsd run` does: scripts start from the spawner (o.direct: the daemon forks them itself,
  // how lvsd ran them before the spawner, for comparison).
  spawner = o.direct ? undefined : new SpawnerClient({ log, entry: o.spawnerEntry });
  daemon = await startStormDaemon({
    file,
    dir,
    bus,
    log,
    ...(spawner ? { runScript: spawner.run } : {}),
  });
  await sleep(o.warmupS * 1000);

  // Sampled every 1 ms; the figures are the delay beyond that interval.
  const RES_MS = 1;
  const loop = monitorEventLoopDelay({ resolution: RES_MS });
  const logBefore = { ...log.counts };
  const cpu0 = process.cpuUsage();
  const spawnerCpu0 = spawner?.pid === undefined ? undefined : procCpuMs(spawner.pid);
  const t0 = performance.now();
  loop.enable();
  measuring = true;
  await sleep(o.seconds * 1000);
  measuring = false;
  loop.disable();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const spawnerCpu =
    spawnerCpu0 === undefined || spawner?.pid === undefined
      ? undefined
      : procCpuMs(spawner.pid) - spawnerCpu0;

  const samples = Array.from(lat.subarray(0, n));
  const ms = (ns) => Number(Math.max(0, ns / 1e6 - RES_MS).toFixed(2));
  const result = {
    mode,
    checks: n,
    checksPerSec: Number(((n * 1000) / wall).toFixed(0)),
    failedChecks: failed,
    checkMs: {
      p50: Number(percentile(samples, 50).toFixed(2)),
      p99: Number(percentile(samples, 99).toFixed(2)),
      max: Number(percentile(samples, 100).toFixed(2)),
    },
    loopLagMs: {
      p50: ms(loop.percentile(50)),
      p99: ms(loop.percentile(99)),
      max: ms(loop.max),
    },
    events,
    rsEvents,
    notifyLogLines: log.counts.info - logBefore.info,
    webhookPosts: receiver?.alerts.length ?? 0,
    cpuPct: Number((((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(1)),
    rssMiB: Number((process.memoryUsage().rss / 1024 / 1024).toFixed(0)),
    // The spawner's own CPU (scripts' children not included), so no cost is hidden there.
    ...(spawnerCpu === undefined
      ? {}
      : { spawnerCpuPct: Number(((spawnerCpu / wall) * 100).toFixed(1)) }),
    scriptRuns: spawner ? spawner.stats.spawnerRuns : undefined,
    directScriptRuns: spawner ? spawner.stats.directRuns : undefined,
  };
  // Samples go to a file for the parent to pool (a 1 MB line is no trouble either way).
  writeFileSync(join(o.out, `${mode}-${o.round}.json`), JSON.stringify(samples));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await daemon?.stop('bench').catch(() => undefined);
  await spawner?.close();
  await backends?.close();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
