// Bundles the CLI into one file: one module to load keeps `lvsd check-config` start-up near
// Node's own (the parse benchmark counts it), and the Debian package ships no node_modules tree.
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Chunk names carry content hashes: start clean so old chunks do not pile up.
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

const common = {
  entryPoints: ['src/cli/main.ts'],
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
};

await build({
  ...common,
  outdir: 'dist',
  entryNames: 'lvsd',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
});

// `lvsd check-config` (bin/lvsd.js picks it) gets a bundle of its own: the same CLI, in one
// module instead of the entry and the half-dozen chunks it imports. Each ES module costs the
// loader a resolve, a read and a compile: one file starts about 6 ms sooner, which the parse
// benchmark counts. The other commands are left out: main.ts loads a command only when it is
// run, and with this bundle it only ever runs check-config.
const command = /^\.\/commands\/[\w-]+\.js$/; // esbuild filters are Go regexps: no lookahead
await build({
  ...common,
  outfile: 'dist/check-config.mjs',
  plugins: [
    {
      name: 'check-config-only',
      setup(b) {
        b.onResolve({ filter: command }, (args) =>
          args.path === './commands/check-config.js'
            ? undefined
            : { path: args.path, namespace: 'left-out' },
        );
        b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
          contents: `throw new Error(${JSON.stringify(`${args.path} is not in dist/check-config.mjs (bin/lvsd.js uses it for check-config only)`)});`,
          loader: 'js',
        }));
      },
    },
  ],
});

// The script spawner (src/spawner/child.ts) is a process of its own, started once by the
// daemon: one self-contained module, so it loads fast and holds only what it needs.
await build({
  ...common,
  entryPoints: ['src/spawner/child.ts'],
  outfile: 'dist/spawner.mjs',
});
