/** The control commands against a real ControlServer (fake port): output, --json, exit codes. */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Command, Io } from '../../../src/cli/io.js';
import { drainCommand } from '../../../src/cli/commands/drain.js';
import { maintCommand } from '../../../src/cli/commands/maint.js';
import { reloadCommand } from '../../../src/cli/commands/reload.js';
import { statusCommand } from '../../../src/cli/commands/status.js';
import { undrainCommand } from '../../../src/cli/commands/undrain.js';
import { UsageError } from '../../../src/cli/args.js';
import { ControlServer } from '../../../src/control/server.js';
import { fakePort, type FakePort } from '../../unit/control/fake-port.js';

let dir: string;
let port: FakePort;
let server: ControlServer;
let admin: string;
let ro: string;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-cli-'));
  chmodSync(dir, 0o755);
  port = await fakePort();
  admin = path.join(dir, 'lvsd.sock');
  ro = path.join(dir, 'lvsd-ro.sock');
  server = await ControlServer.start({ port, adminPath: admin, roPath: ro });
});
afterEach(async () => {
  await server.close();
  await port.admin.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function run(cmd: Command, argv: string[], env: Record<string, string> = {}, tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    cwd: dir,
    env: { USER: 'alice', ...env },
    tty,
  };
  const code = await cmd.run(argv, io);
  return { code, out: out.join(''), err: err.join('') };
}

const VS = 'tcp:198.18.0.10:80';
const RS = '198.18.1.11:80';

describe('lvsd drain / undrain', () => {
  it('drains through --socket, shows it in status, undrains', async () => {
    const d = await run(drainCommand, [VS, RS, '--reason', 'kernel upgrade', '--socket', admin]);
    expect(d).toEqual({ code: 0, out: `drained ${RS} of ${VS} (weight 0)\n`, err: '' });
    const s = await run(statusCommand, ['--socket', ro]);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^lvsd 0\.1\.0-test on d1 \(pid 4242, memory\), up 1h;/);
    expect(s.out).toMatch(
      /198\.18\.1\.11:80\s+0\/4\s+up 2m \(connected, 1 ms\)\s+drain by alice \d+ ms ago "kernel upgrade"\s+0\s+0/,
    );
    expect(s.out).toMatch(/198\.18\.1\.12:80\s+2\/2\s+up 2m/);
    expect(s.out).toMatch(/VI_1\s+n\/a\s+n\/a\s+n\/a/);
    const u = await run(undrainCommand, [VS, RS], { LVSD_SOCKET: admin });
    expect(u.code).toBe(0);
    expect(u.out).toMatch(
      new RegExp(`^undrained ${RS} of ${VS} \\(drained by alice .* ago: kernel upgrade\\)\\n$`),
    );
    expect((await run(undrainCommand, [VS, RS, '--socket', admin])).out).toBe(
      `${RS} of ${VS} was not drained; nothing changed\n`,
    );
  });

  it('--json prints the API body; status --json is the snapshot', async () => {
    const d = await run(drainCommand, ['198.18.0.10:80', RS, '--json', '--socket', admin]);
    expect(JSON.parse(d.out)).toMatchObject({
      vs: VS,
      rs: RS,
      changed: true,
      admin: { state: 'drain', by: 'alice', via: 'admin-socket' },
      previous: { state: 'active' },
    });
    const s = await run(statusCommand, ['--json', '--socket', ro]);
    const snap = JSON.parse(s.out) as {
      virtualServers: { name: string; realServers: { name: string; admin: { state: string } }[] }[];
    };
    expect(snap.virtualServers.find((v) => v.name === VS)?.realServers[0]?.admin.state).toBe(
      'drain',
    );
  });

  it('status --watch --count refreshes N times', async () => {
    const s = await run(statusCommand, [
      '--watch',
      '--count',
      '2',
      '--interval',
      '10ms',
      '--json',
      '--socket',
      ro,
    ]);
    expect(s.code).toBe(0);
    expect(s.out.trim().split('\n')).toHaveLength(2);
  });

  it('--wait returns when ActiveConn reaches 0, with progress on a terminal', async () => {
    const key = `${VS}/${RS}`;
    port.conns.set(key, { active: 3, inactive: 1 });
    setTimeout(() => port.conns.set(key, { active: 1, inactive: 3 }), 60);
    setTimeout(() => port.conns.set(key, { active: 0, inactive: 4 }), 160);
    const d = await run(
      drainCommand,
      [VS, RS, '--wait', '--interval', '20ms', '--socket', admin],
      {},
      true,
    );
    expect(d.code).toBe(0);
    expect(d.err).toMatch(/waiting: 3 active, 1 inactive connections on 198\.18\.1\.11:80/);
    expect(d.err).toMatch(/waiting: 1 active/);
    expect(d.out).toMatch(/no active connections left on 198\.18\.1\.11:80 \(waited \d+ ms\)\n$/);
  });

  it('--wait --timeout exits 7 with the connections left; the drain stays', async () => {
    port.conns.set(`${VS}/${RS}`, { active: 2, inactive: 0 });
    const d = await run(drainCommand, [
      VS,
      RS,
      '--wait',
      '--timeout',
      '100ms',
      '--interval',
      '20ms',
      '--json',
      '--socket',
      admin,
    ]);
    expect(d.code).toBe(7);
    expect(JSON.parse(d.out)).toMatchObject({
      changed: true,
      wait: { drained: false, active: 2, counted: true },
    });
    expect(port.admin.drained(VS, RS)).toBe(true);
  });

  it('exit codes: read-only socket 9, unknown server 10, ambiguous 10, not running 8', async () => {
    const r = await run(drainCommand, [VS, RS, '--socket', ro]);
    expect(r.code).toBe(9);
    expect(r.err).toBe(
      'lvsd drain: this is the read-only socket: POST /v1/servers/tcp%3A198.18.0.10%3A80/198.18.1.11%3A80/drain needs the admin socket\n  hint: use the admin socket (default /run/lvsd/lvsd.sock, as root or the admin group)\n',
    );
    const nf = await run(drainCommand, [VS, '198.18.1.99:80', '--socket', admin]);
    expect(nf.code).toBe(10);
    expect(nf.err).toBe(
      `lvsd drain: no real server 198.18.1.99:80 in ${VS}\n  hint: ${VS} has 198.18.1.11:80, 198.18.1.12:80\n`,
    );
    const amb = await run(drainCommand, [
      '198.18.0.10:53',
      '198.18.1.11:53',
      '--json',
      '--socket',
      admin,
    ]);
    expect(amb.code).toBe(10);
    expect(JSON.parse(amb.out)).toMatchObject({
      error: { code: 'AMBIGUOUS', candidates: ['tcp:198.18.0.10:53', 'udp:198.18.0.10:53'] },
    });
    const gone = path.join(dir, 'gone.sock');
    const nr = await run(statusCommand, ['--socket', gone]);
    expect(nr.code).toBe(8);
    expect(nr.err).toBe(
      `lvsd status: lvsd is not running (no socket at ${gone})\n  hint: start it (systemctl start lvsd), or name its socket with --socket PATH or LVSD_SOCKET\n`,
    );
    expect(port.admin.drains()).toEqual([]);
  });

  it('usage errors are UsageError (exit 2 in main)', async () => {
    await expect(run(drainCommand, [VS])).rejects.toBeInstanceOf(UsageError);
    await expect(run(drainCommand, [VS, RS, '--timeout', '5s'])).rejects.toThrow(
      '--timeout and --interval go with --wait',
    );
    await expect(run(drainCommand, [VS, RS, '--wait', '--timeout', 'soon'])).rejects.toThrow(
      "--timeout: 'soon' is not a duration",
    );
    await expect(run(statusCommand, ['--wath'])).rejects.toThrow('unknown option --wath');
  });
});

