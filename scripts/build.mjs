// Bundles the CLI into one file: one module to load keeps `lvsd check-config` start-up near
// Node's own (the parse benchmark counts it), and the Debian package ships no node_modules tree.
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Chunk names carry content hashes: start clean so old chunks do not pile up.
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist',
  entryNames: 'lvsd',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  define: { __LVSD_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies (pino, prom-client) call require(): give them one.
  banner: {
    js: "import { createRequire as __lvsdRequire } from 'node:module'; const require = __lvsdRequire(import.meta.url);",
  },
});
