// bench/hooks-storm — what hooks cost while 1,000 real servers flap (issue 8): check latency
// (p50 / p99, each check timed from its start to its result, event-loop delays included) and
// event-loop lag, with hooks (notify_up / notify_down on every real server, a webhook endpoint
// that never answers) and without (no notify scripts, no webhooks), in one invocation; prints
// the hooks / bare ratios. Goal: hooks cost < 5 % more check latency at p99.
//
//   node bench/hooks-storm.mjs [--seconds 30] [--warmup 10] [--rounds 2] [--servers 1000]
//                              [--flips 100] [--split] [--direct] [--json]
//
// Each round runs bare and hooks in fresh processes (bench/lib/storm-run.mjs, bundled from the
// TypeScript sources with esbuild), in the order bare, hooks, then hooks, bare, … so drift on a
// shared machine falls on both sides; percentiles are over the pooled checks of all rounds.
// --split adds notify-only and webhook-only runs to each round, to tell the two costs apart.
// Scripts start from the spawner process, as under `lvsd run` (src/spawner); --direct makes the
// daemon fork them itself, as lvsd did before the spawner, to show what the spawner saves. The
// spawner's own CPU is printed beside the daemon's, so no cost is hidden in it.
// Event-loop lag is sampled every 1 ms (perf_hooks.monitorEventLoopDelay), less that interval.
// The backends (bench/lib/storm-backends.mjs, same seed every run) flip `--flips` servers per
// second in their own process, so each server flips about every servers/flips seconds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function flag(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`hooks-storm: --${name} needs a positive number`);
    process.exit(2);
  }
  return v;
}
const opt = {
  seconds: flag('seconds', 30),
  warmupS: flag('warmup', 10),
  rounds: Math.min(10, Math.floor(flag('rounds', 2))),
  servers: Math.min(5000, Math.floor(flag('servers', 1000))),
  flipsPerSec: flag('flips', 100),
  seed: 8,
};
const asJson = process.argv.includes('--json');
const direct = process.argv.includes('--direct');
const split = process.argv.includes('--split');

const { bundleTs } = await import('./lib/bundle-ts.mjs');
const probesShim = join(ROOT, 'bench', 'lib', 'storm-probes.mjs');
const bundle = await bundleTs(
  'hooks-storm-run.mjs',
  {
    entry: join(ROOT, 'bench', 'lib', 'storm-run.mjs'),
  },
  {
    define: { __LVSD_VERSION__: '"bench"' },
    plugins: [
      {
        name: 'time-the-probes',
        setup(b) {
          // Only the daemon's import of its probes; the shim itself imports the real module.
          b.onResolve({ filter: /^\.\/probes\.js$/ }, (args) =>
            args.importer.endsWith(join('src', 'daemon', 'daemon.ts'))
              ? { path: probesShim }
              : undefined,
          );
        },
      },
    ],
  },
);

// The spawner as the daemon runs it: its own bundle, found beside the round's bundle.
const spawnerEntry = await bundleTs('spawner.mjs', {
  entry: join(ROOT, 'src', 'spawner', 'child.ts'),
});

