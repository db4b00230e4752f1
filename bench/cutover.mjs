#!/usr/bin/env node
// bench/cutover — the client outage of the keepalived → lvsd cut-over that docs/operations.md
// describes ("Migrating from keepalived", step 4), next to a keepalived restart as the
// reference; one invocation measures both (issue 9).
//
//   sudo node bench/cutover.mjs [--runs 5] [--window 8] [--kinds keepalived-restart,cutover,stop-then-lvsd]
//        [--max-minutes 30] [--no-build]
//
// On the NAT pair in network namespaces (test/helpers/director-lab.ts; namespaces
// lvsd-lvdc-*, 198.18.0.0/15 only; the client's prober sends UDP to the VIP every 10 ms), each
// run: keepalived on both directors (dir1 MASTER with VIP and DIP), dir2's keepalived stopped
// (the guide's step 4.1), then on dir1 SIGKILL to keepalived and at once either
//   cutover             `lvsd run` with the equivalent config (the same file plus an lvsd block)
//   keepalived-restart  keepalived started again (the reference: what a restart costs)
// and, the guide's "simple alternative",
//   stop-then-lvsd      SIGTERM to keepalived (it removes its VIPs), then `lvsd run`
// and the client watched for --window seconds (default 8: keepalived's master-down interval at
// advert_int 1 is about 3.6 s, plus its start). Outage = the longest stretch without answers
// that lost a probe (0 = not one probe lost). The kinds alternate run by run. Printed: a table
// per kind and the ratio of the cut-over's outage to the reference's.
// The host kernel has no IPVS here, so lvsd runs with the in-memory driver: the bench measures
// the VIP's adoption; the IPVS table's adoption (no operation when it matches) is covered by
// test/ipvs on a real kernel. Root only; needs keepalived on PATH; builds dist/ first unless
// --no-build (the lab runs a private copy of dist/).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist, importBundled, needTools, parseOptions } from './lib/cli.mjs';
import { stats, fmt } from './lib/stats.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KINDS = ['keepalived-restart', 'cutover', 'stop-then-lvsd'];
const opt = parseOptions('cutover', import.meta.url, {
  runs: '5',
  window: '8',
  kinds: KINDS.join(','),
  'max-minutes': '30',
  build: true,
});
const runs = Number(opt.runs);
const windowS = Number(opt.window);
const minutes = Number(opt['max-minutes']);
if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
  console.error('bench/cutover: --runs 1..100');
  process.exit(2);
}
if (!(windowS >= 2 && windowS <= 60) || !(minutes > 0 && minutes <= 240)) {
  console.error('bench/cutover: --window 2..60 (seconds), --max-minutes 1..240');
  process.exit(2);
}
const kinds = opt.kinds.split(',').filter(Boolean);
if (kinds.length === 0 || kinds.some((k) => !KINDS.includes(k))) {
  console.error(`bench/cutover: --kinds, a list of ${KINDS.join(', ')}`);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('bench/cutover: needs root (network namespaces)');
  process.exit(1);
}
needTools('cutover', ['keepalived']);
if (opt.build) buildDist(ROOT);

const { runCutover } = await importBundled(ROOT, 'bench/cutover/run.ts', 'cutover');
const ka = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
const kaVersion = `${(ka.stderr || ka.stdout).split('\n')[0] ?? 'keepalived'}`.trim();
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const started = Date.now();
console.error(
  `=== bench/cutover: runs ${runs}, window ${windowS} s; ${kaVersion}; lvsd ${pkg.version}`,
);
const rows = await runCutover({
  runs,
  windowMs: windowS * 1000,
  kinds,
  deadline: started + minutes * 60_000,
  log: (l) => console.error(`${new Date().toISOString().slice(11, 19)} ${l}`),
});

const of = (kind) => rows.filter((r) => r.kind === kind);
const outages = (g) =>
  g
    .map((r) => r.outageMs)
    .filter((v) => v !== undefined)
    .sort((a, b) => a - b);
const cell = (s) => (s ? `${fmt(s.min)} / ${fmt(s.median)} / ${fmt(s.p90)} / ${fmt(s.max)}` : '—');
console.log('\n## bench/cutover: client outage, ms (min / median / p90 / max)\n');
console.log(
  `${kaVersion}; lvsd ${pkg.version} (in-memory IPVS); prober every 10 ms; window ${windowS} s\n`,
);
console.log(
  '| on the master | runs | failed | outage ms (min / median / p90 / max) | probes lost (total) | lvsd answering, ms after the event (median) | VIP on at end |',
);
console.log('|---|---|---|---|---|---|---|');
const summary = {};
const LABELS = {
  'keepalived-restart': 'SIGKILL keepalived, start keepalived (reference)',
  cutover: 'SIGKILL keepalived, start lvsd (the cut-over)',
  'stop-then-lvsd': 'SIGTERM keepalived, then start lvsd',
};
for (const kind of kinds) {
  const label = LABELS[kind];
  const g = of(kind);
  const s = stats(outages(g));
  summary[kind] = s;
  const tally = {};
  for (const r of g) tally[r.vipOn] = (tally[r.vipOn] ?? 0) + 1;
  const lost = g.reduce((n, r) => n + r.lostProbes, 0);
  const failed = g.length - (s?.n ?? 0);
  const ends = Object.entries(tally)
    .map(([k, n]) => `${k} ×${n}`)
    .join(', ');
  const ready = stats(
    g
      .map((r) => r.readyMs)
      .filter((v) => v !== undefined)
      .sort((a, b) => a - b),
  );
  console.log(
    `| ${label} | ${g.length} | ${failed} | ${cell(s)} | ${lost} | ${ready ? fmt(ready.median) : '—'} | ${ends} |`,
  );
}
const ref = summary['keepalived-restart'];
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? '—' : (a / b).toFixed(3));
console.log('');
for (const kind of kinds.filter((k) => k !== 'keepalived-restart')) {
  const s = summary[kind];
  console.log(
    `ratio ${kind} / keepalived-restart: median ${ratio(s?.median, ref?.median)}, max ${ratio(s?.max, ref?.max)}` +
      (s !== undefined && s.max === 0 ? ` (${kind}: not one probe lost)` : ''),
  );
}
console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
