// 1,000 weight changes through lvsd's ipvsadm driver (read, diff, one -R batch, read back and
// verify) next to a raw `ipvsadm -R` of the same lines, on a real IPVS kernel; prints the ratio.
//
//   node bench/apply.mjs            on the host: bundles the driver, then runs itself in the VM
//   node bench/apply.mjs --inside   where ipvsadm works (what the VM runs)
//
// Times taken in the VM are emulated (10-20x slower than the host): compare them only with
// each other, which is what the ratio does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const SERVICES = 100;
const PER_SERVICE = 10;
const ROUNDS = 3;

if (!process.argv.includes('--inside')) {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-bench-apply-'));
  const entry = join(dir, 'entry.ts');
  const src = new URL('../src/ipvs/', import.meta.url).pathname;
  writeFileSync(
    entry,
    [
      `export { IpvsadmDriver } from '${src}drivers/ipvsadm.ts';`,
      `export { diff } from '${src}diff.ts';`,
      `export { renderBatch, parseSave } from '${src}ipvsadm-text.ts';`,
    ].join('\n'),
  );
  await build({
    entryPoints: [entry],
    outfile: join(dir, 'ipvs.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // execa's CommonJS dependencies call require(): give the ESM bundle one.
    banner: {
      js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(import.meta.url);",
    },
  });
  const run = new URL('../../shared/ipvs-vm/run', import.meta.url).pathname;
  const self = new URL(import.meta.url).pathname;
  try {
    execFileSync(run, ['--timeout', '500', '--', 'node', self, '--inside', join(dir, 'ipvs.mjs')], {
      stdio: 'inherit',
    });
  } catch (error) {
    console.error(`bench/apply: the VM run failed (${String(error)}); is ../shared/ipvs-vm there?`);
    process.exitCode = 1;
  }
} else {
  const bundle = process.argv[process.argv.indexOf('--inside') + 1];
  const { IpvsadmDriver, diff, renderBatch, parseSave } = await import(bundle);

  const table = (weight) => {
    const lines = [];
    for (let s = 0; s < SERVICES; s += 1) {
      const vip = `198.18.0.${s + 1}:80`;
      lines.push(`-A -t ${vip} -s wrr`);
      for (let r = 0; r < PER_SERVICE; r += 1) {
        lines.push(
          `-a -t ${vip} -r 198.18.${1 + Math.floor(r / 250)}.${(r % 250) + 1}:80 -m -w ${weight}`,
        );
      }
    }
    return `${lines.join('\n')}\n`;
  };
  const restore = (text) => execFileSync('ipvsadm', ['-R'], { input: text });
  const parsed = (text) => {
    const r = parseSave(text);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    return r.value;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

  const driver = new IpvsadmDriver();
  const lvsd = { total: [], read: [], diff: [], apply: [] };
  const raw = [];
  let ops = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const [from, to] = round % 2 === 0 ? [1, 2] : [2, 1];
    execFileSync('ipvsadm', ['-C']);
    restore(table(from));
    const desired = parsed(table(to));

    const t0 = performance.now();
    const observed = await driver.read();
    const t1 = performance.now();
    ops = diff(observed.table, desired);
    const t2 = performance.now();
    const result = await driver.apply(ops);
    const t3 = performance.now();
    if (!result.ok || ops.length !== SERVICES * PER_SERVICE) {
      throw new Error(`lvsd apply: ${ops.length} ops, ok=${result.ok}`);
    }
    lvsd.total.push(t3 - t0);
    lvsd.read.push(t1 - t0);
    lvsd.diff.push(t2 - t1);
    lvsd.apply.push(t3 - t2);

    execFileSync('ipvsadm', ['-C']);
    restore(table(from));
    const batch = renderBatch(ops);
    const r0 = performance.now();
    restore(batch);
    raw.push(performance.now() - r0);
  }
  const ms = (x) => `${x.toFixed(0)} ms`;
  console.log(
    `bench/apply: ${ops.length} weight changes (${SERVICES} services x ${PER_SERVICE}), median of ${ROUNDS}, in the IPVS VM`,
  );
  console.log(`  raw ipvsadm -R of the same lines          ${ms(median(raw))}`);
  console.log(
    `  lvsd read + diff + apply(-R, read back)   ${ms(median(lvsd.total))}` +
      `  (read ${ms(median(lvsd.read))}, diff ${ms(median(lvsd.diff))}, apply ${ms(median(lvsd.apply))})`,
  );
  console.log(
    `  ratio lvsd / raw                          ${(median(lvsd.total) / median(raw)).toFixed(2)}x`,
  );
}
