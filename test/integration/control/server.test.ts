/**
 * The control API over real unix sockets: modes, the read-only socket's refusal, stale and
 * live socket files, body limits, and (as root) that an unprivileged user cannot reach the
 * admin socket but can read through the read-only one.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../src/control/client.js';
import { ApiError } from '../../../src/control/errors.js';
import { ControlServer, ControlSetupError } from '../../../src/control/server.js';
import { bundle } from '../../unit/admin/bundle.js';
import { fakePort, type FakePort } from '../../unit/control/fake-port.js';

let dir: string;
let port: FakePort;
let server: ControlServer | undefined;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-ctl-'));
  chmodSync(dir, 0o755);
  port = await fakePort();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await port.admin.stop();
  rmSync(dir, { recursive: true, force: true });
});

const paths = () => ({
  adminPath: path.join(dir, 'run/lvsd.sock'),
  roPath: path.join(dir, 'run/lvsd-ro.sock'),
});

function raw(
  socketPath: string,
  method: string,
  urlPath: string,
  body: string,
  headers: Record<string, string> = {},
) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const r = request({ socketPath, method, path: urlPath, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: text });
      });
    });
    r.on('error', reject);
    r.end(body);
  });
}

describe('ControlServer', () => {
  it('admin socket 0660, read-only socket 0666; the read-only socket refuses a drain', async () => {
    server = await ControlServer.start({ port, ...paths() });
    const a = statSync(paths().adminPath);
    const r = statSync(paths().roPath);
    expect(a.isSocket() && r.isSocket()).toBe(true);
    expect(a.mode & 0o777).toBe(0o660);
    expect(r.mode & 0o777).toBe(0o666);

    const ro = new ControlClient({ socketPath: paths().roPath, user: 'alice' });
    const err = await ro.drain('tcp:198.18.0.10:80', '198.18.1.11:80').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'READ_ONLY_SOCKET', status: 403 });
    expect(port.admin.drains()).toEqual([]);
    expect((await ro.status()).director.id).toBe('d1');
    await ro.close();

    const admin = new ControlClient({ socketPath: paths().adminPath, user: 'alice' });
    expect(await admin.drain('tcp:198.18.0.10:80', '198.18.1.11:80', 'kernel')).toMatchObject({
      changed: true,
      admin: { by: 'alice' },
    });
    await admin.close();
  });

  it('sets the admin group when one is configured, and 0660 + group for a read group', async () => {
    const groupFile = path.join(dir, 'group');
    writeFileSync(groupFile, 'root:x:0:\nlvsd-admin:x:4711:\nlvsd-read:x:4712:\n');
    if (process.getuid?.() !== 0) return; // chown to another group needs root
    server = await ControlServer.start({
      port,
      ...paths(),
      adminGroup: 'lvsd-admin',
      readGroup: 'lvsd-read',
      groupFile,
    });
    expect(statSync(paths().adminPath)).toMatchObject({ gid: 4711 });
    expect(statSync(paths().roPath).mode & 0o777).toBe(0o660);
    expect(statSync(paths().roPath).gid).toBe(4712);
    await expect(
      ControlServer.start({
        port,
        adminPath: path.join(dir, 'x.sock'),
        roPath: path.join(dir, 'y.sock'),
        adminGroup: 'nope',
        groupFile,
      }),
    ).rejects.toMatchObject({ code: 'SOCKET_GROUP_UNKNOWN' });
  });

  it('replaces a stale socket file, refuses a live one and never removes a non-socket', async () => {
    const { adminPath, roPath } = paths();
    // A stale socket: bound, then the process "crashed" (the file stays, nothing listens).
    const stale = createServer();
    await new Promise<void>((r) => stale.listen(path.join(dir, 'stale.sock'), r));
    const { renameSync, mkdirSync } = await import('node:fs');
    mkdirSync(path.dirname(adminPath), { recursive: true });
    renameSync(path.join(dir, 'stale.sock'), adminPath);
    await new Promise<void>((r) =>
      stale.close(() => {
        r();
      }),
    );
    expect(existsSync(adminPath)).toBe(true);
    server = await ControlServer.start({ port, adminPath, roPath });
    expect(await new ControlClient({ socketPath: adminPath }).status()).toMatchObject({
      director: { id: 'd1' },
    });

    const second = await ControlServer.start({
      port,
      adminPath,
      roPath: path.join(dir, 'other-ro.sock'),
    }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ControlSetupError);
    expect(second).toMatchObject({ code: 'SOCKET_IN_USE' });

    const file = path.join(dir, 'not-a-socket');
    writeFileSync(file, 'precious');
    await expect(
      ControlServer.start({ port, adminPath: file, roPath: path.join(dir, 'r2.sock') }),
    ).rejects.toMatchObject({ code: 'SOCKET_PATH_TAKEN' });
    expect(existsSync(file)).toBe(true);

    await server.close();
    server = undefined;
    expect(existsSync(adminPath) || existsSync(roPath)).toBe(false);
  });

  it('bodies: over 64 KiB is BODY_TOO_LARGE, non-JSON is refused, the declared user is recorded', async () => {
    server = await ControlServer.start({ port, ...paths() });
    const drainPath = `/v1/servers/${encodeURIComponent('tcp:198.18.0.10:80')}/${encodeURIComponent('198.18.1.11:80')}/drain`;
    const big = await raw(
      paths().adminPath,
      'POST',
      drainPath,
      JSON.stringify({ reason: 'x'.repeat(70_000) }),
      { 'content-type': 'application/json' },
    );
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
    const text = await raw(paths().adminPath, 'POST', drainPath, 'reason=x', {
      'content-type': 'text/plain',
    });
    expect(JSON.parse(text.body)).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const broken = await raw(paths().adminPath, 'POST', drainPath, '{"reason":', {
      'content-type': 'application/json',
    });
    expect(JSON.parse(broken.body)).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    const ok = await raw(paths().adminPath, 'POST', drainPath, '', { 'x-lvsd-user': 'bob smith' });
    expect(JSON.parse(ok.body)).toMatchObject({ admin: { by: 'bobsmith', via: 'admin-socket' } });
    expect(port.admin.drains()).toHaveLength(1);
  });

  it('the client says plainly when lvsd is not running', async () => {
    const c = new ControlClient({ socketPath: path.join(dir, 'none.sock') });
    await expect(c.status()).rejects.toMatchObject({
      code: 'NOT_RUNNING',
      message: `lvsd is not running (no socket at ${path.join(dir, 'none.sock')})`,
    });
    await c.close();
  });

  it.runIf(process.getuid?.() === 0)(
    'as root: nobody cannot connect to the admin socket, but can read via the read-only one',
    async () => {
      server = await ControlServer.start({ port, ...paths() });
      chmodSync(path.join(dir, 'run'), 0o755);
      const out = mkdtempSync(path.join(tmpdir(), 'lvsd-asuser-'));
      chmodSync(out, 0o755);
      const script = await bundle(new URL('./fixtures/as-user.ts', import.meta.url).pathname, out);
      chmodSync(script, 0o644);
      const { stdout } = await promisify(execFile)(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          script,
          paths().adminPath,
          paths().roPath,
        ],
        { timeout: 15_000 },
      );
      expect(JSON.parse(stdout)).toEqual({
        uid: 65534,
        adminDrain: 'PERMISSION_DENIED',
        adminStatus: 'PERMISSION_DENIED',
        roStatus: 'ok',
        roDrain: 'READ_ONLY_SOCKET',
      });
      expect(port.admin.drains()).toEqual([]);
      rmSync(out, { recursive: true, force: true });
    },
  );
});
