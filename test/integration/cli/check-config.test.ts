/** `lvsd check-config` as a process: exit statuses, --json, --dump, hostile files. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const bin = path.join(repo, 'bin/lvsd.js');
let dir: string;

function lvsd(...args: string[]) {
  return execa('node', [bin, ...args], { reject: false, cwd: dir, timeout: 30_000 });
}

const good = `virtual_server 198.18.0.10 80 {
    lb_algo wlc
    lb_kind NAT
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 2
        }
    }
}
`;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-cli-'));
  writeFileSync(path.join(dir, 'good.conf'), good);
  writeFileSync(path.join(dir, 'bad.conf'), good.replace('NAT', 'nat'));
  mkdirSync(path.join(dir, 'a.d'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('lvsd check-config', () => {
  it('exits 0 on a clean file and summarises it', async () => {
    const r = await lvsd('check-config', '-f', 'good.conf');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('good.conf: OK: 1 virtual server, 1 real server');
  });

  it('exits 5 with file:line:col, severity, message and hint', async () => {
    const r = await lvsd('check-config', '-f', 'bad.conf');
    expect(r.exitCode).toBe(5);
    expect(r.stdout).toContain(
      "bad.conf:3:13: warning: unknown routing method 'nat' for lb_kind [bad-value]",
    );
    expect(r.stdout).toContain('hint: values are case-sensitive: did you mean NAT?');
  });

  it('--json gives the diagnostics as data', async () => {
    const r = await lvsd('check-config', '-f', 'bad.conf', '--json');
    expect(r.exitCode).toBe(5);
    const j = JSON.parse(r.stdout) as {
      exitStatus: number;
      diagnostics: { code: string; at: { line: number } }[];
    };
    expect(j.exitStatus).toBe(5);
    expect(j.diagnostics[0]).toMatchObject({
      code: 'bad-value',
      severity: 'warning',
      at: { line: 3, col: 13 },
    });
  });

  it('--dump prints the normalised configuration on stdout', async () => {
    const r = await lvsd('check-config', '-f', 'good.conf', '--dump');
    expect(r.exitCode).toBe(0);
    const c = JSON.parse(r.stdout) as {
      virtualServers: {
        name: string;
        realServers: { name: string; health: { delayLoopMs: number } }[];
      }[];
      differences: string[];
    };
    expect(c.virtualServers[0]?.name).toBe('tcp:198.18.0.10:80');
    expect(c.virtualServers[0]?.realServers[0]?.name).toBe('198.18.1.11:80');
    expect(c.virtualServers[0]?.realServers[0]?.health.delayLoopMs).toBe(60_000);
    expect(c.differences.join(' ')).toContain('weight 0');
  });

  it('a missing file cannot run (4) and says so', async () => {
    const r = await lvsd('check-config', '-f', 'nope.conf');
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toContain('cannot read configuration file');
  });

  it('a directory as the file cannot run', async () => {
    const r = await lvsd('check-config', '-f', 'a.d');
    expect(r.exitCode).toBe(4);
  });

  it('an unreadable file is reported, not thrown', async () => {
    const f = path.join(dir, 'secret.conf');
    writeFileSync(f, good);
    chmodSync(f, 0o000);
    chmodSync(dir, 0o755);
    // root reads anything: drop to nobody for this check when we are root.
    const asNobody = process.getuid?.() === 0;
    const r = asNobody
      ? await execa(
          'setpriv',
          [
            '--reuid=65534',
            '--regid=65534',
            '--clear-groups',
            'node',
            bin,
            'check-config',
            '-f',
            f,
          ],
          { reject: false },
        )
      : await lvsd('check-config', '-f', f);
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toMatch(/cannot read configuration file .*EACCES/);
    expect(r.stderr).not.toMatch(/at .*\.m?js:\d+/);
  });

  it('reads a 10 MB file', async () => {
    const f = path.join(dir, 'big.conf');
    const rs = Array.from(
      { length: 90_000 },
      (_, i) =>
        `    real_server 198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255} 80 {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 2\n        }\n    }\n`,
    );
    let text =
      'virtual_server 198.18.0.10 80 {\n    lb_algo wlc\n    lb_kind NAT\n    protocol TCP\n';
    text += rs.join('');
    text += '}\n';
    writeFileSync(f, text);
    expect(text.length).toBeGreaterThan(10_000_000);
    const r = await lvsd('check-config', '-f', f, '--quiet');
    expect(r.exitCode).toBe(0);
  }, 60_000);

  it('bad options are usage errors with a hint', async () => {
    const r = await lvsd('check-config', '--jsn');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unknown option --jsn');
    expect(r.stderr).toContain('did you mean --json?');
  });

  it('--help and --version work', async () => {
    expect((await lvsd('check-config', '--help')).stdout).toContain('Exit status');
    expect((await lvsd('--version')).stdout).toMatch(/^lvsd \d+\.\d+\.\d+/);
    expect(JSON.parse((await lvsd('--version', '--json')).stdout)).toHaveProperty('version');
  });

  it('garbage input never prints a stack trace', async () => {
    const f = path.join(dir, 'garbage.conf');
    writeFileSync(f, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)));
    const r = await lvsd('check-config', '-f', f);
    expect([0, 5]).toContain(r.exitCode);
    expect(r.stderr).toBe('');
  });

  it('-i selects @ID lines', async () => {
    writeFileSync(path.join(dir, 'cond.conf'), `@one ${good}`.replace(/\n(?=.)/g, '\n@one '));
    const one = await lvsd('check-config', '-f', 'cond.conf', '-i', 'one', '--json');
    const two = await lvsd('check-config', '-f', 'cond.conf', '-i', 'two', '--json');
    expect(
      (JSON.parse(one.stdout) as { summary: { virtualServers: number } }).summary.virtualServers,
    ).toBe(1);
    expect(
      (JSON.parse(two.stdout) as { summary: { virtualServers: number } }).summary.virtualServers,
    ).toBe(0);
  });
});
