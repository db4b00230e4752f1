import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pendingDeadlines } from '../../../src/health/checkers/deadline.js';
import { probeMisc, type MiscCheckTarget } from '../../../src/health/checkers/misc.js';

const scripts = fileURLToPath(new URL('../../fixtures/scripts/', import.meta.url));
/** Fixtures run through /bin/sh so a checkout that lost the exec bits still works. */
const sh = (name: string, ...args: string[]): string[] => ['/bin/sh', join(scripts, name), ...args];
const target = (argv: string[], extra: Partial<MiscCheckTarget> = {}): MiscCheckTarget => ({
  argv,
  timeoutMs: 5000,
  dynamic: false,
  ...extra,
});

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lvsd-misc-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
afterEach(() => {
  expect(pendingDeadlines()).toBe(0);
});

/** Alive = exists and is not a zombie (a container's init may be slow to reap). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A SIGKILLed grandchild is reparented and reaped by init: allow that a moment (bounded). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!(await alive(pid))) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

describe('MISC_CHECK exit status', () => {
  it('exit 0 passes and captures stdout and stderr', async () => {
    const r = await probeMisc(target(sh('exit-status.sh', '0')));
    expect(r).toMatchObject({
      ok: true,
      code: 'ok',
      reason: 'exit status 0',
      detail: { exitCode: 0, capturedBytes: 21, totalOutputBytes: 21 },
    });
    // Two pipes: the order in which their bytes arrive is not guaranteed.
    expect(r.detail?.output?.split('\n').sort()).toEqual(['', 'a warning', 'checking 0']);
    expect(r.weight).toBeUndefined();
  });

  it('exit 1 fails', async () => {
    const r = await probeMisc(target(sh('exit-status.sh', '1')));
    expect(r).toMatchObject({
      ok: false,
      code: 'exit',
      reason: 'exit status 1',
      detail: { exitCode: 1 },
    });
  });

  it('exit 7 fails without misc_dynamic', async () => {
    const r = await probeMisc(target(sh('exit-status.sh', '7')));
    expect(r).toMatchObject({ ok: false, code: 'exit', reason: 'exit status 7' });
    expect(r.weight).toBeUndefined();
  });

  it.each([
    { status: 0, ok: true, weight: undefined },
    { status: 1, ok: false, weight: undefined },
    { status: 2, ok: true, weight: 0 },
    { status: 7, ok: true, weight: 5 },
    { status: 255, ok: true, weight: 253 },
  ])('misc_dynamic: exit $status → ok=$ok weight=$weight', async ({ status, ok, weight }) => {
    const r = await probeMisc(target(sh('exit-status.sh', String(status)), { dynamic: true }));
    expect(r.ok).toBe(ok);
    expect(r.weight).toBe(weight);
    expect(r.detail?.exitCode).toBe(status);
    if (weight !== undefined) expect(r.reason).toBe(`exit status ${status} (weight ${weight})`);
  });

  it('death by a signal lvsd did not send is a failure', async () => {
    const r = await probeMisc(target(sh('self-kill.sh')));
    expect(r).toMatchObject({
      ok: false,
      code: 'killed',
      reason: 'killed by SIGKILL',
      detail: { signal: 'SIGKILL' },
    });
  });
});

describe('MISC_CHECK timeouts and output', () => {
  it('kills a hanging script and its process group at the timeout, and waits for it', async () => {
    const pids = join(tmp, 'hang.pids');
    const r = await probeMisc(target(sh('hang.sh', pids), { timeoutMs: 300 }));
    expect(r).toMatchObject({
      ok: false,
      code: 'timeout',
      reason: 'timeout after 300 ms (script), process group killed',
    });
    expect(r.latencyMs).toBeGreaterThanOrEqual(295);
    expect(r.latencyMs).toBeLessThan(2000);
    const [script, grandchild] = (await readFile(pids, 'utf8')).trim().split(' ').map(Number);
    expect(await alive(script as number)).toBe(false); // the probe resolved after the exit
    expect(await gone(grandchild as number)).toBe(true);
  });

  it('SIGKILLs a script that ignores SIGTERM after the grace period', async () => {
    const pidFile = join(tmp, 'term.pid');
    const r = await probeMisc(
      target(sh('ignore-term.sh', pidFile), { timeoutMs: 200, killGraceMs: 200 }),
    );
    expect(r.code).toBe('timeout');
    expect(r.latencyMs).toBeGreaterThanOrEqual(390);
    expect(r.latencyMs).toBeLessThan(2000);
    expect(await alive(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });

  it('caps a flood of output, keeps draining it, and reports captured X of Y bytes', async () => {
    const total = 8 * 1024 * 1024;
    const r = await probeMisc(target(sh('flood.sh', String(total)), { maxOutputBytes: 1000 }));
    expect(r).toMatchObject({
      ok: true,
      code: 'ok',
      reason: `exit status 0 (captured 1000 of ${total} bytes of output)`,
      detail: { capturedBytes: 1000, totalOutputBytes: total },
    });
    expect(r.detail?.output).toBe('z'.repeat(1000));
  });

  it('judges by the script exit even if a background child keeps stdout open', async () => {
    const pidFile = join(tmp, 'bg.pid');
    const r = await probeMisc(target(sh('background-holder.sh', pidFile), { timeoutMs: 3000 }));
    expect(r).toMatchObject({ ok: true, code: 'ok' });
    expect(r.latencyMs).toBeLessThan(1000);
    process.kill(Number(await readFile(pidFile, 'utf8')), 'SIGKILL');
  });

  it('cancels on abort, killing the group', async () => {
    const pids = join(tmp, 'abort.pids');
    const ac = new AbortController();
    setTimeout(() => {
      ac.abort();
    }, 200);
    const r = await probeMisc(target(sh('hang.sh', pids), { timeoutMs: 10_000 }), ac.signal);
    expect(r).toMatchObject({ ok: false, code: 'aborted', reason: 'aborted' });
    const [script, grandchild] = (await readFile(pids, 'utf8')).trim().split(' ').map(Number);
    expect(await alive(script as number)).toBe(false);
    expect(await gone(grandchild as number)).toBe(true);
  });
});

describe('MISC_CHECK spawn, users, script security', () => {
  it('reports a missing binary as a spawn error', async () => {
    const r = await probeMisc(target(['/nonexistent/lvsd-check', '--x']));
    expect(r).toMatchObject({
      ok: false,
      code: 'spawn',
      reason: 'cannot start /nonexistent/lvsd-check: ENOENT',
      detail: { errno: 'ENOENT' },
    });
  });

  it('reports a file that is not executable as a spawn error', async () => {
    const file = join(tmp, 'not-exec.sh');
    await writeFile(file, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const r = await probeMisc(target([file]));
    expect(r).toMatchObject({ ok: false, code: 'spawn', detail: { errno: 'EACCES' } });
  });

  it('refuses an unknown user', async () => {
    const r = await probeMisc(target(sh('whoami.sh'), { user: 'lvsd-no-such-user' }));
    expect(r).toMatchObject({ ok: false, code: 'spawn', reason: 'unknown user lvsd-no-such-user' });
  });

  it.runIf(process.getuid?.() === 0)(
    'runs as the configured user and group (root only)',
    async () => {
      const r = await probeMisc(target(sh('whoami.sh'), { user: 'nobody', group: 65534 }));
      expect(r).toMatchObject({ ok: true, detail: { output: '65534 65534\n' } });
      const numeric = await probeMisc(target(sh('whoami.sh'), { user: 65534, group: 65534 }));
      expect(numeric.detail?.output).toBe('65534 65534\n');
    },
  );

  it('script security refuses a script others can modify and allows a root-owned one', async () => {
    const file = join(tmp, 'open.sh');
    await writeFile(file, '#!/bin/sh\nexit 0\n');
    await chmod(file, 0o777);
    const refused = await probeMisc(target([file], { scriptSecurity: true }));
    expect(refused).toMatchObject({ ok: false, code: 'insecure' });
    expect(refused.reason).toMatch(
      /^script security: .* is (writable by everyone|owned by uid \d+)$/,
    );
    const allowed = await probeMisc(target(['true'], { scriptSecurity: true }));
    expect(allowed).toMatchObject({ ok: true, code: 'ok' });
  });

  it('refuses an empty argv', async () => {
    expect(await probeMisc(target([]))).toMatchObject({
      ok: false,
      code: 'spawn',
      reason: 'empty command',
    });
  });
});