describe('lvsd maint', () => {
  it('adds (timezone explicit), lists and cancels a window', async () => {
    const a = await run(maintCommand, [
      VS,
      '198.18.1.12:80',
      '--at',
      '0 3 * * 0',
      '--for',
      '1h30m',
      '--tz',
      'Europe/Berlin',
      '--reason',
      'patching',
      '--socket',
      admin,
    ]);
    expect(a.code).toBe(0);
    expect(a.out).toMatch(
      /^maintenance window d1-1: drain 198\.18\.1\.12:80 of tcp:198\.18\.0\.10:80 at "0 3 \* \* 0" \(Europe\/Berlin\) for 1h30m; next \d{4}-\d\d-\d\d 03:00 GMT\+[12]\n$/,
    );
    const l = await run(maintCommand, ['--list', '--socket', ro]);
    expect(l.out).toMatch(
      /^ID\s+VIRTUAL SERVER\s+REAL SERVER\s+AT\s+ZONE\s+FOR\s+NEXT\s+BY\s+REASON\nd1-1\s+tcp:198\.18\.0\.10:80\s+198\.18\.1\.12:80\s+0 3 \* \* 0\s+Europe\/Berlin\s+1h30m\s+.*\s+alice\s+patching\n$/,
    );
    const j = await run(maintCommand, ['--list', '--json', '--socket', ro]);
    expect(JSON.parse(j.out)).toMatchObject({
      windows: [{ id: 'd1-1', durationMs: 5_400_000, timezone: 'Europe/Berlin' }],
    });
    const c = await run(maintCommand, ['--cancel', 'd1-1', '--socket', admin]);
    expect(c).toEqual({
      code: 0,
      out: `cancelled maintenance window d1-1 (198.18.1.12:80 of ${VS})\n`,
      err: '',
    });
    expect((await run(maintCommand, ['--cancel', 'd1-1', '--socket', admin])).code).toBe(10);
  });

  it('without --tz the local zone is sent explicitly; a bad cron is refused (10)', async () => {
    const a = await run(maintCommand, [
      VS,
      RS,
      '--at',
      '*/5 * * * *',
      '--for',
      '10m',
      '--json',
      '--socket',
      admin,
    ]);
    expect(JSON.parse(a.out)).toMatchObject({
      window: { timezone: Intl.DateTimeFormat().resolvedOptions().timeZone },
    });
    const bad = await run(maintCommand, [
      VS,
      RS,
      '--at',
      '0 25 * * *',
      '--for',
      '10m',
      '--socket',
      admin,
    ]);
    expect(bad.code).toBe(10);
    expect(bad.err).toMatch(/^lvsd maint: bad request: invalid cron expression '0 25 \* \* \*'/);
    await expect(run(maintCommand, [VS, RS, '--at', '0 3 * * 0'])).rejects.toThrow(
      'needs --at CRON and --for D',
    );
    await expect(run(maintCommand, ['--list', '--cancel', 'x'])).rejects.toThrow(
      '--list and --cancel go alone',
    );
  });
});

