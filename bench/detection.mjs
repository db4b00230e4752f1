#!/usr/bin/env node
// bench/detection: kill a backend, measure the time until lvsd has set its weight to 0, over
// many runs (p50 / p99 / max), against the configured bound.
//
//   npm run build && node bench/detection.mjs [--runs 30] [--json] ...   (--help for all)
//
// What runs: the real CLI, `node bin/lvsd.js run -f CONF --ipvs memory`, reading a generated
// keepalived.conf with N HTTP_GET real servers on 127.0.0.1, each its own process
// (bench/lib/detection-backend.mjs). One run: wait a random fraction of delay_loop (so the
// failure lands at a random phase of the check schedule), note the time, then fail one backend:
//   kill  SIGKILL the backend's process: the port refuses connections at once;
//   hang  SIGSTOP it: the kernel still accepts connections into the listen backlog, nothing
//         answers, every check runs into its timeout.
// The detection moment is when lvsd's JSON log line `ipvs.applied` carrying
// `-e -t VIP -r 127.0.0.1:PORT -m -w 0` reaches this process (the memory table lives inside
// lvsd, so its log is the observable; the line is written right after the batch is applied).
// Then the backend is restored (a new process on the same port, or SIGCONT), and the bench waits
// for the `-w WEIGHT` line before the next run.
//
// Two rules for going down, each with both failures:
//   retry  keepalived's: down after retry + 1 consecutive failures, the confirming checks
//          delay_before_retry after the previous failure;
//   fall   lvsd's `fall N` in real_server (an lvsd file; `retry 1` is left in the checker to
//          show that fall replaces it): down after N consecutive failures, spaced the same way.
//
// The bound, with F the failures that take a server down (retry + 1, or fall):
//   bound = delay_loop + F x connect_timeout + (F - 1) x delay_before_retry
// Why: the failure can start just after a passing check, so the first failing check is up to
// one delay_loop away; each failing check may take up to connect_timeout (a refused connect
// takes ~0, a server that accepts and never answers takes one connect_timeout); the F - 1
// confirming checks each start delay_before_retry after the previous failure was known. The
// issue's shorthand, F x delay_loop + connect_timeout, equals it only when delay_before_retry +
// connect_timeout = delay_loop; it is printed too (for the defaults here, 0.8 s vs 1.0 s) and
// it is too tight for a hanging server, whose checks each cost a timeout. lvsd's own latencies
// (the scheduler's 50 ms tick, the reconciler's 20 ms coalescing window, the log pipe) are
// deliberately NOT added to the bound: they are what the bench measures against it.
//
// Times are host times: the figures depend on the machine's load (other processes, the CI).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'lvsd.js');
const BACKEND = join(ROOT, 'bench', 'lib', 'detection-backend.mjs');
const VIP = '198.18.0.10:80';
/** lvsd defaults (src/health/scheduler.ts tickMs, src/daemon/reconciler.ts coalesceMs). */
const SCHEDULER_TICK_MS = 50;
const COALESCE_MS = 20;
const ALL_SCENARIOS = ['retry/kill', 'retry/hang', 'fall/kill', 'fall/hang'];

const HELP = `Usage: node bench/detection.mjs [OPTIONS]

Kills one of N backends per run and measures how long lvsd (the built CLI, \`lvsd run --ipvs
memory\`) takes to log the IPVS change that gives it weight 0; prints p50, p99, max per scenario
against the configured bound, and PASS when p99 <= bound. Build first: npm run build.

Options:
  --runs N                runs per scenario (default 30)
  --backends N            real servers (default 3; the killed one rotates)
  --scenario LIST         comma-separated, from ${ALL_SCENARIOS.join(', ')} (default: all)
  --delay-loop S          seconds between regular checks (default 0.2)
  --connect-timeout S     check timeout, seconds (default 0.2)
  --retry N               keepalived retry, for the retry scenarios (default 2: down after 3)
  --delay-before-retry S  seconds between confirming checks (default 0.1)
  --fall N                lvsd fall, for the fall scenarios (default 3)
  --json                  print the results (every sample included) as JSON instead of a table
  --help                  this text

Exit status: 0 every scenario PASS; 1 a scenario FAIL (or a run timed out); 2 bad usage;
3 lvsd could not start (not built? run npm run build).
`;

