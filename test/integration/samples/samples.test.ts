/**
 * Every sample in etc/ is clean for lvsd (`lvsd check-config` exit 0) and every
 * keepalived-syntax sample (one without an lvsd block: plain keepalived.conf files and the files
 * an lvsd wrapper includes) is clean for keepalived 2.2.7 (`keepalived -t` exit 0), with and
 * without the samples' scripts installed (ruling 17).
 *
 * Both tools run in the same private network namespace with eth0 and eth1 (in-env.sh), as the
 * corpus oracle runs keepalived, so the verdict does not depend on this machine's interfaces.
 * Without root, unshare or keepalived, the keepalived runs skip with the reason, and lvsd runs
 * against described host facts instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const etc = path.join(repo, 'etc');
const bin = path.join(repo, 'bin/lvsd.js');
const inEnv = path.join(here, 'in-env.sh');

function confFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...confFiles(p));
    else if (e.name.endsWith('.conf')) out.push(p);
  }
  return out.sort();
}

const samples = confFiles(etc);
const rel = (p: string): string => path.relative(repo, p);
const isLvsdFile = (p: string): boolean => /^\s*lvsd\s*\{/m.test(readFileSync(p, 'utf8'));
const keepalivedSyntax = samples.filter((p) => !isLvsdFile(p));

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Why namespaced runs cannot happen here, or undefined when they can. */
function namespaceProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (the namespaces need it)';
  if (!has('unshare') || !has('ip')) return 'unshare or ip is missing';
  const probe = spawnSync('unshare', ['--net', '--mount', 'true'], { stdio: 'ignore' });
  if (probe.status !== 0) return 'unshare --net --mount is not allowed here';
  return undefined;
}
const nsProblem = namespaceProblem();
const keepalivedProblem =
  nsProblem ?? (has('keepalived') ? undefined : 'keepalived is not installed');

interface Run {
  readonly status: number | null;
  readonly output: string;
}

function inNamespace(env: 'main' | 'scripts', file: string, cmd: string[]): Run {
  const r = spawnSync(inEnv, [env, etc, path.dirname(file), ...cmd], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const scratch = mkdtempSync(path.join(tmpdir(), 'lvsd-samples-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Host facts for lvsd when namespaces are not available: the interfaces the samples use. */
function factsFile(withScripts: boolean): string {
  const file = path.join(scratch, withScripts ? 'facts-scripts.json' : 'facts.json');
  const scripts = withScripts ? scriptPaths().map((s) => s.installed) : [];
  writeFileSync(
    file,
    JSON.stringify({
      interfaces: ['lo', 'eth0', 'eth1'],
      executables: ['/bin/sh', '/usr/bin/logger', ...scripts],
      users: ['root'],
    }),
  );
  return file;
}

/** Absolute script paths the samples name under /etc/lvsd, and where etc/ has them. */
function scriptPaths(): { installed: string; inRepo: string; sample: string }[] {
  const seen = new Map<string, { installed: string; inRepo: string; sample: string }>();
  for (const f of samples) {
    for (const m of readFileSync(f, 'utf8').matchAll(/"?(\/etc\/lvsd\/[^\s"]+\.sh)\b/g)) {
      const installed = m[1] ?? '';
      if (!seen.has(installed))
        seen.set(installed, {
          installed,
          inRepo: path.join(etc, installed.slice('/etc/lvsd/'.length)),
          sample: rel(f),
        });
    }
  }
  return [...seen.values()];
}

function lvsdCheck(file: string, env: 'main' | 'scripts'): Run {
  if (nsProblem === undefined)
    return inNamespace(env, file, [process.execPath, bin, 'check-config', '-f', file]);
  const r = spawnSync(
    process.execPath,
    [bin, 'check-config', '--host-facts', factsFile(env === 'scripts'), '-f', file],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('etc/ samples', () => {
  it('are all there: the NAT pair (layout 2), the DR pair, the TUN service, the demo', () => {
    expect(samples.map(rel)).toEqual([
      'etc/demo.conf',
      'etc/lvs-dr/backup.conf',
      'etc/lvs-dr/primary.conf',
      'etc/lvs-nat/backup.conf',
      'etc/lvs-nat/keepalived-backup.conf',
      'etc/lvs-nat/keepalived-primary.conf',
      'etc/lvs-nat/primary.conf',
      'etc/lvs-tun/lvsd.conf',
    ]);
    // Layout 2: each NAT lvsd file includes its keepalived-syntax file.
    for (const side of ['primary', 'backup'])
      expect(readFileSync(path.join(etc, `lvs-nat/${side}.conf`), 'utf8')).toMatch(
        new RegExp(`^include keepalived-${side}\\.conf$`, 'm'),
      );
  });

  it('use 198.18.0.0/15 addresses only (loopback: the demo, and metrics listeners)', () => {
    for (const f of samples) {
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        for (const m of line.matchAll(/\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g)) {
          const [a, b] = [Number(m[1]), Number(m[2])];
          const ok = a === 198 && (b === 18 || b === 19);
          const loopback =
            a === 127 && (rel(f) === 'etc/demo.conf' || /^\s*metrics_address\s/.test(line));
          expect(ok || loopback, `${rel(f)}: ${line.trim()}`).toBe(true);
        }
      }
    }
  });

  it('ship the scripts they name, executable and valid sh, where the package puts them', () => {
    const scripts = scriptPaths();
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) {
      accessSync(s.inRepo, constants.X_OK);
      execFileSync('sh', ['-n', s.inRepo]);
    }
  });

  describe.each(['main', 'scripts'] as const)('with scripts %s', (env) => {
    const label = env === 'main' ? 'absent' : 'installed';
    it.each(samples.map(rel))(`lvsd check-config exits 0 (scripts ${label}): %s`, (f) => {
      const r = lvsdCheck(path.join(repo, f), env);
      expect(r.status, r.output).toBe(0);
    });
    it.skipIf(keepalivedProblem !== undefined).each(keepalivedSyntax.map(rel))(
      `keepalived -t exits 0 (scripts ${label})${keepalivedProblem === undefined ? '' : ` [skipped: ${keepalivedProblem}]`}: %s`,
      (f) => {
        const r = inNamespace(env, path.join(repo, f), [
          'keepalived',
          '-t',
          '-f',
          path.join(repo, f),
        ]);
        expect(r.status, r.output).toBe(0);
        expect(r.output.trim(), 'keepalived -t printed problems').toBe('');
      },
    );
  });
});
