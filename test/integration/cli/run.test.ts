/** `lvsd run`, `lvsd plan` and `lvsd demo` as processes: logs, signals, exit statuses. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

interface LogLine {
  level: string;
  msg: string;
  event?: { name: string; data: Record<string, unknown> };
}

function conf(port: number, kind = 'NAT', algo = 'rr'): string {
  return `virtual_server 198.18.0.10 80 {
    lb_algo ${algo}
    lb_kind ${kind}
    protocol TCP
    real_server 127.0.0.1 ${port} {
        weight 4
        HTTP_GET {
            url { path / }
            connect_timeout 0.3
            delay_loop 0.2
            retry 0
        }
    }
}
`;
}

/** Collects the JSON lines of a running lvsd until `pred` matches one (bounded in time). */
function watch(child: { stdout: NodeJS.ReadableStream | null }, lines: LogLine[]) {
  let buf = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ level: 'raw', msg: line });
      }
    }
  });
  return async (pred: (l: LogLine) => boolean, ms = 5000): Promise<LogLine> => {
    const t0 = Date.now();
    for (;;) {
      const hit = lines.find(pred);
      if (hit) return hit;
      if (Date.now() - t0 > ms)
        throw new Error(
          `no matching log line within ${ms} ms; got:\n${lines.map((l) => l.msg).join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  };
}

/** `lvsd run --ipvs memory` with its sockets and state under the test's dir, named by `tag`. */
function runMemory(file: string, tag: string) {
  return runLvsdMemory({
    file,
    socket: path.join(dir, `${tag}.sock`),
    roSocket: path.join(dir, `${tag}-ro.sock`),
    stateDir: path.join(dir, `${tag}-state`),
    timeoutMs: 30_000,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-run-'));
  backend = await startSwitchableBackend();
});
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('lvsd run', () => {
  it('logs JSON events, reloads on SIGHUP, keeps the old config on a bad one, exits 0 on SIGTERM', async () => {
    const file = path.join(dir, 'run.conf');
    writeFileSync(file, conf(backend.port));
    const child = runMemory(file, 'lvsd');
    const lines: LogLine[] = [];
    const until = watch(child, lines);
    const started = await until((l) => l.event?.name === 'daemon.started');
    expect(started.level).toBe('info');
    const applied = await until((l) => l.event?.name === 'ipvs.applied');
    expect(applied.event?.data['lines']).toEqual([
      '-A -t 198.18.0.10:80 -s rr',
      `-a -t 198.18.0.10:80 -r 127.0.0.1:${backend.port} -m -w 4`,
    ]);

    backend.setStatus(500);
    const down = await until((l) => l.event?.name === 'rs.down');
    expect(down.msg).toBe(
      `real server 127.0.0.1:${backend.port} of tcp:198.18.0.10:80 DOWN: status 500 (1/1 failures) (weight 0)`,
    );
    expect(down.level).toBe('warn');
    backend.setStatus(200);
    await until((l) => l.event?.name === 'rs.up');

    writeFileSync(file, conf(backend.port, 'dr'));
    child.kill('SIGHUP');
    const rejected = await until((l) => l.event?.name === 'config.rejected');
    expect(rejected.msg).toContain("unknown routing method 'dr'");
    writeFileSync(file, conf(backend.port, 'NAT', 'wlc'));
    child.kill('SIGHUP');
    await until((l) => l.event?.name === 'config.reloaded');
    const edit = await until(
      (l) =>
        l.event?.name === 'ipvs.applied' && JSON.stringify(l.event.data['lines']).includes('wlc'),
    );
    expect(edit.event?.data['lines']).toEqual(['-E -t 198.18.0.10:80 -s wlc']);

    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(lines.some((l) => l.event?.name === 'daemon.stopping')).toBe(true);
  });

  it('starts MISC_CHECKs and notify scripts from its spawner, which ends with it (even on SIGKILL)', async () => {
    const rec = path.join(dir, 'parents.txt');
    const script = path.join(dir, 'record-parent.sh');
    const downFlag = path.join(dir, 'check-fails');
    // Records who started it; as a check it fails while the flag file exists.
    writeFileSync(
      script,
      `#!/bin/sh\necho "$1 $PPID" >> ${rec}\n[ "$1" = check ] && [ -e ${downFlag} ] && exit 1\nexit 0\n`,
      { mode: 0o755 },
    );
    const file = path.join(dir, 'spawner.conf');
    writeFileSync(
      file,
      `virtual_server 198.18.0.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 ${backend.port} {
        weight 1
        notify_up "${script} notify"
        MISC_CHECK {
            misc_path "${script} check"
            misc_timeout 2
            delay_loop 0.2
        }
    }
}
`,
    );
    const child = runMemory(file, 'spawner');
    const lines: LogLine[] = [];
    const until = watch(child, lines);
    await until((l) => l.event?.name === 'daemon.started');
    writeFileSync(downFlag, '');
    await until((l) => l.event?.name === 'rs.down');
    rmSync(downFlag);
    await until((l) => l.event?.name === 'rs.up');
    const parents = async (): Promise<Map<string, Set<number>>> => {
      const m = new Map<string, Set<number>>();
      for (const line of (await readFile(rec, 'utf8')).trim().split('\n')) {
        const [kind = '', pid = ''] = line.split(' ');
        m.set(kind, (m.get(kind) ?? new Set()).add(Number(pid)));
      }
      return m;
    };
    const t0 = Date.now();
    while (!(await parents().catch(() => new Map())).has('notify') && Date.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 50));
    const seen = await parents();
    // One parent for every script, and it is not the daemon: the spawner.
    const all = new Set([...(seen.get('check') ?? []), ...(seen.get('notify') ?? [])]);
    expect(all.size).toBe(1);
    const [spawner = 0] = [...all];
    expect(spawner).not.toBe(child.pid);
    expect(await readFile(`/proc/${spawner}/cmdline`, 'utf8')).toContain('spawner.mjs');
    expect((await readFile(`/proc/${spawner}/stat`, 'utf8')).split(') ')[1]?.split(' ')[1]).toBe(
      String(child.pid),
    );
    // The spawner killed: the daemon says so on its stream (warn), works on, and starts a new one.
    process.kill(spawner, 'SIGKILL');
    const down = await until((l) => l.event?.name === 'daemon.spawner');
    expect(down.level).toBe('warn');
    expect(down.event?.data).toMatchObject({ state: 'down' });
    const up = await until(
      (l) => l.event?.name === 'daemon.spawner' && l.event.data['state'] === 'up',
    );
    const again = Number(up.event?.data['pid']);
    expect(again).not.toBe(spawner);
    expect(await readFile(`/proc/${again}/cmdline`, 'utf8')).toContain('spawner.mjs');
    // lvsd status tells an operator the same.
    const st = await execa('node', [
      bin,
      'status',
      '--json',
      '--socket',
      path.join(dir, 'spawner-ro.sock'),
    ]);
    const status = JSON.parse(st.stdout) as { spawner?: Record<string, unknown> };
    expect(status.spawner).toMatchObject({ up: true, pid: again, starts: 2 });
    expect(status.spawner?.['scriptRuns']).toBeGreaterThan(0);
    const text = await execa('node', [
      bin,
      'status',
      '--socket',
      path.join(dir, 'spawner-ro.sock'),
    ]);
    expect(text.stdout).toMatch(
      new RegExp(`script spawner: pid ${again}, \\d+ scripts, 0 tool runs.*started 2 times`),
    );
    child.kill('SIGKILL');
    await child;
    const gone = Date.now();
    while (existsSync(`/proc/${again}`) && Date.now() - gone < 8000)
      await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(`/proc/${again}`)).toBe(false);
  });

  it('says plainly when the kernel has no IPVS, and points to --ipvs memory', async () => {
    const file = path.join(dir, 'run.conf');
    writeFileSync(file, conf(backend.port));
    const probe = await execa('ipvsadm', ['-Ln'], { reject: false });
    if (probe.exitCode === 0) return; // this kernel has IPVS: covered by test/ipvs
    const r = await execa(
      'node',
      [
        bin,
        'run',
        '-f',
        file,
        '--ipvs',
        'ipvsadm',
        '--socket',
        path.join(dir, 'x.sock'),
        '--state-dir',
        path.join(dir, 'state'),
      ],
      {
        reject: false,
        timeout: 30_000,
      },
    );
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/the kernel has no IPVS|ipvsadm is not installed/);
    expect(r.stderr).toMatch(/--ipvs memory|apt-get install ipvsadm/);
  });

  it('refuses to start on a configuration that cannot run (exit 4)', async () => {
    const r = await execa(
      'node',
      [
        bin,
        'run',
        '-f',
        path.join(dir, 'nope.conf'),
        '--ipvs',
        'memory',
        '--socket',
        path.join(dir, 'y.sock'),
        '--state-dir',
        path.join(dir, 'state'),
      ],
      { reject: false, timeout: 30_000 },
    );
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain('cannot run');
    expect(r.stderr).toContain('hint: check it with: lvsd check-config');
  });
});

