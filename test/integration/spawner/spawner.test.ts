/**
 * The script spawner for real: dist/spawner.mjs (run `npm run build` first; `npm test` does)
 * started by its client, running real scripts; crashed, restarted, and orphaned.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CancelToken } from '../../../src/health/cancel.js';
import type { ObserverLog } from '../../../src/hooks/log-port.js';
import { execDirect, type ExecRequest } from '../../../src/lib/exec.js';
import { SpawnerClient, spawnerEntry } from '../../../src/spawner/client.js';

const ENTRY = resolve('dist/spawner.mjs');
let dir: string;
const clients: SpawnerClient[] = [];

interface Line {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}
function recordingLog(): ObserverLog & { lines: Line[] } {
  const lines: Line[] = [];
  return {
    lines,
    info: (_f, message) => lines.push({ level: 'info', message }),
    warn: (_f, message) => lines.push({ level: 'warn', message }),
    error: (_f, message) => lines.push({ level: 'error', message }),
  };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function started(log = recordingLog(), entry = ENTRY): Promise<SpawnerClient> {
  const c = new SpawnerClient({ entry, log, restartDelaysMs: [50] });
  clients.push(c);
  await until('the spawner hello', () => c.pid !== undefined);
  return c;
}

async function script(name: string, body: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, `#!/bin/sh\n${body}\n`);
  await chmod(p, 0o755);
  return p;
}

beforeAll(async () => {
  if (!existsSync(ENTRY)) throw new Error('dist/spawner.mjs is missing: run `npm run build`');
  dir = await mkdtemp(join(tmpdir(), 'lvsd-spawner-'));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('spawner', () => {
  it('is found beside the bundle and from the sources', () => {
    expect(spawnerEntry(new URL('../../../dist/lvsd.mjs', import.meta.url).href)).toBe(ENTRY);
    expect(spawnerEntry(new URL('../../../dist/chunks/x.mjs', import.meta.url).href)).toBe(ENTRY);
    expect(spawnerEntry(new URL('../../../src/spawner/client.ts', import.meta.url).href)).toBe(
      ENTRY,
    );
    expect(spawnerEntry('file:///nonexistent/dir/x.mjs')).toBeUndefined();
  });

  it('runs scripts as its own children with the runner’s verdicts', async () => {
    const c = await started();
    const ppid = await script('ppid.sh', 'echo "parent $PPID"; exit 3');
    const r = await c.run({ argv: [ppid], timeoutMs: 5000, dynamic: true });
    expect(r).toMatchObject({ ok: true, code: 'ok', weight: 1, detail: { exitCode: 3 } });
    // The script's parent is the spawner, not this process: the daemon never forked.
    expect(r.detail?.output).toBe(`parent ${String(c.pid)}\n`);
    expect(await c.run({ argv: [ppid], timeoutMs: 5000, dynamic: false })).toMatchObject({
      ok: false,
      code: 'exit',
      reason: 'exit status 3',
    });
    expect(
      await c.run({ argv: [join(dir, 'missing.sh')], timeoutMs: 5000, dynamic: false }),
    ).toMatchObject({ ok: false, code: 'spawn' });
    const flood = await script('flood.sh', 'head -c 100000 /dev/zero | tr "\\0" x');
    const f = await c.run({ argv: [flood], timeoutMs: 5000, dynamic: false, maxOutputBytes: 64 });
    expect(f.detail).toMatchObject({ capturedBytes: 64, totalOutputBytes: 100000 });
    expect(c.stats).toMatchObject({ spawnerRuns: 4, directRuns: 0, lost: 0 });
  });

  it('runs many scripts at once and answers each one', async () => {
    const c = await started();
    const echo = await script('echo.sh', 'echo "$1"; exit "$1"');
    const runs = Array.from({ length: 40 }, (_, i) =>
      c.run({ argv: [echo, String(i % 7)], timeoutMs: 5000, dynamic: true }),
    );
    const results = await Promise.all(runs);
    results.forEach((r, i) => {
      expect(r.detail?.output).toBe(`${i % 7}\n`);
    });
  });

  it('kills a script’s whole process group at its timeout', async () => {
    const c = await started();
    const pidFile = join(dir, 'bg.pid');
    const hang = await script('hang.sh', `sleep 30 & echo $! > ${pidFile}; wait`);
    const r = await c.run({ argv: [hang], timeoutMs: 300, dynamic: false, killGraceMs: 100 });
    expect(r).toMatchObject({ ok: false, code: 'timeout' });
    const bg = Number(await readFile(pidFile, 'utf8'));
    await until('the background sleep to die', () => !alive(bg), 3000);
  });

  it('cancels a run when its signal fires', async () => {
    const c = await started();
    const hang = await script('hang2.sh', 'exec sleep 30');
    const token = new CancelToken();
    const p = c.run({ argv: [hang], timeoutMs: 30_000, dynamic: false }, token);
    await new Promise((r) => setTimeout(r, 200));
    token.abort('test');
    const r = await p;
    expect(r).toMatchObject({ ok: false, code: 'aborted' });
    expect(r.latencyMs).toBeLessThan(5000);
  });

  it('fails in-flight runs when the spawner dies, runs directly meanwhile, and restarts it', async () => {
    const log = recordingLog();
    const c = await started(log);
    const first = c.pid as number;
    const hang = await script('hang3.sh', 'exec sleep 30');
    const inFlight = c.run({ argv: [hang], timeoutMs: 30_000, dynamic: false });
    await until('the run to be in flight', () => c.inFlight === 1);
    process.kill(first, 'SIGKILL');
    const lostRun = await inFlight;
    expect(lostRun).toMatchObject({ ok: false, code: 'io' });
    expect(lostRun.reason).toMatch(/spawner exited \(SIGKILL\).*outcome unknown/);
    // Before the restart: started by this process itself, still correct.
    const ppid = await script('ppid2.sh', 'echo $PPID');
    const direct = await c.run({ argv: [ppid], timeoutMs: 5000, dynamic: false });
    expect(direct.detail?.output).toBe(`${process.pid}\n`);
    await until('a new spawner', () => c.pid !== undefined && c.pid !== first);
    const again = await c.run({ argv: [ppid], timeoutMs: 5000, dynamic: false });
    expect(again.detail?.output).toBe(`${String(c.pid)}\n`);
    expect(c.stats).toMatchObject({ lost: 1, directRuns: 1, starts: 2 });
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(log.lines.some((l) => /script spawner running again/.test(l.message))).toBe(true);
  });

  it('runs scripts directly, and says so once, when there is no spawner', async () => {
    const log = recordingLog();
    const c = new SpawnerClient({ entry: null, log });
    clients.push(c);
    const ok = await script('ok.sh', 'exit 0');
    expect(await c.run({ argv: [ok], timeoutMs: 5000, dynamic: false })).toMatchObject({
      ok: true,
    });
    expect(c.stats).toMatchObject({ directRuns: 1, starts: 0 });
    expect(log.lines).toMatchObject([{ level: 'warn', message: /spawner.mjs not found/ }]);
  });

  it('keeps working, with bounded restarts, when the spawner cannot start', async () => {
    const log = recordingLog();
    const c = new SpawnerClient({
      entry: join(dir, 'deleted-by-an-upgrade.mjs'),
      log,
      restartDelaysMs: [50, 200, 800],
    });
    clients.push(c);
    const ok = await script('ok2.sh', 'exit 0');
    const t0 = Date.now();
    while (Date.now() - t0 < 1500) {
      expect(await c.run({ argv: [ok], timeoutMs: 5000, dynamic: false })).toMatchObject({
        ok: true,
      });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(c.pid).toBeUndefined();
    // No node started for a missing file; the retries follow the delays (50 + 200 + 800 ms).
    expect(c.stats.starts).toBe(0);
    expect(c.stats.retries).toBeGreaterThanOrEqual(3);
    expect(c.stats.retries).toBeLessThanOrEqual(4);
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('refuses a spawner of another wire version (an upgrade) and runs scripts itself', async () => {
    const other = join(dir, 'newer-spawner.mjs');
    await writeFile(
      other,
      `process.stdout.write(JSON.stringify({ kind: 'hello', pid: process.pid, version: 99 }) + '\\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`,
    );
    const log = recordingLog();
    const c = new SpawnerClient({ entry: other, log, restartDelaysMs: [20] });
    clients.push(c);
    expect(await c.ready(5000)).toBe(false);
    const ppid = await script('ppid3.sh', 'echo $PPID');
    const r = await c.run({ argv: [ppid], timeoutMs: 5000, dynamic: false });
    expect(r.detail?.output).toBe(`${process.pid}\n`);
    await new Promise((res) => setTimeout(res, 300));
    expect(c.stats.starts).toBe(1); // no restart loop
    expect(log.lines).toMatchObject([{ level: 'warn', message: /wire version 99, this lvsd 1/ }]);
  });

  it('turns a corrupted reply into a failure, never a guessed verdict', async () => {
    const fake = join(dir, 'fake-spawner.mjs');
    await writeFile(
      fake,
      `process.stdout.write(JSON.stringify({ kind: 'hello', pid: process.pid, version: 1 }) + '\\n');
process.stdin.on('data', (b) => {
  for (const line of b.toString().split('\\n').filter(Boolean)) {
    const { id } = JSON.parse(line);
    process.stdout.write('garbage\\n');
    process.stdout.write(JSON.stringify({ kind: 'result', id, result: { ok: true, code: 'status', reason: 'x', latencyMs: 1 } }) + '\\n');
  }
});
process.stdin.on('end', () => process.exit(0));
`,
    );
    const log = recordingLog();
    const c = await started(log, fake);
    const r = await c.run({ argv: ['/bin/true'], timeoutMs: 1000, dynamic: false });
    expect(r).toMatchObject({ ok: false, code: 'io' });
    expect(r.reason).toMatch(/reply was invalid \(unknown result code\)/);
    expect(c.stats.malformed).toBe(2);
  });

  it('runs tools exactly as this process would (ip, ipvsadm, arping go this way)', async () => {
    const c = await started();
    const requests: ExecRequest[] = [
      {
        file: 'sh',
        args: ['-c', 'echo "$LC_ALL $PPID"; echo err >&2; exit 3'],
        timeoutMs: 5000,
        maxBufferBytes: 1024,
        env: { LC_ALL: 'C' },
      },
      {
        file: 'cat',
        args: [],
        input: 'line 1\nline 2\n',
        timeoutMs: 5000,
        maxBufferBytes: 1024,
        stripFinalNewline: false,
      },
      { file: 'sleep', args: ['5'], timeoutMs: 200, maxBufferBytes: 1024 },
      { file: 'head', args: ['-c', '5000', '/dev/zero'], timeoutMs: 5000, maxBufferBytes: 1000 },
      { file: join(dir, 'no-such-tool'), args: [], timeoutMs: 5000, maxBufferBytes: 1024 },
    ];
    const via = await Promise.all(requests.map((q) => c.exec(q)));
    const direct = await Promise.all(requests.map((q) => execDirect(q)));
    expect(c.stats).toMatchObject({ spawnerExecs: 5, directExecs: 0 });
    // The first reports its parent: the spawner there, this process here.
    expect(via[0]?.stdout).toBe(`C ${String(c.pid)}`);
    expect(direct[0]?.stdout).toBe(`C ${process.pid}`);
    expect({ ...via[0], stdout: '' }).toEqual({ ...direct[0], stdout: '' });
    expect(via[0]).toMatchObject({ exitCode: 3, stderr: 'err', timedOut: false });
    expect(via[1]).toEqual(direct[1]);
    expect(via[1]?.stdout).toBe('line 1\nline 2\n');
    expect(via[2]).toEqual(direct[2]);
    expect(via[2]).toMatchObject({ timedOut: true });
    expect(via[3]?.overflow).toBe(true);
    expect(via[3]?.overflow).toBe(direct[3]?.overflow);
    expect(via[4]).toEqual(direct[4]);
    expect(via[4]?.errno).toBe('ENOENT');
  });

  it('fails a tool run cut short by the spawner’s death as ESPAWNER, then runs tools directly', async () => {
    const c = await started();
    const first = c.pid as number;
    const slow = c.exec({ file: 'sleep', args: ['10'], timeoutMs: 20_000, maxBufferBytes: 1024 });
    await until('the run to be in flight', () => c.inFlight === 1);
    process.kill(first, 'SIGKILL');
    expect(await slow).toMatchObject({
      errno: 'ESPAWNER',
      stderr: /spawner exited.*outcome unknown/,
    });
    const direct = await c.exec({
      file: 'sh',
      args: ['-c', 'echo $PPID'],
      timeoutMs: 5000,
      maxBufferBytes: 64,
    });
    expect(direct.stdout).toBe(String(process.pid));
    expect(c.stats).toMatchObject({ lost: 1, directExecs: 1 });
  });

  it('exits, killing what it runs, when the daemon is killed with SIGKILL', async () => {
    const pidFile = join(dir, 'orphan.pid');
    const hang = await script('orphan.sh', `echo $$ > ${pidFile}; exec sleep 30`);
    // A stand-in daemon: starts the spawner, asks for one run, then waits to be killed.
    const daemon = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { spawn } from 'node:child_process';
const s = spawn(process.execPath, [${JSON.stringify(ENTRY)}], { stdio: ['pipe', 'pipe', 'inherit'] });
s.stdout.once('data', () => {
  s.stdin.write(JSON.stringify({ id: 1, op: 'script', target: { argv: [${JSON.stringify(hang)}], timeoutMs: 60000, dynamic: false } }) + '\\n');
  console.log(s.pid);
});
setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const spawnerPid = await new Promise<number>((res) =>
      daemon.stdout.once('data', (b: Buffer) => {
        res(Number(b.toString().trim()));
      }),
    );
    await until('the script to start', () => existsSync(pidFile), 5000);
    const scriptPid = Number(await readFile(pidFile, 'utf8'));
    expect(alive(spawnerPid) && alive(scriptPid)).toBe(true);
    daemon.kill('SIGKILL');
    await until('the spawner to exit', () => !alive(spawnerPid), 8000);
    await until('its script to be killed', () => !alive(scriptPid), 3000);
  });
});
