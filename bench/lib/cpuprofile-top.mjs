// Summarise a V8 .cpuprofile (node --cpu-prof): self time by function and by source (file or
// package), and inclusive time of selected lvsd functions.
//
//   node bench/lib/cpuprofile-top.mjs FILE.cpuprofile [--top 30] [--skip-ms 5000]
//
// --skip-ms drops samples from the first milliseconds of the profile (start-up, config load),
// so the summary shows the steady state.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: {
    top: { type: 'string', default: '30' },
    'skip-ms': { type: 'string', default: '5000' },
  },
  allowPositionals: true,
});
const prof = JSON.parse(readFileSync(positionals[0], 'utf8'));
const TOP = Number(values.top);
const SKIP_US = Number(values['skip-ms']) * 1000;

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Sample weights: timeDeltas[i] is the time before sample i.
const self = new Map();
let t = 0;
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  t += prof.timeDeltas[i];
  if (t < SKIP_US) continue;
  const dt = prof.timeDeltas[i + 1] ?? prof.timeDeltas[i];
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  total += dt;
}

const where = (cf) => {
  const url = cf.url.replace(/^file:\/\//, '');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return url;
  return url.split('/').slice(-2).join('/') || '(native/VM)';
};
const label = (n) => {
  const cf = n.callFrame;
  return `${cf.functionName || '(anonymous)'} ${where(cf)}:${cf.lineNumber + 1}`;
};

const fnSelf = new Map();
const srcSelf = new Map();
const inclusive = new Map();
for (const [id, us] of self) {
  const n = byId.get(id);
  const l = label(n);
  fnSelf.set(l, (fnSelf.get(l) ?? 0) + us);
  const s = where(n.callFrame);
  srcSelf.set(s, (srcSelf.get(s) ?? 0) + us);
  // inclusive: count once per distinct label on the stack
  const seen = new Set();
  for (let p = id; p !== undefined; p = parent.get(p)) {
    const pl = label(byId.get(p));
    if (seen.has(pl)) continue;
    seen.add(pl);
    inclusive.set(pl, (inclusive.get(pl) ?? 0) + us);
  }
}

const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const print = (title, m, k = TOP) => {
  console.log(`\n${title}`);
  for (const [l, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, k)) {
    console.log(`${pct(us)} ${(us / 1000).toFixed(0).padStart(6)} ms  ${l}`);
  }
};
console.log(
  `${positionals[0]}: ${(total / 1e6).toFixed(2)} s of samples after the first ${SKIP_US / 1e6} s`,
);
print('self time by function', fnSelf);
print('self time by source', srcSelf, 20);
print('inclusive time (top)', inclusive, TOP + 10);