describe('lvsd reload', () => {
  it('prints what changed; a rejected file exits 4 with its diagnostics', async () => {
    port.reloadResult = { ok: true, added: ['tcp:198.18.0.11:80'], removed: [], changed: [VS] };
    const ok = await run(reloadCommand, ['--socket', admin]);
    expect(ok).toEqual({
      code: 0,
      out: `reloaded: 1 virtual server added, 0 removed, 1 changed\n  added    tcp:198.18.0.11:80\n  changed  ${VS}\n`,
      err: '',
    });
    port.reloadResult = {
      ok: false,
      problems: [
        '/etc/keepalived/keepalived.conf:3:5: error: unknown keyword lb_algoo [unknown-keyword]',
      ],
    };
    const bad = await run(reloadCommand, ['--socket', admin]);
    expect(bad.code).toBe(4);
    expect(bad.err).toBe(
      'lvsd reload: the new configuration was rejected; the running one stays: 1 problem\n' +
        '  /etc/keepalived/keepalived.conf:3:5: error: unknown keyword lb_algoo [unknown-keyword]\n' +
        '  hint: fix the file and check it with lvsd check-config before reloading\n',
    );
    const j = await run(reloadCommand, ['--json', '--socket', admin]);
    expect(JSON.parse(j.out)).toMatchObject({
      error: { code: 'INVALID_CONFIG', diagnostics: port.reloadResult.problems },
    });
    expect((await run(reloadCommand, ['--socket', ro])).code).toBe(9);
  });

  it('every command has --help', async () => {
    for (const c of [statusCommand, drainCommand, undrainCommand, maintCommand, reloadCommand]) {
      const h = await run(c, ['--help']);
      expect(h.code).toBe(0);
      expect(h.out).toMatch(/^Usage: lvsd /);
      expect(h.out).toMatch(/Exit status/);
    }
  });
});
