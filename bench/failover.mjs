#!/usr/bin/env node
// bench/failover — client-observed failover outage of keepalived and lvsd, same topology, one
// invocation (issue 5).
//
//   sudo node bench/failover.mjs [--lab shared|native] [--runs 10] [--adverts 1,0.1]
//        [--scenarios crash,stop] [--no-defaults] [--prefix lvb] [--max-minutes 90] [--no-build]
//
// Two ways to build the same topology (the NAT pair in network namespaces: client, dir1, dir2,
// rs1, rs2; 198.18.0.0/15 only; a UDP prober in the client every 10 ms against the VIP):
//   --lab shared  (the default when ../shared/lab exists; NEEDS ../shared, or LAB_DIR): drives
//                 the shared lab's `failover-bench`, which measured the keepalived reference
//                 figures; keepalived runs through the lab's own adapter, lvsd through
//                 bench/failover/lvsd-adapter.sh (the same keepalived.conf templates plus an
//                 lvsd block). Its extra columns (event → VIP added, notify) are printed too.
//   --lab native  (the default without ../shared): the repository's own harness,
//                 test/helpers/director-lab.ts (the one the e2e tests use), driven by
//                 bench/failover/native.ts (bundled with esbuild at start); the same
//                 scenarios, phase jitter and outage definition; keepalived and lvsd get the
//                 same generated config (lvsd's adds its lvsd block with a key file).
//
// For each advert interval (default 1 s, VRRPv2, and 0.1 s, VRRPv3) and each scenario
// (default: crash = SIGSTOP + both links down + SIGKILL of the master's process group, then a
// "reboot" and the fail-back; stop = SIGTERM, then restart and fail-back), keepalived and then
// lvsd run --runs iterations each. Then lvsd with its own defaults (`timing fast`, advert_int
// omitted = 80 ms) runs the crash scenario. Printed at the end: the lab's tables (min / median
// / p90 / max per row), the lvsd/keepalived ratios per row, and the issue's goals.
// Root only. Writes /tmp/lab-scratch/PREFIX/… (the combined rows: failover-TIME.tsv there).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist, importBundled, needTools, parseOptions } from './lib/cli.mjs';
import { fmt, stats } from './lib/stats.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAB_DIR = resolve(process.env.LAB_DIR ?? join(ROOT, '..', 'shared', 'lab'));
const BENCH = join(LAB_DIR, 'failover-bench');
const ADAPTER = join(ROOT, 'bench', 'failover', 'lvsd-adapter.sh');

const opt = parseOptions('failover', import.meta.url, {
  lab: existsSync(BENCH) ? 'shared' : 'native',
  runs: '10',
  adverts: '1,0.1',
  scenarios: 'crash,stop',
  prefix: 'lvb',
  'max-minutes': '90',
  defaults: true,
  build: true,
});
const runs = Number(opt.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 200) {
  console.error('bench/failover: --runs 1..200');
  process.exit(2);
}
const adverts = opt.adverts.split(',').filter(Boolean);
const scenarios = opt.scenarios.split(',').filter(Boolean);
for (const s of scenarios)
  if (!['crash', 'kill9', 'stop'].includes(s)) {
    console.error(`bench/failover: scenario ${s}: one of crash, kill9, stop`);
    process.exit(2);
  }
if (!/^[a-z][a-z0-9]{0,7}$/.test(opt.prefix)) {
  console.error('bench/failover: --prefix must match [a-z][a-z0-9]{0,7}');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('bench/failover: needs root (network namespaces)');
  process.exit(1);
}
if (!['shared', 'native'].includes(opt.lab)) {
  console.error('bench/failover: --lab shared | native');
  process.exit(2);
}
if (opt.lab === 'shared' && !existsSync(BENCH)) {
  console.error(
    `bench/failover: needs the shared lab (../shared/lab/failover-bench, or LAB_DIR): ${BENCH} is missing.\n` +
      'Use --lab native to measure on the repository harness (test/helpers/director-lab.ts) instead.',
  );
  process.exit(1);
}
needTools('failover', ['keepalived', 'arping', 'openssl']);
if (opt.build) buildDist(ROOT);

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, 'Z');
const outDir = join('/tmp/lab-scratch', opt.prefix);
mkdirSync(outDir, { recursive: true });
const out = join(outDir, `failover-${stamp}.tsv`);
const started = Date.now();
const budgetMs = Number(opt['max-minutes']) * 60_000;

