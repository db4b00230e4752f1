// CPU per HTTP health check: the real lvsd daemon vs HAProxy, side by side in one invocation
// (performance.md: only figures taken in one run compare). See --help.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { probeCpuConfig } from './lib/probe-cpu-config.mjs';
import {
  cpuDelta,
  cpuMicros,
  lineReader,
  median,
  memory,
  sleep,
  switches,
} from './lib/probe-cpu-proc.mjs';

const HELP = `Usage: node bench/probe-cpu.mjs [options]

CPU per HTTP health check of the real lvsd daemon and of HAProxy, same N loopback backends,
same interval, in one invocation (runs alternate lvsd / haproxy; medians are reported).

lvsd:    node bin/lvsd.js run -f GEN.conf --ipvs memory --log-level warn, where GEN.conf has N
         real servers 127.0.0.1:PORT (HTTP_GET url /health status 200, connect_timeout 2,
         delay_loop = interval) in virtual servers 198.18.x.y:80 (lb_kind NAT, protocol TCP).
         When lvsd has --socket/--state-dir, each run gets private ones in a temp dir.
haproxy: haproxy -db, one backend, 'option httpchk GET /health', 'server ... check inter'.
Both open a fresh connection per check. CPU is utime+stime of the checker process alone (all
threads) from /proc/PID/stat over the window; the backends run in a separate process (not
counted), which also counts the checks actually received in the window (lvsd's requests carry
'User-Agent: lvsd', HAProxy's none), so µs/check = CPU / checks really made. Wake-ups are the
context switches of all the checker's threads (/proc/PID/task/*/status) per check.

Options:
  --n N            backends = real servers (default 1000)
  --interval S     check interval, seconds (delay_loop / inter; default 1)
  --per-vs K       real servers per virtual server (default 10)
  --runs R         alternating lvsd/haproxy runs (default 3)
  --seconds S      measurement window (default 10)
  --warmup S       warm-up after start, before the window (default 5)
  --checker-only   add a row: lvsd's HTTP checker in a hand-written loop (not the daemon)
  --tick MS        tick of that loop (default 100)
  --no-haproxy     measure lvsd only
  --rss            instead: lvsd's RSS with 1,000 and 10,000 real servers (see --rss-sizes)
  --rss-sizes LIST comma list of real-server counts (default 1000,10000)
  --rss-ports P    backend ports the RSS runs point their real servers at, cycling (default 1000)
  --rss-rate C     checks/s in RSS runs: delay_loop = max(interval, count / C) (default 1000)
  --cpu-prof DIR   run lvsd under node --cpu-prof, profiles into DIR (one profile per lvsd run;
                   summarise with: node bench/lib/cpuprofile-top.mjs FILE)
  --lvsd PATH      lvsd entry point (default: a snapshot of bin/ + dist/ taken at start, so a
                   concurrent 'npm run build' cannot pull dist/ away mid-run)
  --json           print one JSON document instead of tables
  --help           this text

Needs haproxy on PATH (Debian: apt-get install -y haproxy); without it, lvsd only.
`;

