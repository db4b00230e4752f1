// bench/check-observer — the cost of one check latency sample (issue 8): lvsd's CheckDurations
// (src/metrics/check-durations.ts, fed by the health book on every check run) against
// prom-client's own Histogram with a cached labelled child, the obvious alternative. Per
// sample: nanoseconds and garbage collections (a GC count near zero means no allocation per
// sample). 1,000 series (checks), samples spread over them, as a daemon's results are.
//
//   node bench/check-observer.mjs [--samples 2000000] [--series 1000] [--json]
//
// Bundled from the TypeScript sources with esbuild, as bench/hooks-storm.mjs is.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { bundleTs, ROOT } from './lib/bundle-ts.mjs';

const { values: opt } = parseArgs({
  options: {
    samples: { type: 'string', default: '2000000' },
    series: { type: 'string', default: '1000' },
    json: { type: 'boolean', default: false },
  },
});
const samples = Number(opt.samples);
const series = Number(opt.series);
if (![samples, series].every((n) => Number.isInteger(n) && n > 0)) {
  console.error('check-observer: --samples and --series need positive integers');
  process.exit(2);
}

// The measuring program, bundled from the TypeScript sources.
const RUN = `
import { PerformanceObserver } from 'node:perf_hooks';
import { Histogram, Registry } from 'prom-client';
import { CheckDurations } from './src/metrics/check-durations.ts';
const [samples, series] = process.argv.slice(2).map(Number);
const ids = Array.from({ length: series }, (_, i) => 'tcp:198.18.0.' + (i % 250) + ':80/198.18.1.1:80#' + i);
const outcomes = Array.from({ length: 64 }, (_, i) => ({ ok: true, code: 'ok', reason: 'ok', latencyMs: 0.3 + i * 0.7 }));
let gcs = 0;
new PerformanceObserver((l) => { gcs += l.getEntries().length; }).observe({ entryTypes: ['gc'] });
async function run(name, sample) {
  for (let i = 0; i < 200_000; i++) sample(i); // warm-up: JIT, every series created
  await new Promise((r) => setImmediate(r));
  gcs = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < samples; i++) sample(i);
  const ns = Number(process.hrtime.bigint() - t0);
  await new Promise((r) => setTimeout(r, 50)); // let the gc entries arrive
  return { name, nsPerSample: ns / samples, gcsPerMillion: (gcs * 1e6) / samples };
}
const d = new CheckDurations();
const lvsd = await run('CheckDurations', (i) => d.checked('tcp:198.18.0.10:80', ids[i % series], outcomes[i & 63]));
const h = new Histogram({ name: 'x_seconds', help: 'x', labelNames: ['vs', 'checker'], registers: [new Registry()],
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
const children = ids.map((id) => h.labels('tcp:198.18.0.10:80', id));
const prom = await run('prom-client Histogram (cached child)', (i) => children[i % series].observe(outcomes[i & 63].latencyMs / 1000));
process.stdout.write(JSON.stringify([lvsd, prom]));
`;
const bundle = await bundleTs('check-observer-run.mjs', { contents: RUN });
const r = spawnSync(process.execPath, [bundle, String(samples), String(series)], {
  encoding: 'utf8',
  cwd: ROOT,
  timeout: 300_000,
});
if (r.status !== 0) {
  console.error(r.stderr);
  process.exit(1);
}
const rows = JSON.parse(r.stdout);
if (opt.json) console.log(JSON.stringify({ samples, series, rows }));
else {
  console.log(`${samples} samples over ${series} series`);
  for (const row of rows)
    console.log(
      `${row.name.padEnd(40)} ${row.nsPerSample.toFixed(1).padStart(7)} ns/sample  ${row.gcsPerMillion.toFixed(1).padStart(6)} GCs per million samples`,
    );
}