function bench(label, adapter, advert, list, env = {}) {
  const left = Math.max(1, Math.floor((budgetMs - (Date.now() - started)) / 60_000));
  const args = ['--runs', String(runs), '--advert', advert, '--adapter', adapter];
  args.push('--out', out, '--max-minutes', String(left), ...list);
  console.error(
    `\n=== bench/failover: ${label}, advert ${advert} s: failover-bench ${args.join(' ')}`,
  );
  const r = spawnSync(BENCH, args, {
    // Its own per-run tables go to stderr with its log; the combined report is on stdout.
    stdio: ['ignore', 2, 2],
    env: { ...process.env, LAB_PREFIX: opt.prefix, LVSD_ROOT: ROOT, ...env },
    timeout: budgetMs + 600_000,
  });
  if (r.status !== 0) console.error(`bench/failover: ${label} ${advert} s ended with ${r.status}`);
}

const rows = [];
if (opt.lab === 'shared') {
  for (const advert of adverts) {
    bench('keepalived', 'keepalived', advert, scenarios);
    bench('lvsd', ADAPTER, advert, scenarios);
  }
  if (opt.defaults)
    bench('lvsd defaults (timing fast)', ADAPTER, '0.08', ['crash'], { LVSD_DEFAULTS: '1' });
  readRows();
} else {
  const { runNative } = await importBundled(ROOT, 'bench/failover/native.ts', 'native');
  const ka = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  console.error(
    `=== bench/failover --lab native: runs ${runs}, adverts ${adverts.join(', ')} s, ${scenarios.join(', ')}`,
  );
  rows.push(
    ...(await runNative({
      runs,
      adverts,
      scenarios,
      defaults: opt.defaults,
      keepalivedVersion: `${(ka.stderr || ka.stdout).split('\n')[0] ?? 'keepalived'}`.trim(),
      lvsdVersion: `lvsd ${pkg.version}`,
      deadline: started + budgetMs,
      log: (l) => console.error(`${new Date().toISOString().slice(11, 19)} ${l}`),
    })),
  );
  writeFileSync(
    out,
    [
      'daemon\tscenario\tadvert_s\tphase\trun\toutage_ms\tvip_on',
      ...rows.map((r) =>
        [r.daemon, r.scenario, r.advert_s, r.phase, r.run, r.outage_ms, r.vip_on].join('\t'),
      ),
    ].join('\n') + '\n',
  );
}

// --- report
function readRows() {
  let head = null;
  for (const line of existsSync(out) ? readFileSync(out, 'utf8').split('\n') : []) {
    if (!line) continue;
    const c = line.split('\t');
    if (c[0] === 'date') {
      head = c;
      continue;
    }
    if (head) rows.push(Object.fromEntries(head.map((k, i) => [k, c[i]])));
  }
}
const nums = (g, k) =>
  g
    .map((r) => r[k])
    .filter((v) => v !== undefined && v !== 'NA')
    .map(Number)
    .sort((a, b) => a - b);
const cell = (s) => (s ? `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.p90)} / ${fmt(s.max)}` : '—');
const group = (pred) => rows.filter(pred);
const isLvsd = (r) => r.daemon.startsWith('lvsd') && !r.daemon.includes('timing fast');
const isKa = (r) => r.daemon.startsWith('Keepalived') || r.daemon.startsWith('keepalived');