let opt;
try {
  ({ values: opt } = parseArgs({
    options: {
      n: { type: 'string', default: '1000' },
      interval: { type: 'string', default: '1' },
      'per-vs': { type: 'string', default: '10' },
      runs: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '5' },
      'checker-only': { type: 'boolean', default: false },
      tick: { type: 'string', default: '100' },
      'no-haproxy': { type: 'boolean', default: false },
      rss: { type: 'boolean', default: false },
      'rss-sizes': { type: 'string', default: '1000,10000' },
      'rss-ports': { type: 'string', default: '1000' },
      'rss-rate': { type: 'string', default: '1000' },
      'cpu-prof': { type: 'string' },
      lvsd: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (err) {
  process.stderr.write(`probe-cpu: ${err.message} (see --help)\n`);
  process.exit(2);
}
if (opt.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const num = (name) => {
  const v = Number(opt[name]);
  if (!(v > 0)) {
    process.stderr.write(`probe-cpu: --${name} must be a positive number (got ${opt[name]})\n`);
    process.exit(2);
  }
  return v;
};
const N = Math.round(num('n'));
const INTERVAL_S = num('interval');
const PER_VS = Math.round(num('per-vs'));
const RUNS = Math.round(num('runs'));
const SECONDS = num('seconds');
const WARMUP = num('warmup');
const TICK = num('tick');
const JSON_OUT = opt.json;
const PROF_DIR = opt['cpu-prof'] === undefined ? undefined : resolve(opt['cpu-prof']);
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const log = (s) => {
  if (!JSON_OUT) process.stdout.write(`${s}\n`);
};
const note = (s) => process.stderr.write(`${s}\n`);

async function stop(child, signal = 'SIGTERM', graceMs = 4000) {
  if (child.exitCode !== null || child.signalCode !== null) return 'exited';
  child.kill(signal);
  const r = await Promise.race([
    once(child, 'exit').then(() => 'exited'),
    sleep(graceMs).then(() => 'timeout'),
  ]);
  if (r === 'timeout') {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  return r;
}

// ---------- backends (separate process; also the check counter) ----------

async function startBackends(n) {
  const child = spawn(process.execPath, [join(here, 'probe-cpu-backends.mjs'), String(n)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const next = lineReader(child.stdout);
  const ports = JSON.parse(await next());
  return {
    child,
    ports,
    /** {requests, lvsd, connections} since start; replies come in request order. */
    async count() {
      child.stdin.write('count\n');
      return JSON.parse(await next());
    },
  };
}

/** One measured window of process `pid`: CPU, wake-ups, checks counted by the backends. */
async function window(pid, backends, checksOf) {
  const [c0, s0, b0] = [await cpuMicros(pid), await switches(pid), await backends.count()];
  await sleep(SECONDS * 1000);
  const [c1, s1, b1] = [await cpuMicros(pid), await switches(pid), await backends.count()];
  const mem = await memory(pid);
  const cpu = cpuDelta(c0, c1);
  const checks = checksOf(b0, b1);
  return {
    checks,
    cpuUs: cpu.total,
    userUs: cpu.user,
    sysUs: cpu.sys,
    usPerCheck: cpu.total / checks,
    cpuSecPer10k: (cpu.total / checks) * 1e-2, // µs/check × 10,000 / 1e6
    wakeupsPerCheck: (s1.voluntary - s0.voluntary + s1.involuntary - s0.involuntary) / checks,
    threads: s1.threads,
    rssBytes: mem.rss,
    hwmBytes: mem.hwm,
    checksPerSecond: checks / SECONDS,
  };
}

const lvsdChecks = (b0, b1) => b1.lvsd - b0.lvsd;
const otherChecks = (b0, b1) => b1.requests - b1.lvsd - (b0.requests - b0.lvsd);

// ---------- lvsd (the real daemon) ----------

let lvsdEntry = opt.lvsd;
let snapshotDir;
async function snapshotLvsd() {
  // bin/lvsd.js imports ../dist/lvsd.mjs; package.json makes bin/*.js ESM.
  snapshotDir = await mkdtemp(join(tmpdir(), 'lvsd-bench-snap-'));
  await cp(join(repo, 'dist'), join(snapshotDir, 'dist'), { recursive: true });
  await cp(join(repo, 'bin'), join(snapshotDir, 'bin'), { recursive: true });
  await cp(join(repo, 'package.json'), join(snapshotDir, 'package.json'));
  return join(snapshotDir, 'bin', 'lvsd.js');
}

/** Newer lvsd has control sockets (default /run/lvsd): give each run private ones. */
let privateSockets = false;
function probeRunFlags() {
  const help = spawnSync(process.execPath, [lvsdEntry, 'run', '--help'], { encoding: 'utf8' });
  privateSockets = /--socket\b/.test(help.stdout) && /--state-dir\b/.test(help.stdout);
}

let seq = 0;
async function startLvsd(configText, dir) {
  const id = ++seq;
  const file = join(dir, `probe-cpu-${id}.conf`);
  await writeFile(file, configText);
  const args = [lvsdEntry, 'run', '-f', file, '--ipvs', 'memory', '--log-level', 'warn'];
  if (privateSockets) {
    const run = join(dir, `run-${id}`);
    await mkdir(join(run, 'state'), { recursive: true });
    args.push('--socket', join(run, 'lvsd.sock'), '--state-dir', join(run, 'state'));
  }
  // Node 20 refuses --cpu-prof in NODE_OPTIONS: pass it (and the exit helper) as node flags.
  const nodeFlags = [];
  if (PROF_DIR !== undefined) {
    await mkdir(PROF_DIR, { recursive: true });
    nodeFlags.push(
      '--cpu-prof',
      `--cpu-prof-dir=${PROF_DIR}`,
      `--cpu-prof-name=lvsd-${process.pid}-${id}.cpuprofile`,
      `--import=${pathToFileURL(join(here, 'lib/probe-cpu-exit-on-term.mjs')).href}`,
    );
  }
  const child = spawn(process.execPath, [...nodeFlags, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // --log-level warn: DOWN transitions are warnings; count them (a healthy run has none).
  let warnings = 0;
  let firstWarning = '';
  const out = lineReader(child.stdout);
  void (async () => {
    for (;;) {
      const l = await out().catch(() => null);
      if (l === null) return;
      warnings++;
      if (!firstWarning) firstWarning = l.slice(0, 300);
    }
  })();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let stopping = false;
  child.on('exit', (code, sig) => {
    if (!stopping) note(`lvsd exited early (${code ?? sig}): ${stderr.slice(0, 500)}`);
  });
  return {
    child,
    file,
    warnings: () => ({ warnings, firstWarning }),
    /** 'exited' or 'timeout' (still alive 4 s after SIGTERM, killed). */
    async stop() {
      stopping = true;
      return stop(child, 'SIGTERM', PROF_DIR === undefined ? 4000 : 8000);
    },
  };
}

const termHangs = [];
async function measureLvsd(backends, dir) {
  const lvsd = await startLvsd(
    probeCpuConfig({ ports: backends.ports, perVirtualServer: PER_VS, delayLoop: INTERVAL_S }),
    dir,
  );
  try {
    await sleep(WARMUP * 1000);
    if (lvsd.child.exitCode !== null) throw new Error('lvsd did not start');
    const w = await window(lvsd.child.pid, backends, lvsdChecks);
    return { ...w, ...lvsd.warnings() };
  } finally {
    if ((await lvsd.stop()) === 'timeout') termHangs.push(lvsd.child.pid);
  }
}

// ---------- lvsd's checker alone, in a hand-written loop (not the daemon) ----------

let checkerModule;
async function buildChecker(dir) {
  const { build } = await import('esbuild');
  checkerModule = join(dir, 'http.mjs');
  await build({
    entryPoints: [join(repo, 'src/health/checkers/http.ts')],
    outfile: checkerModule,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
}

async function measureCheckerOnly(backends) {
  const child = spawn(
    process.execPath,
    [
      join(here, 'probe-cpu-lvsd.mjs'),
      checkerModule,
      JSON.stringify(backends.ports),
      String(INTERVAL_S * 1000),
      String(TICK),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const next = lineReader(child.stdout);
  try {
    await next(); // ready
    await sleep(WARMUP * 1000);
    return await window(child.pid, backends, lvsdChecks);
  } finally {
    await stop(child);
  }
}

// ---------- HAProxy ----------

async function haproxyUp(sock) {
  const s = connect(sock);
  s.end('show stat\n');
  let out = '';
  for await (const chunk of s) out += chunk;
  return out.split('\n').filter((l) => l.startsWith('checked,s') && l.split(',')[17] === 'UP')
    .length;
}

async function measureHaproxy(backends, dir) {
  const sock = join(dir, 'haproxy-stats.sock');
  const inter = Math.round(INTERVAL_S * 1000);
  const servers = backends.ports
    .map((p, i) => `    server s${i} 127.0.0.1:${p} check inter ${inter}`)
    .join('\n');
  const cfgFile = join(dir, 'haproxy.cfg');
  await writeFile(
    cfgFile,
    `global
    maxconn ${Math.max(4000, N * 4)}
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
`,
  );
  const child = spawn('haproxy', ['-db', '-f', cfgFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    await sleep(WARMUP * 1000);
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${stderr.slice(0, 500)}`);
    const w = await window(child.pid, backends, otherChecks);
    return { ...w, up: await haproxyUp(sock).catch(() => NaN) };
  } finally {
    await stop(child, 'SIGUSR1'); // soft stop
    await rm(sock, { force: true });
  }
}

// ---------- output ----------

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const mib = (b) => (Number.isFinite(b) ? (b / 1048576).toFixed(1) : '–');

function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  const rule = `|${w.map((x, i) => (i === 0 ? `:${'-'.repeat(x + 1)}` : `${'-'.repeat(x + 1)}:`)).join('|')}|`;
  return [line(all[0]), rule, ...all.slice(1).map(line)].join('\n');
}

// ---------- main ----------

const haveHaproxy = !opt['no-haproxy'] && spawnSync('haproxy', ['-v']).status === 0;
if (!opt['no-haproxy'] && !haveHaproxy) {
  note(
    'probe-cpu: haproxy not found on PATH (Debian: apt-get install -y haproxy): HAProxy side skipped',
  );
}
const dir = await mkdtemp(join(tmpdir(), 'lvsd-bench-cpu-'));
if (lvsdEntry === undefined) lvsdEntry = await snapshotLvsd();
probeRunFlags();
const doc = {
  bench: 'probe-cpu',
  node: process.version,
  haproxy: haveHaproxy
    ? spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]
    : null,
  lvsd: `node ${lvsdEntry} run -f GEN.conf --ipvs memory --log-level warn${privateSockets ? ' --socket TMP/lvsd.sock --state-dir TMP/state' : ''}`,
};

let backends;
const cleanup = async () => {
  if (backends) await stop(backends.child);
  await rm(dir, { recursive: true, force: true });
  if (snapshotDir) await rm(snapshotDir, { recursive: true, force: true });
};
process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

try {
  if (opt.rss) {
    // RSS: real servers cycle over a few backend ports (a port repeats across virtual servers,
    // never inside one), delay_loop stretched so the check rate stays near --rss-rate.
    const sizes = opt['rss-sizes'].split(',').map(Number);
    const nPorts = Math.round(num('rss-ports'));
    const rate = num('rss-rate');
    backends = await startBackends(nPorts);
    doc.mode = 'rss';
    doc.params = {
      ports: nPorts,
      perVirtualServer: PER_VS,
      rate,
      warmup: WARMUP,
      seconds: SECONDS,
    };
    doc.rss = [];
    log(
      `lvsd RSS: real servers on ${nPorts} loopback backend ports (cycling, ${Math.min(PER_VS, nPorts)} per virtual server); delay_loop = max(${INTERVAL_S}, count/${rate}) s; RSS read after max(${WARMUP} s, 2 × delay_loop) warm-up + ${SECONDS} s window`,
    );
    for (const count of sizes) {
      const delayLoop = Math.max(INTERVAL_S, Math.ceil(count / rate));
      const lvsd = await startLvsd(
        probeCpuConfig({
          ports: backends.ports,
          realServers: count,
          perVirtualServer: Math.min(PER_VS, nPorts),
          delayLoop,
        }),
        dir,
      );
      try {
        await sleep(Math.max(WARMUP, delayLoop * 2) * 1000);
        const w = await window(lvsd.child.pid, backends, lvsdChecks);
        doc.rss.push({ realServers: count, delayLoop, ...w, ...lvsd.warnings() });
      } finally {
        if ((await lvsd.stop()) === 'timeout') termHangs.push(lvsd.child.pid);
      }
    }
    log(
      table(
        [
          'real servers',
          'delay_loop s',
          'checks/s',
          'RSS MiB',
          'peak RSS MiB',
          'µs/check',
          'wake-ups/check',
          'lvsd warnings',
        ],
        doc.rss.map((r) => [
          r.realServers,
          r.delayLoop,
          Math.round(r.checksPerSecond),
          mib(r.rssBytes),
          mib(r.hwmBytes),
          f1(r.usPerCheck),
          f2(r.wakeupsPerCheck),
          r.warnings,
        ]),
      ),
    );
  } else {
    backends = await startBackends(N);
    if (opt['checker-only']) await buildChecker(dir);
    doc.mode = 'cpu';
    doc.params = {
      n: N,
      interval: INTERVAL_S,
      perVirtualServer: PER_VS,
      runs: RUNS,
      seconds: SECONDS,
      warmup: WARMUP,
    };
    doc.runs = [];
    log(
      `${N} loopback backends, each checked every ${INTERVAL_S} s (fresh connection per check); ${RUNS} alternating runs; window ${SECONDS} s after ${WARMUP} s warm-up; CPU of the checker process only`,
    );
    for (let run = 1; run <= RUNS; run++) {
      // Alternate the order too, so neither side always runs first.
      const order = run % 2 === 1 ? ['lvsd', 'haproxy'] : ['haproxy', 'lvsd'];
      const r = { run };
      for (const who of order) {
        if (who === 'lvsd') r.lvsd = await measureLvsd(backends, dir);
        else if (haveHaproxy) r.haproxy = await measureHaproxy(backends, dir);
      }
      if (opt['checker-only']) r.checkerOnly = await measureCheckerOnly(backends);
      doc.runs.push(r);
      note(
        `run ${run}: lvsd ${f1(r.lvsd.usPerCheck)} µs/check` +
          (r.haproxy ? `, haproxy ${f1(r.haproxy.usPerCheck)}` : '') +
          (r.checkerOnly ? `, checker only ${f1(r.checkerOnly.usPerCheck)}` : ''),
      );
    }
    const rows = [
      ['lvsd daemon (bin/lvsd.js run)', 'lvsd'],
      ...(haveHaproxy ? [['HAProxy (option httpchk)', 'haproxy']] : []),
      ...(opt['checker-only'] ? [['lvsd checker only (loop, not the daemon)', 'checkerOnly']] : []),
    ];
    const med = {};
    for (const [, key] of rows) {
      const xs = doc.runs.map((r) => r[key]);
      med[key] = {
        usPerCheck: median(xs.map((x) => x.usPerCheck)),
        userPerCheck: median(xs.map((x) => x.userUs / x.checks)),
        sysPerCheck: median(xs.map((x) => x.sysUs / x.checks)),
        cpuSecPer10k: median(xs.map((x) => x.cpuSecPer10k)),
        wakeupsPerCheck: median(xs.map((x) => x.wakeupsPerCheck)),
        checksPerSecond: median(xs.map((x) => x.checksPerSecond)),
        rssBytes: median(xs.map((x) => x.rssBytes)),
        runs: xs.map((x) => x.usPerCheck),
      };
    }
    doc.median = med;
    if (haveHaproxy) {
      doc.ratio = med.lvsd.usPerCheck / med.haproxy.usPerCheck;
      doc.runRatios = doc.runs.map((r) => r.lvsd.usPerCheck / r.haproxy.usPerCheck);
    }
    log('');
    log(
      table(
        [
          'checker',
          'µs/check',
          'user+sys µs',
          'CPU-s / 10k checks',
          'wake-ups/check',
          'checks/s',
          'RSS MiB',
          'vs HAProxy',
          'runs µs/check',
        ],
        rows.map(([label, key]) => {
          const m = med[key];
          return [
            label,
            f1(m.usPerCheck),
            `${f1(m.userPerCheck)}+${f1(m.sysPerCheck)}`,
            m.cpuSecPer10k.toFixed(3),
            f2(m.wakeupsPerCheck),
            Math.round(m.checksPerSecond),
            mib(m.rssBytes),
            haveHaproxy ? `${f2(m.usPerCheck / med.haproxy.usPerCheck)}×` : '–',
            m.runs.map(f1).join(', '),
          ];
        }),
      ),
    );
    if (haveHaproxy) {
      log(
        `\nratio lvsd/HAProxy (medians): ${f2(doc.ratio)}× (per run: ${doc.runRatios.map(f2).join(', ')}); goal ≤ 1.00× → ${doc.ratio <= 1 ? 'met' : 'NOT met'}`,
      );
      log(
        `HAProxy servers UP at the end of each run: ${doc.runs.map((r) => r.haproxy.up).join(', ')} of ${N}`,
      );
    }
    const warn = doc.runs.reduce((s, r) => s + r.lvsd.warnings, 0);
    if (warn > 0) {
      log(
        `lvsd logged ${warn} warnings (e.g. ${doc.runs.find((r) => r.lvsd.warnings)?.lvsd.firstWarning})`,
      );
    }
  }
  doc.sigtermHangs = termHangs.length;
  if (termHangs.length > 0) {
    log(
      `note: lvsd was still running ${PROF_DIR === undefined ? 4 : 8} s after SIGTERM in ${termHangs.length} run(s) and was killed (a daemon bug, not part of the figures)`,
    );
  }
  if (PROF_DIR !== undefined) {
    doc.profiles = (await readdir(PROF_DIR))
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(PROF_DIR, f));
    log(`CPU profiles: ${doc.profiles.join(' ') || 'none written'}`);
  }
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
} finally {
  await cleanup();
}