const out = mkdtempSync(join(tmpdir(), 'lvsd-hooks-storm-'));
const runs = [];
const pooled = { bare: [], hooks: [], notify: [], webhook: [] };
try {
  for (let r = 0; r < opt.rounds; r++) {
    const base = split ? ['bare', 'hooks', 'notify', 'webhook'] : ['bare', 'hooks'];
    const order = r % 2 === 0 ? base : [...base].reverse();
    for (const mode of order) {
      const limitS = opt.warmupS + opt.seconds + 60;
      const p = spawnSync(
        process.execPath,
        [bundle, mode, JSON.stringify({ ...opt, round: r, out, direct, spawnerEntry })],
        { encoding: 'utf8', timeout: limitS * 1000, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const line = (p.stdout ?? '').trim().split('\n').pop() ?? '';
      if (p.status !== 0 || !line.startsWith('{')) {
        console.error(
          `hooks-storm: round ${r} ${mode} failed (status ${p.status}, ${p.signal ?? 'no signal'})`,
        );
        process.exit(1);
      }
      const res = JSON.parse(line);
      runs.push({ round: r, ...res });
      for (const v of JSON.parse(readFileSync(join(out, `${mode}-${r}.json`), 'utf8')))
        pooled[mode].push(v);
      if (!asJson)
        console.error(
          `round ${r} ${mode.padEnd(7)}: check p50 ${res.checkMs.p50} ms p99 ${res.checkMs.p99} ms, loop lag p99 ${res.loopLagMs.p99} ms, ${res.checksPerSec} checks/s, ${res.rsEvents} rs events, ${res.notifyLogLines} notify runs, ${res.webhookPosts} webhook POSTs, CPU ${res.cpuPct} %${res.spawnerCpuPct === undefined ? '' : ` + spawner ${res.spawnerCpuPct} %`}`,
        );
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

function pct(samples, p) {
  const s = Float64Array.from(samples).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const side = (mode) => {
  const rs = runs.filter((x) => x.mode === mode);
  return {
    checks: pooled[mode].length,
    checkP50: pct(pooled[mode], 50),
    checkP99: pct(pooled[mode], 99),
    loopP50: median(rs.map((x) => x.loopLagMs.p50)),
    loopP99: median(rs.map((x) => x.loopLagMs.p99)),
    loopMax: Math.max(...rs.map((x) => x.loopLagMs.max)),
    rsEvents: rs.reduce((a, x) => a + x.rsEvents, 0),
    notifyRuns: rs.reduce((a, x) => a + x.notifyLogLines, 0),
    webhookPosts: rs.reduce((a, x) => a + x.webhookPosts, 0),
    cpuPct: Number(median(rs.map((x) => x.cpuPct)).toFixed(1)),
    spawnerCpuPct: Number(median(rs.map((x) => x.spawnerCpuPct ?? 0)).toFixed(1)),
  };
};
const bare = side('bare');
const hooks = side('hooks');
const ratio = (a, b) => Number((a / b).toFixed(3));
const summary = {
  options: { ...opt, scripts: direct ? 'forked by the daemon (--direct)' : 'spawner' },
  bare,
  hooks,
  ratio: {
    checkP50: ratio(hooks.checkP50, bare.checkP50),
    checkP99: ratio(hooks.checkP99, bare.checkP99),
    loopP99: ratio(hooks.loopP99, bare.loopP99),
  },
  goal: 'hooks / bare check latency p99 < 1.05',
  ...(split ? { notifyOnly: side('notify'), webhookOnly: side('webhook') } : {}),
  runs,
};
summary.goalMet = summary.ratio.checkP99 < 1.05;

if (asJson) console.log(JSON.stringify(summary, null, 2));
else {
  const f = (x) => x.toFixed(2);
  console.log(
    `\n## bench/hooks-storm: ${opt.servers} real servers, ${opt.flipsPerSec} flips/s, ${opt.rounds} round(s) × ${opt.seconds} s (after ${opt.warmupS} s warm-up), scripts ${direct ? 'forked by the daemon (--direct)' : 'from the spawner'}\n`,
  );
  console.log(
    '| | checks | check p50 ms | check p99 ms | loop lag p50 ms | loop lag p99 ms | loop lag max ms | rs events | notify runs | webhook POSTs | daemon CPU % | spawner CPU % |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const rows = [
    ['bare', bare],
    ['hooks', hooks],
  ];
  if (split) rows.push(['notify only', side('notify')], ['webhook only', side('webhook')]);
  for (const [name, s] of rows)
    console.log(
      `| ${name} | ${s.checks} | ${f(s.checkP50)} | ${f(s.checkP99)} | ${f(s.loopP50)} | ${f(s.loopP99)} | ${f(s.loopMax)} | ${s.rsEvents} | ${s.notifyRuns} | ${s.webhookPosts} | ${s.cpuPct} | ${s.spawnerCpuPct} |`,
    );
  console.log(
    `\nratio hooks / bare: check p50 ${summary.ratio.checkP50}, check p99 ${summary.ratio.checkP99}, loop lag p99 ${summary.ratio.loopP99}`,
  );
  console.log(`goal (${summary.goal}): ${summary.goalMet ? 'met' : 'NOT met'}`);
}
