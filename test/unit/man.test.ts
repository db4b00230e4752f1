/**
 * man/lvsd.8 is rendered from docs/lvsd.md by scripts/man.mjs: the committed page must be what
 * the renderer makes of the committed markdown, and must format without warnings.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const page = fileURLToPath(new URL('../../man/lvsd.8', import.meta.url));

const has = (cmd: string, args: string[]): boolean => spawnSync(cmd, args).status === 0;
const groff = has('groff', ['--version']);
const man = has('man', ['--version']);

describe('man/lvsd.8', () => {
  it('is what scripts/man.mjs renders from docs/lvsd.md (run `node scripts/man.mjs`)', () => {
    const rendered = execFileSync(process.execPath, ['scripts/man.mjs', '--stdout'], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(readFileSync(page, 'utf8')).toBe(rendered);
  });

  it('has every section docs/lvsd.md promises', () => {
    const text = readFileSync(page, 'utf8');
    for (const s of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'SIGNALS', 'EXIT STATUS'])
      expect(text).toMatch(new RegExp(`^\\.SH "?${s}"?$`, 'm'));
    expect(text).toMatch(/^\.SH FILES$/m);
    expect(text).toMatch(/^\.SH "SEE ALSO"$/m);
  });

  it.skipIf(!groff)('formats without warnings (groff -man -Tutf8 -ww; skipped: no groff)', () => {
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', page], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!man)('man -l --warnings renders it cleanly (skipped: no man)', () => {
    const r = spawnSync('man', ['--warnings', '-l', page], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat', LC_ALL: 'C.UTF-8' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('SIGUSR2');
  });
});