console.log('\n## bench/failover: client-observed outage, ms (min / median / p90 / max)\n');
console.log(`lab: ${opt.lab}; rows: ${out}\n`);
console.log(
  '| daemon | scenario | advert s | phase | n | outage ms (min / median / p90 / max) | VIP on at end |',
);
console.log('|---|---|---|---|---|---|---|');
{
  const keys = [
    ...new Set(rows.map((r) => [r.daemon, r.scenario, r.advert_s, r.phase].join('\t'))),
  ];
  for (const k of keys) {
    const [daemon, scenario, advert, phase] = k.split('\t');
    const g = rows.filter((r) => [r.daemon, r.scenario, r.advert_s, r.phase].join('\t') === k);
    const s = stats(nums(g, 'outage_ms'));
    const na = g.length - (s?.n ?? 0);
    const tally = {};
    for (const r of g) tally[r.vip_on] = (tally[r.vip_on] ?? 0) + 1;
    console.log(
      `| ${daemon} | ${scenario} | ${advert} | ${phase} | ${g.length} | ${cell(s)}${na ? ` (${na}× none)` : ''} | ${Object.entries(
        tally,
      )
        .map(([v, n]) => `${v}×${n}`)
        .join(' ')} |`,
    );
  }
}
if (opt.lab === 'shared') {
  console.log("\nThe shared lab's table (with event → VIP added and notify columns):\n");
  const table = spawnSync(process.execPath, [join(LAB_DIR, 'summarize.js'), out], {
    encoding: 'utf8',
  });
  console.log(table.stdout);
}

console.log('\n## lvsd / keepalived, same advert interval\n');
console.log(
  '| scenario | advert s | phase | keepalived outage | lvsd outage | ratio of medians | ratio of p90 | ratio of max |',
);
console.log('|---|---|---|---|---|---|---|---|');
const goals = [];
for (const advert of adverts)
  for (const sc of scenarios)
    for (const phase of ['failover', 'failback']) {
      const sel = (r) => r.advert_s === advert && r.scenario === sc && r.phase === phase;
      const ka = stats(
        nums(
          group((r) => isKa(r) && sel(r)),
          'outage_ms',
        ),
      );
      const lv = stats(
        nums(
          group((r) => isLvsd(r) && sel(r)),
          'outage_ms',
        ),
      );
      const ratio = (k) => (ka && lv && ka[k] > 0 ? (lv[k] / ka[k]).toFixed(2) : '—');
      console.log(
        `| ${sc} | ${advert} | ${phase} | ${cell(ka)} | ${cell(lv)} | ${ratio('median')} | ${ratio('p90')} | ${ratio('max')} |`,
      );
      if (sc === 'crash' && phase === 'failover' && ka && lv)
        goals.push([
          `crash at ${advert} s: lvsd median ≤ 1.1 × keepalived's`,
          lv.median <= 1.1 * ka.median,
          `${fmt(lv.median)} vs ${fmt(ka.median)} ms (×${ratio('median')})`,
        ]);
      if (sc === 'stop' && phase === 'failover' && lv)
        goals.push([
          `clean stop at ${advert} s: lvsd ≤ 50 ms (max)`,
          lv.max <= 50,
          `median ${fmt(lv.median)}, max ${fmt(lv.max)} ms`,
        ]);
    }
const def = group(
  (r) => r.daemon.includes('timing fast') && r.scenario === 'crash' && r.phase === 'failover',
);
if (def.length) {
  const s = stats(nums(def, 'outage_ms'));
  const back = stats(
    nums(
      group(
        (r) => r.daemon.includes('timing fast') && r.scenario === 'crash' && r.phase === 'failback',
      ),
      'outage_ms',
    ),
  );
  console.log('\n## lvsd defaults (timing fast: advert 80 ms), crash\n');
  console.log('| phase | n | outage ms (min / median / p90 / max) |');
  console.log('|---|---|---|');
  console.log(`| failover | ${s?.n ?? 0} | ${cell(s)} |`);
  console.log(`| failback | ${back?.n ?? 0} | ${cell(back)} |`);
  if (s) goals.push(['lvsd defaults: crash ≤ 400 ms (max)', s.max <= 400, `max ${fmt(s.max)} ms`]);
}
console.log('\n## goals (issue 5)\n');
for (const [what, ok, detail] of goals)
  console.log(`- ${ok ? 'met' : 'NOT met'}: ${what} — ${detail}`);
console.log(`\nwall time: ${((Date.now() - started) / 60_000).toFixed(1)} min`);
