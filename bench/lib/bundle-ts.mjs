// Bundles a bench's TypeScript entry (a file, or source text resolved from the repository
// root) into node_modules/.cache/lvsd-bench/NAME with esbuild; dependencies stay external, so
// the bundle loads the same node_modules the tests use. Returns the bundle's path.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `source`: { entry } (a path) or { contents } (TypeScript, imports relative to ROOT). */
export async function bundleTs(name, source, extra = {}) {
  const { build } = await import('esbuild');
  const outfile = join(ROOT, 'node_modules', '.cache', 'lvsd-bench', name);
  await build({
    ...(source.entry
      ? { entryPoints: [source.entry] }
      : { stdin: { contents: source.contents, resolveDir: ROOT, loader: 'ts' } }),
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    ...extra,
  });
  return outfile;
}
