// CPU per HTTP health check: lvsd's checker vs HAProxy, side by side in one invocation
// (performance.md: only figures taken in one run compare). Both check the same N loopback
// backends (served by a separate process, not counted) once per interval with a fresh
// connection per check. CPU is read from /proc/PID/stat (utime + stime) of the checker process
// alone, over the same window after a warm-up.
//
//   node bench/probe-cpu.mjs [--n 1000] [--interval 1000] [--seconds 10] [--warmup 3]
//                            [--tick 100] [--runs 1]
// Needs haproxy on PATH (apt-get install haproxy); without it only lvsd is measured.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((kv) => kv.trim().split(/\s+/))
    .map(([k, v]) => [k, Number(v)]),
);
const N = args.n ?? 1000;
const INTERVAL = args.interval ?? 1000;
const SECONDS = args.seconds ?? 10;
const WARMUP = args.warmup ?? 3;
const TICK = args.tick ?? 100;
const RUNS = args.runs ?? 1;
const here = dirname(fileURLToPath(import.meta.url));
const CLK_TCK = Number(
  spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100,
);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** utime and stime of a process, µs (fields 14 and 15 of proc(5); index 11, 12 after the name). */
async function cpuMicros(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1e6) / CLK_TCK, sys: (Number(fields[12]) * 1e6) / CLK_TCK };
}
const delta = (a, b) => ({
  user: b.user - a.user,
  sys: b.sys - a.sys,
  total: b.user - a.user + b.sys - a.sys,
});
const split = (d, checks) =>
  `user ${(d.user / checks).toFixed(1)} + sys ${(d.sys / checks).toFixed(1)}`;

function lines(child) {
  const rl = createInterface({ input: child.stdout });
  const queue = [];
  const waiters = [];
  rl.on('line', (l) => (waiters.length > 0 ? waiters.shift()(l) : queue.push(l)));
  return () =>
    queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r));
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([once(child, 'exit'), sleep(3000).then(() => child.kill('SIGKILL'))]);
}

async function measureLvsd(modulePath, ports) {
  const child = spawn(
    process.execPath,
    [
      join(here, 'probe-cpu-lvsd.mjs'),
      modulePath,
      JSON.stringify(ports),
      String(INTERVAL),
      String(TICK),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const next = lines(child);
  await next(); // ready
  await sleep(WARMUP * 1000);
  child.kill('SIGUSR2'); // reset counters
  await next();
  const cpu0 = await cpuMicros(child.pid);
  await sleep(SECONDS * 1000);
  const cpu1 = await cpuMicros(child.pid);
  child.kill('SIGUSR2');
  const report = JSON.parse(await next());
  await stop(child);
  const checks = report.ok + report.failed;
  return {
    cpu: delta(cpu0, cpu1),
    checks,
    failed: report.failed,
    codes: report.codes,
    rss: report.rss,
  };
}

async function haproxyStats(sock) {
  const s = connect(sock);
  s.end('show stat\n');
  let out = '';
  for await (const chunk of s) out += chunk;
  const rows = out.split('\n').filter((l) => l.startsWith('checked,s'));
  return { up: rows.filter((l) => l.split(',')[17] === 'UP').length, rows: rows.length };
}

async function measureHaproxy(ports) {
  const dir = await mkdtemp(join(tmpdir(), 'lvsd-bench-haproxy-'));
  const sock = join(dir, 'stats.sock');
  const servers = ports
    .map((p, i) => `    server s${i} 127.0.0.1:${p} check inter ${INTERVAL}`)
    .join('\n');
  const cfg = `global
    maxconn 4000
    stats socket ${sock} mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout check 2s
backend checked
    option httpchk GET /health
${servers}
`;
  await writeFile(join(dir, 'haproxy.cfg'), cfg);
  const child = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await sleep(WARMUP * 1000);
    const cpu0 = await cpuMicros(child.pid);
    await sleep(SECONDS * 1000);
    const cpu1 = await cpuMicros(child.pid);
    const stats = await haproxyStats(sock);
    // HAProxy checks each server once per `inter`: the nominal count is the check count.
    return { cpu: delta(cpu0, cpu1), checks: (N * SECONDS * 1000) / INTERVAL, up: stats.up };
  } finally {
    await stop(child);
    await rm(dir, { recursive: true, force: true });
  }
}

// Bundle lvsd's checker (TypeScript) into one ESM file the child process can import.
const outDir = await mkdtemp(join(tmpdir(), 'lvsd-bench-'));
const modulePath = join(outDir, 'http.mjs');
await build({
  entryPoints: [join(here, '../src/health/checkers/http.ts')],
  outfile: modulePath,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});

const backends = spawn(process.execPath, [join(here, 'probe-cpu-backends.mjs'), String(N)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const ports = JSON.parse(await lines(backends)());
const haveHaproxy = spawnSync('haproxy', ['-v']).status === 0;
console.log(
  `${N} backends, each checked every ${INTERVAL} ms; window ${SECONDS} s after ${WARMUP} s warm-up; lvsd tick ${TICK} ms`,
);

try {
  for (let run = 1; run <= RUNS; run++) {
    const l = await measureLvsd(modulePath, ports);
    const lvsdPer = l.cpu.total / l.checks;
    let line = `run ${run}: lvsd ${lvsdPer.toFixed(1)} µs/check [${split(l.cpu, l.checks)}] (${l.checks} checks, ${l.failed} failed${l.failed ? ' ' + JSON.stringify(l.codes) : ''}, RSS ${(l.rss / 1048576).toFixed(1)} MiB)`;
    if (haveHaproxy) {
      const h = await measureHaproxy(ports);
      const haPer = h.cpu.total / h.checks;
      line += `; haproxy ${haPer.toFixed(1)} µs/check [${split(h.cpu, h.checks)}] (${h.up}/${N} UP); ratio lvsd/haproxy ${(lvsdPer / haPer).toFixed(2)}×`;
    } else {
      line += '; haproxy not installed';
    }
    console.log(line);
  }
} finally {
  await stop(backends);
  await rm(outDir, { recursive: true, force: true });
}