// ---------------------------------------------------------------------------------------------
// command line

function parseCli(argv) {
  const o = {
    runs: 30,
    backends: 3,
    scenarios: ALL_SCENARIOS,
    delayLoop: 0.2,
    connectTimeout: 0.2,
    retry: 2,
    delayBeforeRetry: 0.1,
    fall: 3,
    json: false,
    help: false,
  };
  const num = (name, v, { int = false, min = 0 } = {}) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min || (int && !Number.isInteger(n))) {
      throw new Error(`${name} wants ${int ? 'an integer' : 'a number'} >= ${min}, not '${v}'`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=')
      ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
      : [a, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--help':
      case '-h':
        o.help = true;
        break;
      case '--json':
        o.json = true;
        break;
      case '--runs':
        o.runs = num(flag, value(), { int: true, min: 1 });
        break;
      case '--backends':
        o.backends = num(flag, value(), { int: true, min: 2 });
        break;
      case '--scenario': {
        const list = String(value() ?? '')
          .split(',')
          .filter(Boolean);
        for (const s of list) {
          if (!ALL_SCENARIOS.includes(s))
            throw new Error(`unknown scenario '${s}' (${ALL_SCENARIOS.join(', ')})`);
        }
        if (list.length === 0) throw new Error('--scenario wants a list');
        o.scenarios = list;
        break;
      }
      case '--delay-loop':
        o.delayLoop = num(flag, value(), { min: 0.01 });
        break;
      case '--connect-timeout':
        o.connectTimeout = num(flag, value(), { min: 0.01 });
        break;
      case '--retry':
        o.retry = num(flag, value(), { int: true, min: 0 });
        break;
      case '--delay-before-retry':
        o.delayBeforeRetry = num(flag, value(), { min: 0 });
        break;
      case '--fall':
        o.fall = num(flag, value(), { int: true, min: 1 });
        break;
      default:
        throw new Error(`unknown option '${a}' (see --help)`);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// small helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of sorted values. */
function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function exitOf(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

async function within(promise, ms) {
  let t;
  const timeout = new Promise((r) => (t = setTimeout(() => r('timeout'), ms)));
  const r = await Promise.race([promise.then(() => 'done'), timeout]);
  clearTimeout(t);
  return r;
}

/** Reads a child's stdout as lines; `wait(pred, from, ms)` finds the first matching line. */
class Lines {
  constructor(stream, parse = (l) => l) {
    this.lines = [];
    this.waiters = new Set();
    createInterface({ input: stream }).on('line', (raw) => {
      const entry = { at: performance.now(), raw, value: parse(raw) };
      this.lines.push(entry);
      for (const w of [...this.waiters]) w(entry);
    });
  }
  get length() {
    return this.lines.length;
  }
  wait(pred, from, ms, what) {
    const seen = this.lines.slice(from).find((e) => pred(e.value));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = (entry) => {
        if (!pred(entry.value)) return;
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(entry);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        reject(new Error(`${what}: not within ${ms} ms`));
      }, ms);
      this.waiters.add(done);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// backends: one process each, tracked by PID

const started = new Set(); // every child process this bench started, for cleanup

function track(child) {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

async function startBackend(port) {
  for (let attempt = 0; ; attempt++) {
    const child = track(
      spawn(process.execPath, [BACKEND, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const lines = new Lines(child.stdout, (l) => JSON.parse(l));
    try {
      const ready = await Promise.race([
        lines.wait((v) => typeof v.port === 'number', 0, 10_000, 'backend listening'),
        exitOf(child).then(() => {
          throw new Error(`backend exited: ${stderr.trim()}`);
        }),
      ]);
      return { child, port: ready.value.port };
    } catch (err) {
      child.kill('SIGKILL');
      // The old process's port may take a moment to be released after SIGKILL.
      if (port === 0 || attempt >= 20) throw err;
      await sleep(25);
    }
  }
}

async function stopChild(child, signal = 'SIGTERM', ms = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGCONT');
  child.kill(signal);
  if ((await within(exitOf(child), ms)) === 'timeout') {
    child.kill('SIGKILL');
    await within(exitOf(child), 2000);
  }
}

// ---------------------------------------------------------------------------------------------
// configuration

function config(opts, rule, backends) {
  const servers = backends
    .map(
      (b) => `    real_server 127.0.0.1 ${b.port} {
        weight ${b.weight}
${rule === 'fall' ? `        fall ${opts.fall}\n` : ''}        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            delay_loop ${opts.delayLoop}
            connect_timeout ${opts.connectTimeout}
            retry ${rule === 'fall' ? 1 : opts.retry}
            delay_before_retry ${opts.delayBeforeRetry}
        }
    }`,
    )
    .join('\n');
  return `# generated by bench/detection.mjs (${rule} rule)
virtual_server 198.18.0.10 80 {
    lb_algo wlc
    lb_kind NAT
    protocol TCP
${servers}
}
`;
}

/** This lvsd's own control sockets and admin state under `dir` (when the build has the flags),
 *  so the bench never meets a running lvsd's /run/lvsd sockets or /var/lib/lvsd state. */
function isolationArgs(dir) {
  const help =
    spawnSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8' }).stdout ?? '';
  const args = [];
  if (help.includes('--socket')) args.push('--socket', join(dir, 'lvsd.sock'));
  if (help.includes('--state-dir')) args.push('--state-dir', join(dir, 'state'));
  if (args.length > 0) mkdirSync(dir, { recursive: true });
  return args;
}

function boundsFor(opts, rule) {
  const f = rule === 'fall' ? opts.fall : opts.retry + 1;
  const boundMs =
    1000 * (opts.delayLoop + f * opts.connectTimeout + (f - 1) * opts.delayBeforeRetry);
  const issueBoundMs = 1000 * (f * opts.delayLoop + opts.connectTimeout);
  // lvsd's own granularity, for reference only (not part of the bound): the scheduler starts a
  // due check on its next 50 ms tick, so each of the F checks may start up to a tick late, and
  // the reconciler coalesces changes for 20 ms before it applies them.
  const lvsdAllowanceMs = f * SCHEDULER_TICK_MS + COALESCE_MS;
  return {
    failures: f,
    boundMs: Math.round(boundMs),
    issueBoundMs: Math.round(issueBoundMs),
    allowanceBoundMs: Math.round(boundMs + lvsdAllowanceMs),
  };
}

// ---------------------------------------------------------------------------------------------
// one rule: start backends + lvsd, run its scenarios

async function runRule(opts, rule, modes, dir, progress) {
  const backends = [];
  for (let i = 0; i < opts.backends; i++) {
    const b = await startBackend(0);
    backends.push({ ...b, weight: i + 1 });
  }
  const file = join(dir, `${rule}.conf`);
  writeFileSync(file, config(opts, rule, backends));
  const check = spawnSync(process.execPath, [CLI, 'check-config', '-f', file], {
    encoding: 'utf8',
  });
  if (check.status !== 0) {
    throw Object.assign(
      new Error(
        `lvsd check-config -f ${file}: exit ${check.status}\n${check.stdout}${check.stderr}`,
      ),
      { exit: 3 },
    );
  }
  const checkConfig = check.stdout.trim().split('\n').at(-1) ?? '';

  const lvsd = track(
    spawn(
      process.execPath,
      [CLI, 'run', '-f', file, '--ipvs', 'memory', ...isolationArgs(join(dir, rule))],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  let stderr = '';
  lvsd.stderr.on('data', (d) => (stderr += d));
  const log = new Lines(lvsd.stdout, (l) => {
    try {
      return JSON.parse(l);
    } catch {
      return {};
    }
  });
  const died = exitOf(lvsd).then(() => {
    throw new Error(`lvsd exited (${lvsd.exitCode ?? lvsd.signalCode}): ${stderr.trim()}`);
  });
  died.catch(() => undefined);
  const until = (pred, from, ms, what) => Promise.race([log.wait(pred, from, ms, what), died]);
  const applied = (rs, w) => (v) =>
    v.event?.name === 'ipvs.applied' &&
    v.event.data.lines.includes(`-e -t ${VIP} -r ${rs} -m -w ${w}`);

  const results = [];
  try {
    await until((v) => v.event?.name === 'daemon.started', 0, 15_000, 'daemon.started').catch(
      (err) => {
        throw Object.assign(err, { exit: 3 });
      },
    );
    // Let every checker pass once: the first result of a checker that never ran takes it down
    // on a single failure (keepalived's start-up rule), which is not what this measures.
    await sleep(3 * opts.delayLoop * 1000 + 200);
    if (log.lines.some((e) => e.value.event?.name === 'rs.down'))
      throw new Error('a backend went down before the bench began');

    const { failures, boundMs, issueBoundMs, allowanceBoundMs } = boundsFor(opts, rule);
    const waitMs = Math.max(5000, 10 * boundMs);
    for (const mode of modes) {
      const samples = [];
      const decide = [];
      const reasons = new Map();
      let timeouts = 0;
      for (let run = 0; run < opts.runs; run++) {
        const b = backends[run % backends.length];
        const rs = `127.0.0.1:${b.port}`;
        await sleep(Math.random() * opts.delayLoop * 1000);
        const mark = log.length;
        const t0 = performance.now();
        if (mode === 'kill') b.child.kill('SIGKILL');
        else b.child.kill('SIGSTOP');
        try {
          const hit = await until(applied(rs, 0), mark, waitMs, `${rs} weight 0`);
          samples.push(hit.at - t0);
          const down = log.lines
            .slice(mark)
            .find((e) => e.value.event?.name === 'rs.down' && e.value.event.data.rs === rs);
          if (down) {
            decide.push(down.at - t0);
            const reason = down.value.event.data.reason;
            reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
          }
        } catch (err) {
          if (lvsd.exitCode !== null || lvsd.signalCode !== null) throw err;
          timeouts++;
        }
        // Restore, and wait until lvsd has given the weight back.
        const markUp = log.length;
        if (mode === 'kill') {
          await exitOf(b.child);
          const again = await startBackend(b.port);
          b.child = again.child;
        } else {
          b.child.kill('SIGCONT');
        }
        await until(applied(rs, b.weight), markUp, waitMs, `${rs} weight ${b.weight} back`);
        // A couple of passing checks before the next failure.
        await sleep(2 * opts.delayLoop * 1000);
        progress(`${rule}/${mode} ${run + 1}/${opts.runs}`);
      }
      const sorted = [...samples].sort((x, y) => x - y);
      const sortedDecide = [...decide].sort((x, y) => x - y);
      const p99 = percentile(sorted, 0.99);
      const r1 = (x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
      results.push({
        scenario: `${rule}/${mode}`,
        rule,
        mode,
        failures,
        runs: opts.runs,
        timeouts,
        p50Ms: r1(percentile(sorted, 0.5)),
        p99Ms: r1(p99),
        maxMs: r1(sorted.at(-1) ?? NaN),
        minMs: r1(sorted[0] ?? NaN),
        decideP50Ms: r1(percentile(sortedDecide, 0.5)),
        decideP99Ms: r1(percentile(sortedDecide, 0.99)),
        boundMs,
        issueBoundMs,
        pass: timeouts === 0 && p99 <= boundMs,
        issuePass: timeouts === 0 && p99 <= issueBoundMs,
        allowanceBoundMs,
        allowancePass: timeouts === 0 && p99 <= allowanceBoundMs,
        reasons: Object.fromEntries(reasons),
        samplesMs: samples.map(r1),
        checkConfig,
      });
    }
  } finally {
    await stopChild(lvsd, 'SIGTERM', 5000);
    for (const b of backends) {
      b.child.stdin?.end();
      await stopChild(b.child, 'SIGTERM', 2000);
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// output

function table(opts, results) {
  const ms = (x) => (Number.isFinite(x) ? `${Math.round(x)}` : '-');
  const rows = [
    [
      'scenario',
      'down after',
      'failure',
      'runs',
      'p50 ms',
      'p99 ms',
      'max ms',
      'decide p50/p99',
      'bound ms',
      'result',
      'issue bound ms',
    ],
    ...results.map((r) => [
      r.scenario,
      r.rule === 'fall' ? `fall ${r.failures}` : `retry ${r.failures - 1} (${r.failures})`,
      r.mode === 'kill' ? 'SIGKILL: refused' : 'SIGSTOP: hangs',
      `${r.runs - r.timeouts}/${r.runs}`,
      ms(r.p50Ms),
      ms(r.p99Ms),
      ms(r.maxMs),
      `${ms(r.decideP50Ms)}/${ms(r.decideP99Ms)}`,
      `${r.boundMs}`,
      r.pass ? 'PASS' : 'FAIL',
      `${r.issueBoundMs} ${r.issuePass ? '(met)' : '(exceeded)'}`,
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row) =>
    row
      .map((cell, c) => (c >= 3 && c <= 8 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ');
  const out = [
    `lvsd detection: ${opts.runs} runs per scenario, ${opts.backends} backends, node bin/lvsd.js run --ipvs memory (node ${process.version})`,
    `timers: delay_loop ${opts.delayLoop} s, connect_timeout ${opts.connectTimeout} s, delay_before_retry ${opts.delayBeforeRetry} s; retry ${opts.retry} / fall ${opts.fall} (fall scenarios keep retry 1 in the checker: fall replaces it)`,
    `measured: failing the backend -> lvsd's ipvs.applied line with -w 0 read from its stdout ("decide" = its rs.down line)`,
    '',
    line(rows[0]),
    line(rows[0].map((_, c) => '-'.repeat(widths[c]))),
    ...rows.slice(1).map(line),
    '',
    'bound = delay_loop + F x connect_timeout + (F-1) x delay_before_retry (F = failures to go down); PASS = p99 <= bound',
    'issue bound = F x delay_loop + connect_timeout, shown for reference',
    `with lvsd's granularity (F x ${SCHEDULER_TICK_MS} ms scheduler tick + ${COALESCE_MS} ms coalescing), for reference: ` +
      results
        .map(
          (r) => `${r.scenario} ${r.allowanceBoundMs} ms ${r.allowancePass ? 'met' : 'exceeded'}`,
        )
        .join(', '),
    ...results.map(
      (r) =>
        `${r.scenario}: rs.down reasons ${JSON.stringify(r.reasons)}${r.timeouts ? `; ${r.timeouts} runs timed out` : ''}`,
    ),
    `check-config: ${[...new Set(results.map((r) => r.checkConfig))].join(' | ')}`,
  ];
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// main

async function main() {
  let opts;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench/detection: ${err.message}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-bench-detection-'));
  const onSignal = () => {
    for (const c of started) {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress =
    opts.json || !process.stderr.isTTY ? () => {} : (s) => process.stderr.write(`\r${s}    `);
  const results = [];
  try {
    for (const rule of ['retry', 'fall']) {
      const modes = ['kill', 'hang'].filter((m) => opts.scenarios.includes(`${rule}/${m}`));
      if (modes.length > 0) results.push(...(await runRule(opts, rule, modes, dir, progress)));
    }
  } catch (err) {
    process.stderr.write(`\nbench/detection: ${err.message}\n`);
    return err.exit ?? 1;
  } finally {
    for (const c of [...started]) await stopChild(c, 'SIGKILL', 2000);
    rmSync(dir, { recursive: true, force: true });
  }
  if (!opts.json && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  if (opts.json) {
    const { runs, backends, delayLoop, connectTimeout, retry, delayBeforeRetry, fall } = opts;
    process.stdout.write(
      `${JSON.stringify({ settings: { runs, backends, delayLoop, connectTimeout, retry, delayBeforeRetry, fall, node: process.version }, results }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`${table(opts, results)}\n`);
  }
  return results.every((r) => r.pass) ? 0 : 1;
}

process.exitCode = await main();
