#!/usr/bin/env node
// bench/parse-config.mjs - parse speed of `lvsd check-config` against `keepalived -t`.
//
// Generates keepalived.conf files with 100, 1,000 and 10,000 real servers (bench/lib/gen-config.mjs)
// and times, on the same files in one run, `node bin/lvsd.js check-config -f FILE` against
// `keepalived -t -f FILE` (Debian package keepalived), runs interleaved, wall time from spawn to
// exit, Node start-up included. Goal (issue + ruling 18, /work/shared/notes/rulings.md): lvsd
// within 2x of keepalived at 10,000 real servers; 100 and 1,000 are reported without a goal.
//
// Run: npm run bench:parse [-- OPTIONS]   or   node bench/parse-config.mjs [OPTIONS]   (see --help)

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import process from 'node:process';
import { Buffer } from 'node:buffer';
import { setTimeout, clearTimeout } from 'node:timers';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeepalivedConfig } from './lib/gen-config.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '..');
const SELF = fileURLToPath(import.meta.url);

const GOAL_SIZE = 10000; // ruling 18: the goal applies at 10,000 real servers only
const GOAL_RATIO = 2.0;
const RUN_TIMEOUT_MS = 120_000;
const NETNS_IFACE = 'bench0';
const INNER_FLAG = '--_inner-netns'; // internal: we are the re-exec inside a fresh netns
// A network namespace, plus a private mount namespace so that a fresh sysfs can be mounted on /sys:
// /sys/class/net otherwise keeps showing the interfaces of the namespace that mounted it (this is
// what `ip netns exec` does too), and lvsd reads its interface list from there.
const UNSHARE_ARGS = ['--net', '--mount', '--propagation', 'private'];

const HELP = `Usage: node bench/parse-config.mjs [options]      (npm run bench:parse -- [options])

Times \`lvsd check-config -f FILE\` against \`keepalived -t -f FILE\` on generated keepalived.conf
files (198.18.0.0/15 addresses, global_defs, 2 vrrp_instances, N/10 virtual servers with
HTTP_GET / TCP_CHECK / SSL_GET checkers). Runs are interleaved (1 warm-up + N measured each,
order alternating per round); wall time per run is spawn-to-exit (process.hrtime.bigint()).
Goal: lvsd median <= ${GOAL_RATIO}x keepalived median at ${GOAL_SIZE} real servers (ruling 18);
other sizes are reported without a goal.

Options:
  --sizes LIST         real-server counts, comma-separated (default 100,1000,10000)
  --runs N             measured runs per tool and size (default 9; plus 1 warm-up each)
  --per-vs N           real servers per virtual server (default 10)
  --lvsd-cmd CMD       lvsd command (alias --lvsd). Default:
                         node <repo>/bin/lvsd.js check-config -f {file}
  --keepalived-cmd CMD keepalived command (alias --keepalived). Default: keepalived -t -f {file}
                       CMD is split on spaces (quotes '...' / "..." group words); {file} is
                       replaced by the config path, or the path is appended if {file} is absent.
                       E.g. --lvsd-cmd "node -e 0" as a stand-in until the CLI exists.
  --no-netns           run in the current network namespace (default, when root: a fresh
                       network + mount namespace via \`unshare --net --mount\`, own sysfs on
                       /sys, interfaces lo + a veth pair "${NETNS_IFACE}"/"${NETNS_IFACE}peer";
                       the whole bench re-runs itself inside it, so both tools see the same
                       interfaces and no wrapper is timed)
  --interface NAME     interface for the vrrp_instances (default ${NETNS_IFACE} in the namespace,
                       else the first non-loopback interface in /sys/class/net)
  --out DIR            write the generated configs to DIR and keep them (default: a temp dir,
                       removed at the end)
  --json               print results as JSON (on stdout; progress goes to stderr)
  -h, --help           this help

Exit status: 0 all runs clean and the goal (if measured) met; 1 goal missed; 2 bench failure
(a tool missing or not runnable, or a run that did not exit 0 / keepalived printed messages);
64 usage error.
`;

// ---------------------------------------------------------------------------------------------
// options

function usageError(msg) {
  process.stderr.write(`parse-config: ${msg}\nTry --help.\n`);
  process.exit(64);
}

