// What the benches that drive the namespace harness share: their command line, and bundling a
// TypeScript driver with esbuild (the harness is TypeScript; the benches are plain Node).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleTs } from './bundle-ts.mjs';

/**
 * Parses `--KEY VALUE` into the string options of `defaults` and `--no-KEY` into its boolean
 * ones; -h/--help prints the script's header comment (up to its first import) and exits 0;
 * anything else exits 2. Returns a copy of `defaults` with what was given.
 */
export function parseOptions(name, scriptUrl, defaults, argv = process.argv.slice(2)) {
  const opt = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-h' || a === '--help') {
      const text = readFileSync(fileURLToPath(scriptUrl), 'utf8').split('\n');
      const end = text.findIndex((l) => l.startsWith('import'));
      console.log(
        text
          .slice(1, end)
          .map((l) => l.replace(/^\/\/ ?/, ''))
          .join('\n'),
      );
      process.exit(0);
    }
    const k = a.replace(/^--/, '');
    const off = k.replace(/^no-/, '');
    if (k.startsWith('no-') && opt[off] === true) opt[off] = false;
    else if (k in opt && typeof opt[k] === 'string' && argv[i + 1] !== undefined)
      opt[k] = argv[++i];
    else {
      console.error(`bench/${name}: bad option ${a} (--help)`);
      process.exit(2);
    }
  }
  return opt;
}

/** Bundles `entry` (relative to the checkout) to node_modules/.cache/lvsd-bench and imports it. */
export async function importBundled(root, entry, name) {
  return import(await bundleTs(`${name}.mjs`, { entry: join(root, entry) }));
}

/** Exits 1 unless every tool is on PATH. */
export function needTools(name, tools) {
  for (const tool of tools)
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      console.error(`bench/${name}: needs ${tool} on PATH`);
      process.exit(1);
    }
}

/** `node scripts/build.mjs` in the checkout (the harness runs a copy of dist/); exits on failure. */
export function buildDist(root) {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (b.status !== 0) process.exit(1);
}
