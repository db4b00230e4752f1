/**
 * Operator control against a running `lvsd run` (memory driver): drain through the admin
 * socket puts the server at weight 0 whatever its health, survives a restart, and undrain
 * gives the weight back; the read-only socket shows it and refuses changes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchableBackend, type SwitchableBackend } from '../../../src/demo/backend.js';
import { runLvsdMemory } from '../../helpers/lvsd-run.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const bin = path.join(repo, 'bin/lvsd.js');
let dir: string;
let backend: SwitchableBackend;

interface RsStatus {
  name: string;
  currentWeight: number | null;
  admin: { state: string; reason?: string; by?: string };
}

function startDaemon(file: string) {
  return runLvsdMemory({
    file,
    socket: path.join(dir, 'lvsd.sock'),
    stateDir: path.join(dir, 'state'),
  });
}

async function status(): Promise<RsStatus> {
  const r = await execa(
    'node',
    [bin, 'status', '--json', '--socket', path.join(dir, 'lvsd-ro.sock')],
    { reject: false },
  );
  if (r.exitCode !== 0) throw new Error(`status failed (${r.exitCode}): ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { virtualServers: { realServers: RsStatus[] }[] };
  const rs = j.virtualServers[0]?.realServers[0];
  if (!rs) throw new Error('no real server in status');
  return rs;
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    try {
      const v = await f();
      if (ok(v)) return v;
    } catch {
      // not up yet
    }
    if (Date.now() - t0 > ms) throw new Error(`not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-ctl-'));
  backend = await startSwitchableBackend();
});
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('drain and undrain against a running daemon', () => {
  it('drains with a reason, survives a restart, and undrains', async () => {
    const file = path.join(dir, 'k.conf');
    writeFileSync(
      file,
      `virtual_server 198.18.0.10 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 127.0.0.1 ${backend.port} {\n  weight 5\n  HTTP_GET {\n   url { path / }\n   delay_loop 0.2\n   connect_timeout 0.5\n  }\n }\n}\n`,
    );
    let daemon = startDaemon(file);
    await until(status, (s) => s.currentWeight === 5);

    const ro = await execa(
      'node',
      [
        bin,
        'drain',
        'tcp:198.18.0.10:80',
        `127.0.0.1:${backend.port}`,
        '--socket',
        path.join(dir, 'lvsd-ro.sock'),
      ],
      { reject: false },
    );
    expect(ro.exitCode).toBe(9);
    expect(ro.stderr).toMatch(/read-only/i);

    const missing = await execa(
      'node',
      [bin, 'drain', '198.18.0.10:80', '127.0.0.1:1', '--socket', path.join(dir, 'lvsd.sock')],
      { reject: false },
    );
    expect(missing.exitCode).toBe(10);

    const d = await execa(
      'node',
      [
        bin,
        'drain',
        '198.18.0.10:80',
        `127.0.0.1:${backend.port}`,
        '--reason',
        'kernel upgrade',
        '--socket',
        path.join(dir, 'lvsd.sock'),
      ],
      { reject: false },
    );
    expect(d.exitCode, d.stderr).toBe(0);
    const drained = await until(status, (s) => s.currentWeight === 0);
    expect(drained.admin).toMatchObject({ state: 'drain', reason: 'kernel upgrade' });

    daemon.kill('SIGKILL');
    await daemon;
    daemon = startDaemon(file);
    const again = await until(status, (s) => s.currentWeight !== null);
    expect(again.currentWeight).toBe(0);
    expect(again.admin.state).toBe('drain');

    const u = await execa(
      'node',
      [
        bin,
        'undrain',
        '198.18.0.10:80',
        `127.0.0.1:${backend.port}`,
        '--socket',
        path.join(dir, 'lvsd.sock'),
      ],
      { reject: false },
    );
    expect(u.exitCode, u.stderr).toBe(0);
    await until(status, (s) => s.currentWeight === 5 && s.admin.state === 'active');
    daemon.kill('SIGTERM');
    expect((await daemon).exitCode).toBe(0);
  }, 60_000);

  it('a drain survives a health failure and recovery, and a SIGHUP reload', async () => {
    const file = path.join(dir, 'h.conf');
    const conf = (weight: number) =>
      `virtual_server 198.18.0.10 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 127.0.0.1 ${backend.port} {\n  weight ${weight}\n  HTTP_GET {\n   url { path / }\n   delay_loop 0.2\n   connect_timeout 0.5\n  }\n }\n}\n`;
    writeFileSync(file, conf(5));
    backend.setStatus(200);
    const daemon = startDaemon(file);
    await until(status, (s) => s.currentWeight === 5);
    const d = await execa(
      'node',
      [
        bin,
        'drain',
        '198.18.0.10:80',
        `127.0.0.1:${backend.port}`,
        '--reason',
        'keep me',
        '--socket',
        path.join(dir, 'lvsd.sock'),
      ],
      { reject: false },
    );
    expect(d.exitCode, d.stderr).toBe(0);
    await until(status, (s) => s.currentWeight === 0);
    // Down, then up again: health never undoes the drain.
    backend.setStatus(503);
    await until(
      status,
      (s) => (s as RsStatus & { health: { state: string } }).health.state === 'down',
    );
    backend.setStatus(200);
    const up = await until(
      status,
      (s) => (s as RsStatus & { health: { state: string } }).health.state === 'up',
    );
    expect(up).toMatchObject({ currentWeight: 0, admin: { state: 'drain', reason: 'keep me' } });
    // A reload that changes the weight: the drain stays.
    writeFileSync(file, conf(7));
    daemon.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await status()).toMatchObject({ currentWeight: 0, admin: { state: 'drain' } });
    // Undrain (the state dir is shared with the next test): the reloaded weight comes back.
    const u = await execa(
      'node',
      [
        bin,
        'undrain',
        '198.18.0.10:80',
        `127.0.0.1:${backend.port}`,
        '--socket',
        path.join(dir, 'lvsd.sock'),
      ],
      { reject: false },
    );
    expect(u.exitCode, u.stderr).toBe(0);
    await until(status, (s) => s.currentWeight === 7);
    daemon.kill('SIGTERM');
    expect((await daemon).exitCode).toBe(0);
  }, 60_000);

  it('status --watch follows the daemon: health down, a drain, recovery', async () => {
    const file = path.join(dir, 'w.conf');
    writeFileSync(
      file,
      `virtual_server 198.18.0.10 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 127.0.0.1 ${backend.port} {\n  weight 5\n  HTTP_GET {\n   url { path / }\n   delay_loop 0.2\n   connect_timeout 0.5\n  }\n }\n}\n`,
    );
    backend.setStatus(200);
    const daemon = startDaemon(file);
    await until(status, (s) => s.currentWeight === 5);
    const watch = execa(
      'node',
      [
        bin,
        'status',
        '--watch',
        '--interval',
        '200ms',
        '--count',
        '30',
        '--json',
        '--socket',
        path.join(dir, 'lvsd-ro.sock'),
      ],
      { reject: false, timeout: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 800));
    backend.setStatus(503);
    await until(status, (s) => s.currentWeight === 0);
    backend.setStatus(200);
    await until(status, (s) => s.currentWeight === 5);
    const d = await execa(
      'node',
      [
        bin,
        'drain',
        '198.18.0.10:80',
        `127.0.0.1:${backend.port}`,
        '--reason',
        'watch me',
        '--socket',
        path.join(dir, 'lvsd.sock'),
      ],
      { reject: false },
    );
    expect(d.exitCode, d.stderr).toBe(0);
    const w = await watch;
    expect(w.exitCode, w.stderr).toBe(0);
    const frames = w.stdout
      .trim()
      .split('\n')
      .map((l) => {
        const j = JSON.parse(l) as { virtualServers: { realServers: RsStatus[] }[] };
        const rs = j.virtualServers[0]?.realServers[0] as RsStatus & { health: { state: string } };
        return `${rs.health.state}/${rs.admin.state}/${rs.currentWeight ?? '-'}`;
      });
    expect(frames).toHaveLength(30);
    // In order: healthy, then down at weight 0, up again, then drained at weight 0 (a frame
    // may fall between a health change and the table change that follows it).
    const want = ['up/active/5', 'down/active/0', 'up/active/5', 'up/drain/0'];
    let next = 0;
    for (const f of frames) if (f === want[next]) next += 1;
    expect(next, frames.join(' ')).toBe(want.length);
    expect(frames.at(-1)).toBe('up/drain/0');
    daemon.kill('SIGTERM');
    expect((await daemon).exitCode).toBe(0);
  }, 60_000);

  it('lvsd status says plainly when lvsd is not running', async () => {
    const r = await execa('node', [bin, 'status', '--socket', path.join(dir, 'none.sock')], {
      reject: false,
    });
    expect(r.exitCode).toBe(8);
    expect(r.stderr).toMatch(/not running|no socket/i);
  });
});
