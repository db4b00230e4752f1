#!/usr/bin/env node
// `npm run package:deb`: builds packaging/out/lvsd_VERSION_all.deb with dpkg-deb.
//
// What goes in (docs/operations.md, "Install"):
//   /usr/lib/lvsd/{bin/lvsd.js,dist/lvsd.mjs,dist/check-config.mjs,dist/spawner.mjs,dist/chunks/*.mjs,package.json,etc/demo.conf}
//                                                           the bundled program
//   /usr/bin/lvsd -> ../lib/lvsd/bin/lvsd.js
//   /lib/systemd/system/lvsd.service, /usr/lib/modules-load.d/lvsd.conf (ip_vs at boot)
//   /etc/lvsd/** (samples) and /etc/default/lvsd, all conffiles
//   /usr/share/man/man8/lvsd.8.gz, /usr/share/doc/lvsd/{copyright,changelog.gz,*.md.gz}
// The bundle is esbuild's (scripts/build.mjs): the script refuses to package one that still
// imports anything from node_modules, and runs the staged copy from a folder with no
// node_modules anywhere above it, so a missing dependency shows here and not on a director.
//
// Options: --out DIR (default packaging/out), --no-build (use dist/ as it is).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outDir = path.resolve(
  repo,
  args.includes('--out') ? args[args.indexOf('--out') + 1] : 'packaging/out',
);
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
const version = pkg.version;
const name = 'lvsd';
const debName = `${name}_${version}_all.deb`;

function run(cmd, argv, opts = {}) {
  return String(execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'], ...opts }) ?? '');
}

// 1. A fresh bundle.
if (!args.includes('--no-build')) run(process.execPath, [path.join(repo, 'scripts/build.mjs')]);

// 2. The bundle must stand alone: no import of a package (only node: built-ins and its own
// relative chunks). Lines are scanned for import/export ... from, import(), require().
const builtins = new Set(builtinModules);
const bundleFiles = [
  path.join(repo, 'dist/lvsd.mjs'),
  path.join(repo, 'dist/check-config.mjs'),
  path.join(repo, 'dist/spawner.mjs'),
  ...readdirSync(path.join(repo, 'dist/chunks'))
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => path.join(repo, 'dist/chunks', f)),
];
const specifiers =
  /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\brequire\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;
const external = [];
for (const f of bundleFiles) {
  for (const m of readFileSync(f, 'utf8').matchAll(specifiers)) {
    const s = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (s.startsWith('./') || s.startsWith('../') || s.startsWith('node:') || builtins.has(s))
      continue;
    external.push(`${path.relative(repo, f)}: ${s}`);
  }
}
if (external.length > 0) {
  console.error(
    `package-deb: the bundle imports packages at run time:\n  ${external.join('\n  ')}`,
  );
  console.error('bundle them (scripts/build.mjs) or the .deb would need a node_modules tree');
  process.exit(1);
}

// 3. Stage the tree.
const stage = mkdtempSync(path.join(tmpdir(), 'lvsd-deb-'));
const root = path.join(stage, `${name}_${version}_all`);
const at = (p) => path.join(root, p);
const dir = (p) => mkdirSync(at(p), { recursive: true });
const put = (p, text, mode = 0o644) => {
  dir(path.dirname(p));
  writeFileSync(at(p), text);
  chmodSync(at(p), mode);
};
const copy = (from, p, mode = 0o644) => {
  dir(path.dirname(p));
  copyFileSync(path.join(repo, from), at(p));
  chmodSync(at(p), mode);
};
// gzip -9n: no name or time stamp in the header, so the same input gives the same bytes.
const gz = (text) => gzipSync(text, { level: 9 });