function parseArgs(argv) {
  const opts = {
    sizes: [100, 1000, 10000],
    runs: 9,
    perVs: 10,
    lvsdCmd: null,
    keepalivedCmd: null,
    netns: true,
    inner: false,
    iface: null,
    out: null,
    json: false,
  };
  const positiveInt = (name, v) => {
    if (!/^\d+$/.test(v ?? '') || Number(v) < 1)
      usageError(`${name} wants a positive integer, got ${v}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let val;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      val = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (val !== undefined) return val;
      if (i + 1 >= argv.length) usageError(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '-h':
      case '--help':
        process.stdout.write(HELP);
        process.exit(0);
        break;
      case '--sizes': {
        const list = next()
          .split(',')
          .map((s) => s.trim().replace(/_/g, ''))
          .filter(Boolean);
        if (list.length === 0) usageError('--sizes is empty');
        opts.sizes = list.map((s) => positiveInt('--sizes', s));
        break;
      }
      case '--runs':
        opts.runs = positiveInt('--runs', next());
        break;
      case '--per-vs':
        opts.perVs = positiveInt('--per-vs', next());
        break;
      case '--lvsd':
      case '--lvsd-cmd':
        opts.lvsdCmd = splitCommand(next(), arg);
        break;
      case '--keepalived':
      case '--keepalived-cmd':
        opts.keepalivedCmd = splitCommand(next(), arg);
        break;
      case '--no-netns':
        opts.netns = false;
        break;
      case INNER_FLAG:
        opts.inner = true;
        break;
      case '--interface':
        opts.iface = next();
        break;
      case '--out':
        opts.out = path.resolve(next());
        break;
      case '--json':
        opts.json = true;
        break;
      default:
        usageError(`unknown argument ${arg}`);
    }
  }
  return opts;
}

/** "node -e 'x y'" -> ['node', '-e', 'x y'] (no shell: no variables, globs or escapes). */
function splitCommand(s, flag) {
  const words = [];
  let cur = null;
  let quote = null;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur ??= '';
    } else if (/\s/.test(ch)) {
      if (cur !== null) words.push(cur);
      cur = null;
    } else {
      cur = (cur ?? '') + ch;
    }
  }
  if (quote) usageError(`${flag}: unterminated ${quote}`);
  if (cur !== null) words.push(cur);
  if (words.length === 0) usageError(`${flag} is empty`);
  return words;
}

function commandFor(template, file) {
  const argv = template.map((w) => w.replaceAll('{file}', file));
  if (!template.some((w) => w.includes('{file}'))) argv.push(file);
  return argv;
}

const shellQuote = (argv) =>
  argv.map((w) => (/^[\w@%+=:,./{}-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');

// ---------------------------------------------------------------------------------------------
// running things

/** Spawn argv, time spawn -> exit. Resolves {ms, code, signal, error, stdout, stderr}. */
function timedRun(argv, cwd) {
  return new Promise((resolve) => {
    const chunks = { stdout: [], stderr: [] };
    const sizes = { stdout: 0, stderr: 0 };
    const keep = (name) => (buf) => {
      if (sizes[name] < 64 * 1024) chunks[name].push(buf);
      sizes[name] += buf.length;
    };
    let exitInfo = null;
    let spawnError = null;
    const t0 = process.hrtime.bigint();
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ ms: NaN, code: null, signal: null, error: err, stdout: '', stderr: '' });
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stdout.on('data', keep('stdout'));
    child.stderr.on('data', keep('stderr'));
    child.on('exit', (code, signal) => {
      exitInfo = { ms: Number(process.hrtime.bigint() - t0) / 1e6, code, signal };
    });
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', () => {
      clearTimeout(timer);
      const text = (name) => Buffer.concat(chunks[name]).toString('utf8');
      if (spawnError && !exitInfo) {
        resolve({ ms: NaN, code: null, signal: null, error: spawnError, stdout: '', stderr: '' });
      } else {
        resolve({ ...exitInfo, error: spawnError, stdout: text('stdout'), stderr: text('stderr') });
      }
    });
  });
}

/** Absolute path of an executable (as spawn would find it), or null. */
function findOnPath(cmd) {
  const isExec = (p) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return isExec(path.resolve(cmd)) ? path.resolve(cmd) : null;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExec(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return null;
}

function run(argv, opts = {}) {
  return spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...opts });
}

function firstLines(text, n = 8) {
  const lines = text.replace(/\s+$/, '').split('\n').filter(Boolean);
  const head = lines.slice(0, n).map((l) => `      | ${l.slice(0, 240)}`);
  if (lines.length > n) head.push(`      | ... (${lines.length - n} more lines)`);
  return head.join('\n');
}

function log(msg = '') {
  process.stderr.write(`${msg}\n`);
}

function loud(msg) {
  log(`\n!!! BENCH FAILURE: ${msg}`);
}

// ---------------------------------------------------------------------------------------------
// network namespace: re-exec the whole bench inside `unshare --net`, so that every timed run is a
// plain spawn of the tool (no per-run wrapper) and keepalived sees a known set of interfaces.

function maybeReexecInNetns(opts, argv) {
  if (!opts.netns || opts.inner) return;
  const why = (() => {
    if (process.platform !== 'linux') return 'not Linux';
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root';
    // The same steps as the real thing: new net + mount namespace, a fresh sysfs, a veth pair.
    const probe = run([
      'unshare',
      ...UNSHARE_ARGS,
      '--',
      'sh',
      '-c',
      'mount -t sysfs sysfs /sys && ip link add p0 type veth peer name p1 && test -e /sys/class/net/p0',
    ]);
    if (probe.error) return `unshare/ip not usable (${probe.error.code ?? probe.error.message})`;
    if (probe.status !== 0)
      return `unshare ${UNSHARE_ARGS.join(' ')} + sysfs mount + veth failed: ${(probe.stderr || '').trim()}`;
    return null;
  })();
  if (why) {
    log(
      `parse-config: note - running in the current network namespace (${why}); use --no-netns to silence this.`,
    );
    opts.netns = false;
    return;
  }
  const child = spawnSync(
    'unshare',
    [...UNSHARE_ARGS, '--', process.execPath, SELF, ...argv, INNER_FLAG],
    {
      stdio: 'inherit',
    },
  );
  if (child.error) {
    log(`parse-config: cannot re-run inside a network namespace: ${child.error.message}`);
    process.exit(2);
  }
  process.exit(child.status ?? (child.signal === 'SIGINT' ? 130 : 2));
}

function setUpNetnsInterfaces() {
  const steps = [
    ['mount', '-t', 'sysfs', 'sysfs', '/sys'],
    ['ip', 'link', 'set', 'lo', 'up'],
    ['ip', 'link', 'add', NETNS_IFACE, 'type', 'veth', 'peer', 'name', `${NETNS_IFACE}peer`],
    ['ip', 'link', 'set', NETNS_IFACE, 'up'],
    ['ip', 'link', 'set', `${NETNS_IFACE}peer`, 'up'],
    ['test', '-e', `/sys/class/net/${NETNS_IFACE}`],
  ];
  for (const argv of steps) {
    const r = run(argv);
    if (r.error || r.status !== 0) {
      log(`parse-config: ${argv.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`);
      process.exit(2);
    }
  }
  // IPv6 off, as the corpus oracle does (best effort; keepalived -t does not depend on it).
  run([
    'sysctl',
    '-qw',
    'net.ipv6.conf.all.disable_ipv6=1',
    'net.ipv6.conf.default.disable_ipv6=1',
  ]);
}

function pickHostInterface() {
  let names = [];
  try {
    names = fs.readdirSync('/sys/class/net');
  } catch {
    return 'eth0';
  }
  const isLoopback = (n) => {
    try {
      return fs.readFileSync(`/sys/class/net/${n}/type`, 'utf8').trim() === '772';
    } catch {
      return n === 'lo';
    }
  };
  const up = (n) => {
    try {
      return ['up', 'unknown'].includes(
        fs.readFileSync(`/sys/class/net/${n}/operstate`, 'utf8').trim(),
      );
    } catch {
      return false;
    }
  };
  const candidates = names.filter((n) => !isLoopback(n)).sort();
  return candidates.find(up) ?? candidates[0] ?? 'eth0';
}

// ---------------------------------------------------------------------------------------------
// statistics

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

// ---------------------------------------------------------------------------------------------
// main

async function main() {
  const argv = process.argv.slice(2);
  const opts = parseArgs(argv);
  maybeReexecInNetns(
    opts,
    argv.filter((a) => a !== INNER_FLAG),
  );
  if (opts.inner) setUpNetnsInterfaces();

  const iface = opts.iface ?? (opts.inner ? NETNS_IFACE : pickHostInterface());
  const lvsdTemplate = opts.lvsdCmd ?? [
    process.execPath,
    path.join(REPO_ROOT, 'bin', 'lvsd.js'),
    'check-config',
    '-f',
    '{file}',
  ];
  const kaTemplate = opts.keepalivedCmd ?? ['keepalived', '-t', '-f', '{file}'];
  const lvsdIsDefault = opts.lvsdCmd === null;

  // Where the configs go.
  let outDir = opts.out;
  let removeOut = false;
  if (outDir) fs.mkdirSync(outDir, { recursive: true });
  else {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lvsd-bench-parse-'));
    removeOut = true;
  }
  const cleanup = () => {
    if (removeOut) fs.rmSync(outDir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  process.on('SIGTERM', () => {
    cleanup();
    process.exit(143);
  });

  // Does keepalived exist at all? And which version (only asked of a keepalived binary).
  let keepalivedVersion = null;
  let keepalivedMissing = null;
  const kaBinary = findOnPath(kaTemplate[0]);
  if (!kaBinary) {
    keepalivedMissing =
      `keepalived not found ("${kaTemplate[0]}" is not on PATH or not executable). Install it with ` +
      '`apt-get update && apt-get install -y keepalived` (Debian package keepalived), or pass --keepalived-cmd.';
  } else if (/keepalived/.test(path.basename(kaBinary))) {
    const v = run([kaBinary, '-v']);
    keepalivedVersion = `${v.stderr ?? ''}${v.stdout ?? ''}`.split('\n')[0].trim() || null;
  }

  const env = {
    node: process.version,
    keepalived:
      keepalivedVersion ?? (keepalivedMissing ? null : `version unknown (${kaTemplate[0]})`),
    cpu: `${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}`,
    loadavg: os.loadavg().map((x) => round(x, 2)),
    netns: opts.inner
      ? `fresh (unshare ${UNSHARE_ARGS.join(' ')}, own /sys): interfaces ${fs.readdirSync('/sys/class/net').sort().join(', ')}`
      : 'current',
    interface: iface,
    lvsdCmd: shellQuote(lvsdTemplate),
    lvsdStandIn: !lvsdIsDefault,
    keepalivedCmd: shellQuote(kaTemplate),
    runs: opts.runs,
    warmup: 1,
    perVirtualServer: opts.perVs,
    configDir: removeOut ? null : outDir,
  };
  log(
    `parse-config: node ${env.node}; ${env.keepalived ?? 'keepalived: MISSING'}; ${env.cpu}; load ${env.loadavg.join(' ')}`,
  );
  log(`  network namespace: ${env.netns}; vrrp interface: ${iface}`);
  log(`  lvsd:       ${env.lvsdCmd}`);
  log(`  keepalived: ${env.keepalivedCmd}`);
  log(`  ${opts.runs} measured runs + 1 warm-up per tool and size, interleaved`);

  let failures = 0;
  if (keepalivedMissing) {
    loud(keepalivedMissing);
    failures++;
  }

  // Generate all files first (generation is not timed).
  const files = opts.sizes.map((n) => {
    const text = generateKeepalivedConfig({
      realServers: n,
      perVirtualServer: opts.perVs,
      interface: iface,
    });
    const file = path.join(outDir, `parse-config-${n}.conf`);
    fs.writeFileSync(file, text);
    return {
      realServers: n,
      virtualServers: Math.ceil(n / opts.perVs),
      file,
      lines: text.split('\n').length,
      bytes: Buffer.byteLength(text),
    };
  });

  const tools = [
    { key: 'lvsd', template: lvsdTemplate, disabled: null },
    { key: 'keepalived', template: kaTemplate, disabled: keepalivedMissing ? 'missing' : null },
  ];

  // Judge one run: returns a problem string or null.
  const judge = (tool, r) => {
    if (r.error && !Number.isFinite(r.ms)) return `could not start: ${r.error.message}`;
    if (r.signal)
      return `killed by ${r.signal}${r.signal === 'SIGKILL' ? ` (timeout ${RUN_TIMEOUT_MS} ms?)` : ''}`;
    if (r.code !== 0) {
      if (tool.key === 'lvsd' && r.code === 5)
        return 'exit 5 (lvsd reports warnings/errors on a file keepalived -t accepts)';
      if (tool.key === 'lvsd' && r.code === 4) return 'exit 4 (lvsd: cannot run)';
      if (tool.key === 'keepalived' && r.code === 5)
        return 'exit 5 (keepalived reports configuration errors/warnings)';
      return `exit ${r.code}`;
    }
    if (tool.key === 'keepalived' && r.stderr.trim()) return 'exit 0 but printed messages';
    return null;
  };
  // A tool that cannot run at all (not a verdict about the file) is switched off for the rest.
  const cannotRun = (tool, r) => {
    if (r.error && !Number.isFinite(r.ms)) return true;
    if (tool.key === 'lvsd' && lvsdIsDefault) {
      if (/ERR_MODULE_NOT_FOUND|Cannot find module|SyntaxError/.test(r.stderr)) return true;
      if (r.code !== 0 && r.code !== 4 && r.code !== 5) return true; // not a check-config verdict
    }
    return false;
  };

  const results = [];
  for (const f of files) {
    log(
      `\n== ${f.realServers} real servers: ${f.virtualServers} virtual servers, ${f.lines} lines, ${f.bytes} bytes`,
    );
    const per = {};
    for (const t of tools)
      per[t.key] = { samples: [], exits: [], problems: new Map(), warmupMs: null };

    for (let roundNo = 0; roundNo <= opts.runs; roundNo++) {
      const order = roundNo % 2 === 0 ? tools : [...tools].reverse();
      for (const t of order) {
        if (t.disabled) continue;
        const r = await timedRun(commandFor(t.template, f.file), outDir);
        const p = per[t.key];
        const problem = judge(t, r);
        if (problem && !p.problems.has(problem)) {
          p.problems.set(problem, r);
          loud(
            `${t.key} on ${path.basename(f.file)} (${roundNo === 0 ? 'warm-up' : `run ${roundNo}`}): ${problem}`,
          );
          log(`    command: ${shellQuote(commandFor(t.template, f.file))}`);
          if (r.stderr.trim()) log(`    stderr:\n${firstLines(r.stderr)}`);
          if (r.stdout.trim()) log(`    stdout:\n${firstLines(r.stdout)}`);
        }
        if (cannotRun(t, r)) {
          t.disabled = 'not runnable';
          const hint =
            t.key === 'lvsd' && lvsdIsDefault
              ? ` Is the CLI built? Run \`npm run build\` in ${REPO_ROOT} (bin/lvsd.js imports dist/check-config.mjs or dist/lvsd.mjs), ` +
                'or pass a stand-in with --lvsd-cmd.'
              : '';
          loud(`${t.key} cannot run; it is skipped for the rest of the bench.${hint}`);
          failures++;
          continue;
        }
        p.exits.push(r.signal ? r.signal : r.code);
        if (roundNo === 0) p.warmupMs = r.ms;
        else p.samples.push(r.ms);
      }
    }

    const summary = {};
    for (const t of tools) {
      const p = per[t.key];
      const clean = p.exits.length > 0 && p.problems.size === 0;
      if (p.problems.size) failures++;
      summary[t.key] = {
        medianMs: p.samples.length ? round(median(p.samples), 2) : null,
        minMs: p.samples.length ? round(Math.min(...p.samples), 2) : null,
        maxMs: p.samples.length ? round(Math.max(...p.samples), 2) : null,
        warmupMs: round(p.warmupMs, 2),
        samplesMs: p.samples.map((x) => round(x, 2)),
        exitCodes: [...new Set(p.exits)],
        clean,
        skipped: t.disabled,
        problems: [...p.problems.keys()],
      };
    }
    const lv = summary.lvsd;
    const ka = summary.keepalived;
    const ratio = lv.medianMs !== null && ka.medianMs ? round(lv.medianMs / ka.medianMs, 2) : null;
    const goal =
      f.realServers === GOAL_SIZE
        ? { maxRatio: GOAL_RATIO, pass: ratio === null ? null : ratio <= GOAL_RATIO }
        : null;
    const res = {
      ...f,
      file: removeOut ? path.basename(f.file) : f.file,
      keepalived: ka,
      lvsd: lv,
      ratio,
      goal,
    };
    results.push(res);
    const fmt = (s) =>
      s.medianMs === null
        ? `n/a${s.skipped ? ` (${s.skipped})` : ''}`
        : `median ${s.medianMs} ms, min ${s.minMs} ms, exit ${s.exitCodes.join('/')}`;
    log(`   keepalived: ${fmt(ka)}`);
    log(`   lvsd:       ${fmt(lv)}`);
  }

  cleanup();
  env.loadavgEnd = os.loadavg().map((x) => round(x, 2));
  // The bench itself keeps about one CPU busy, so the end figure may be up to ~1 higher.
  const halfCpus = 0.5 * os.cpus().length;
  const busy = env.loadavg[0] > halfCpus || env.loadavgEnd[0] > halfCpus + 1;
  env.busyWarning = busy
    ? `machine busy (1-min load ${env.loadavg[0]} -> ${env.loadavgEnd[0]} on ${os.cpus().length} CPUs): figures are noisy`
    : null;

  const goalRow = results.find((r) => r.goal);
  const goalMissed = goalRow?.goal?.pass === false;
  const ok = failures === 0 && !goalMissed;
  const exitCode = failures > 0 ? 2 : goalMissed ? 1 : 0;

  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ env, results, failures, ok, exitCode }, null, 2)}\n`);
  } else {
    printTable(results, env);
    if (env.busyWarning) process.stdout.write(`\nnote: ${env.busyWarning}\n`);
    if (failures)
      process.stdout.write(
        `\n!!! ${failures} bench failure(s) - see the messages above (stderr).\n`,
      );
    if (!goalRow)
      process.stdout.write(
        `\n(no ${GOAL_SIZE}-real-server size in this run, so no goal verdict)\n`,
      );
  }
  process.exitCode = exitCode;
}

function printTable(results, env) {
  const n = (x) => (x === null || x === undefined ? 'n/a' : x.toFixed(1));
  const exits = (s) => (s.exitCodes.length ? s.exitCodes.join('/') : s.skipped ? 'skip' : '-');
  const rows = [
    [
      'real servers',
      'keepalived med ms',
      'min ms',
      'exit',
      'lvsd med ms',
      'min ms',
      'exit',
      'lvsd/keepalived',
      'goal',
    ],
    ...results.map((r) => [
      r.realServers.toLocaleString('en-US'),
      n(r.keepalived.medianMs),
      n(r.keepalived.minMs),
      exits(r.keepalived),
      n(r.lvsd.medianMs),
      n(r.lvsd.minMs),
      exits(r.lvsd),
      r.ratio === null ? 'n/a' : `${r.ratio.toFixed(2)}x`,
      r.goal
        ? `<= ${r.goal.maxRatio.toFixed(1)}x ${r.goal.pass === null ? 'n/a' : r.goal.pass ? 'PASS' : 'FAIL'}`
        : '-',
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const fmtRow = (row) =>
    row
      .map((cell, c) => (c === 0 || c === 8 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ');
  const out = [
    '',
    `parse-config bench - ${env.runs} run${env.runs === 1 ? '' : 's'} + 1 warm-up each, interleaved; wall time spawn->exit, median (min)`,
    `  node ${env.node}, ${env.keepalived ?? 'keepalived missing'}, ${env.cpu}`,
    `  netns: ${env.netns}`,
    `  lvsd:       ${env.lvsdCmd}${env.lvsdStandIn ? '   (STAND-IN given with --lvsd-cmd, not the default CLI)' : ''}`,
    `  keepalived: ${env.keepalivedCmd}`,
    '',
    fmtRow(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(fmtRow),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err) => {
  log(`parse-config: ${err?.stack ?? err}`);
  process.exit(2);
});