describe('lvsd run start-up', () => {
  it('a second lvsd on the same control socket refuses to start, changes nothing and exits', async () => {
    const file = path.join(dir, 'twice.conf');
    writeFileSync(file, conf(backend.port));
    const sock = path.join(dir, 'twice.sock');
    const args = [
      'run',
      '-f',
      file,
      '--ipvs',
      'memory',
      '--socket',
      sock,
      '--state-dir',
      path.join(dir, 'state2'),
    ];
    const first = execa('node', [bin, ...args], { reject: false, timeout: 30_000 });
    const lines: LogLine[] = [];
    await watch(first, lines)((l) => l.event?.name === 'daemon.started');
    const second = await execa('node', [bin, ...args], { reject: false, timeout: 20_000 });
    expect(second.exitCode).toBe(4);
    expect(second.stderr).toMatch(/control socket/);
    expect(second.stdout).not.toMatch(/ipvs\.applied/);
    first.kill('SIGTERM');
    expect((await first).exitCode).toBe(0);
  });

  it('SIGTERM right after start still stops cleanly (exit 0)', async () => {
    const file = path.join(dir, 'early.conf');
    writeFileSync(file, conf(backend.port));
    const child = execa(
      'node',
      [
        bin,
        'run',
        '-f',
        file,
        '--ipvs',
        'memory',
        '--socket',
        path.join(dir, 'early.sock'),
        '--state-dir',
        path.join(dir, 'state3'),
      ],
      { reject: false, timeout: 30_000 },
    );
    // The state directory appears during start-up, after the signal handlers are in place.
    const t0 = Date.now();
    while (!existsSync(path.join(dir, 'state3')) && Date.now() - t0 < 10_000)
      await new Promise((res) => setTimeout(res, 5));
    child.kill('SIGTERM');
    const r = await child;
    expect(r.signal).toBeUndefined();
    expect(r.exitCode).toBe(0);
  });
});

describe('lvsd plan', () => {
  it('prints the operations run would issue, as ipvsadm -R lines', async () => {
    const file = path.join(dir, 'plan.conf');
    writeFileSync(file, conf(8080));
    const r = await execa('node', [bin, 'plan', '-f', file, '--ipvs', 'memory', '--json'], {
      reject: false,
    });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      driver: 'memory',
      ops: 2,
      lines: ['-A -t 198.18.0.10:80 -s rr', '-a -t 198.18.0.10:80 -r 127.0.0.1:8080 -m -w 4'],
    });
  });
});

describe('lvsd demo', () => {
  it('serves its real servers, takes the failing one to weight 0 and back', async () => {
    const r = await execa(
      'node',
      [bin, 'demo', '--duration', '5', '--fail-after', '1', '--fail-for', '2'],
      { reject: false, timeout: 30_000 },
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /real server 127\.0\.0\.1:18082 of tcp:198\.18\.0\.10:80 DOWN: status 503/,
    );
    expect(r.stdout).toMatch(
      /real server 127\.0\.0\.1:18082 of tcp:198\.18\.0\.10:80 UP \(weight 2\)/,
    );
    expect(r.stdout).toContain('127.0.0.1:18081 weight 3');
  });
});