try {
  // The program. The wrapper's shebang names Debian's node (nodejs puts it in /usr/bin), and
  // package.json carries "type": "module" for it (bin/lvsd.js is ESM in a .js file).
  const lib = 'usr/lib/lvsd';
  const wrapper = readFileSync(path.join(repo, 'bin/lvsd.js'), 'utf8').replace(
    /^#!.*\n/,
    '#!/usr/bin/node\n',
  );
  put(`${lib}/bin/lvsd.js`, wrapper, 0o755);
  copy('dist/lvsd.mjs', `${lib}/dist/lvsd.mjs`);
  // check-config's own bundle (bin/lvsd.js falls back to lvsd.mjs without it, slower to start).
  copy('dist/check-config.mjs', `${lib}/dist/check-config.mjs`);
  copy('dist/spawner.mjs', `${lib}/dist/spawner.mjs`);
  for (const f of readdirSync(path.join(repo, 'dist/chunks')).filter((f) => f.endsWith('.mjs')))
    copy(`dist/chunks/${f}`, `${lib}/dist/chunks/${f}`);
  put(
    `${lib}/package.json`,
    `${JSON.stringify({ name, version, description: pkg.description, license: pkg.license, type: 'module', private: true }, null, 2)}\n`,
  );
  // `lvsd demo` reads its configuration from beside the bundle (../etc/demo.conf of dist/):
  // program data, not a conffile (the editable copy is /etc/lvsd/demo.conf).
  copy('etc/demo.conf', `${lib}/etc/demo.conf`);
  dir('usr/bin');
  symlinkSync('../lib/lvsd/bin/lvsd.js', at('usr/bin/lvsd'));

  // systemd: the unit, and ip_vs loaded at boot (the unit has no CAP_SYS_MODULE).
  copy('systemd/lvsd.service', 'lib/systemd/system/lvsd.service');
  copy('packaging/modules-load.conf', 'usr/lib/modules-load.d/lvsd.conf');

  // /etc: the samples (tree as in etc/, scripts stay executable) and the unit's defaults.
  cpSync(path.join(repo, 'etc'), at('etc/lvsd'), { recursive: true });
  copy('packaging/default', 'etc/default/lvsd');

  // Bash completion (bash-completion loads it on demand, by the command's name).
  copy('completion/lvsd.bash', 'usr/share/bash-completion/completions/lvsd');

  // Documentation.
  const man = readFileSync(path.join(repo, 'man/lvsd.8'), 'utf8').replace(
    /^(\.TH LVSD 8 "[^"]*" )"lvsd [^"]*"/m,
    `$1"lvsd ${version}"`,
  );
  put('usr/share/man/man8/lvsd.8.gz', gz(man));
  const doc = 'usr/share/doc/lvsd';
  copy('packaging/copyright', `${doc}/copyright`);
  copy('packaging/lintian-overrides', 'usr/share/lintian/overrides/lvsd');
  put(`${doc}/changelog.gz`, gz(readFileSync(path.join(repo, 'packaging/changelog'), 'utf8')));
  for (const f of readdirSync(path.join(repo, 'docs')).filter((f) => f.endsWith('.md')))
    put(`${doc}/${f}.gz`, gz(readFileSync(path.join(repo, 'docs', f))));

  // Modes: directories 0755, files as set above (dpkg-deb --root-owner-group makes root:root).
  const walk = (p) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      chmodSync(p, 0o755);
      for (const e of readdirSync(p)) walk(path.join(p, e));
    } else if (st?.isFile()) {
      chmodSync(p, st.mode & 0o111 ? 0o755 : 0o644);
    }
  };
  walk(root);

  // DEBIAN/: control, conffiles, md5sums, maintainer scripts.
  const files = [];
  const list = (p) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const full = path.join(p, e.name);
      if (e.isDirectory()) list(full);
      else files.push(path.relative(root, full));
    }
  };
  list(root);
  files.sort();
  const installedKb = Math.ceil(
    files.reduce((n, f) => n + (statSync(at(f), { throwIfNoEntry: false })?.size ?? 0), 0) / 1024,
  );
  dir('DEBIAN');
  const control = readFileSync(path.join(repo, 'packaging/control'), 'utf8')
    .replace('@VERSION@', version)
    .replace('@INSTALLED_SIZE@', String(installedKb));
  put('DEBIAN/control', control);
  put(
    'DEBIAN/conffiles',
    `${files
      .filter((f) => f.startsWith('etc/'))
      .map((f) => `/${f}`)
      .join('\n')}\n`,
  );
  put(
    'DEBIAN/md5sums',
    files
      .filter((f) => !f.startsWith('usr/bin/lvsd'))
      .map(
        (f) =>
          `${createHash('md5')
            .update(readFileSync(at(f)))
            .digest('hex')}  ${f}\n`,
      )
      .join(''),
  );
  for (const script of ['postinst', 'prerm', 'postrm'])
    copy(`packaging/${script}`, `DEBIAN/${script}`, 0o755);

  // 4. The staged program runs on its own: from a folder with no node_modules above it.
  const probe = mkdtempSync(path.join(tmpdir(), 'lvsd-deb-probe-'));
  try {
    const out = run(process.execPath, [at(`${lib}/bin/lvsd.js`), '--version'], { cwd: probe });
    if (out.trim() !== `lvsd ${version}`) throw new Error(`staged lvsd --version said: ${out}`);
    run(
      process.execPath,
      [at(`${lib}/bin/lvsd.js`), 'check-config', '-f', at('etc/lvsd/demo.conf')],
      {
        cwd: probe,
      },
    );
    run(process.execPath, [at(`${lib}/bin/lvsd.js`), 'demo', '--help'], { cwd: probe });
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }

  // 5. Build.
  mkdirSync(outDir, { recursive: true });
  const deb = path.join(outDir, debName);
  rmSync(deb, { force: true });
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb], { stdio: 'inherit' });
  console.log(
    `${path.relative(process.cwd(), deb) || deb} (${files.length} files, ${installedKb} KiB installed)`,
  );
} finally {
  rmSync(stage, { recursive: true, force: true });
}
