/**
 * completion/lvsd.bash offers every subcommand and every flag the command modules define
 * (read from each command's --help, which flagHelp renders from its flag specs), and nothing
 * else; the values of --ipvs and --addresses; and is valid bash.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Command, Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

const script = fileURLToPath(new URL('../../completion/lvsd.bash', import.meta.url));
const commandsDir = fileURLToPath(new URL('../../src/cli/commands/', import.meta.url));
const repo = fileURLToPath(new URL('../..', import.meta.url));

async function commandModules(): Promise<Command[]> {
  const out: Command[] = [];
  for (const f of readdirSync(commandsDir).filter((f) => f.endsWith('.ts'))) {
    const url = pathToFileURL(join(commandsDir, f)).href;
    const mod = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
    for (const v of Object.values(mod)) {
      const c = v as Partial<Command>;
      if (c && typeof c === 'object' && typeof c.name === 'string' && typeof c.help === 'string')
        out.push(c as Command);
    }
  }
  return out;
}

/** Every `-x` and `--name` of the Options rows of a --help text. */
function helpFlags(help: string): string[] {
  const flags: string[] = [];
  for (const m of help.matchAll(/^ {2}(?:-(\w), )?\s*--([a-z][a-z0-9-]*)/gm)) {
    if (m[1]) flags.push(`-${m[1]}`);
    flags.push(`--${m[2]}`);
  }
  return flags;
}

/** What the completion function offers for `lvsd WORDS... CUR`. */
function complete(words: string[]): string[] {
  const all = ['lvsd', ...words];
  const program = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${all.length} - 1)); _lvsd; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['-c', program, 'bash', script, ...all], {
    encoding: 'utf8',
    cwd: repo,
  });
  return out.split('\n').filter((l) => l !== '');
}

const bash = spawnSync('bash', ['--version']).status === 0;

describe.skipIf(!bash)('completion/lvsd.bash', () => {
  it('is valid bash (bash -n)', () => {
    expect(spawnSync('bash', ['-n', script], { encoding: 'utf8' }).stderr).toBe('');
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);
  });

  it('offers every subcommand of lvsd --help', async () => {
    let help = '';
    const io: Io = { out: (t) => (help += t), err: () => {}, cwd: '/', env: {}, tty: false };
    await main(['--help'], io);
    const section = help.split('Commands:\n')[1]?.split('\n\n')[0] ?? '';
    const names = [...section.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThanOrEqual(10);
    const offered = complete(['']);
    for (const n of names) expect(offered).toContain(n);
    const modules = (await commandModules()).map((c) => c.name).sort();
    expect(modules).toEqual([...names].sort());
  });

  it("offers exactly each subcommand's flags", async () => {
    const commands = await commandModules();
    expect(commands.length).toBeGreaterThanOrEqual(10);
    for (const c of commands) {
      const flags = helpFlags(c.help);
      expect(flags, c.name).toContain('--help');
      expect({ [c.name]: complete([c.name, '-']).sort() }).toEqual({ [c.name]: flags.sort() });
    }
  });

  it('completes option values', () => {
    expect(complete(['run', '--ipvs', '']).sort()).toEqual(['ipvsadm', 'memory']);
    expect(complete(['plan', '--ipvs', 'm'])).toEqual(['memory']);
    expect(complete(['run', '--addresses', '']).sort()).toEqual(['ip', 'memory']);
    expect(complete(['run', '--log-level', 'w'])).toEqual(['warn']);
    const files = complete(['check-config', '-f', 'package.j']);
    expect(files).toEqual(['package.json']);
  });
});
