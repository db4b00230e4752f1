/**
 * `lvsd events` against a running `lvsd run --ipvs memory` (bin/lvsd.js: run `npm run build`
 * first): the one-shot read, human lines, --since, --follow through a health flap and a
 * drain; then a reader that cannot keep up (its stdout is a pipe nobody reads) is cut off
 * with exit 11 and the last seq, having printed every event before the cut, while a second
 * follower gets every event and the daemon's checks go on.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchableBackend, type SwitchableBackend } from '../../../src/demo/backend.js';
import type { AnyEvent } from '../../../src/lib/events.js';
import { SchemaChecker } from '../../unit/webhooks/json-schema-check.js';
import { until } from './until.js';
import { runLvsdMemory } from '../../helpers/lvsd-run.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const bin = path.join(repo, 'bin/lvsd.js');
const checker = new SchemaChecker(
  JSON.parse(readFileSync(path.join(repo, 'docs/events.schema.json'), 'utf8')) as Record<
    string,
    never
  >,
);
let dir: string;
let backend: SwitchableBackend;

const ro = () => path.join(dir, 'lvsd-ro.sock');

/**
 * `count` virtual servers with one real server each, all on the one switchable backend;
 * `retry 0` so a 300 ms flip is a flap (keepalived's default retries after 1 s).
 */
function writeConfig(name: string, count: number): string {
  const file = path.join(dir, name);
  let text = 'lvsd {\n metrics_address off\n}\n';
  for (let i = 0; i < count; i++)
    text += `virtual_server 198.18.${Math.floor(i / 200)}.${(i % 200) + 1} 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 127.0.0.1 ${backend.port} {\n  weight 5\n  HTTP_GET {\n   url { path / }\n   delay_loop 0.2\n   connect_timeout 0.5\n   retry 0\n  }\n }\n}\n`;
  writeFileSync(file, text);
  return file;
}

const running: { kill(signal: NodeJS.Signals): boolean }[] = [];

function startDaemon(file: string, sub: string) {
  const d = runLvsdMemory({
    file,
    socket: path.join(dir, 'lvsd.sock'),
    stateDir: path.join(dir, sub),
    timeoutMs: 90_000,
  });
  running.push(d);
  return d;
}

function events(...args: string[]) {
  return execa('node', [bin, 'events', '--socket', ro(), ...args], {
    reject: false,
    timeout: 20_000,
  });
}

function parse(stdout: string): AnyEvent[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AnyEvent);
}

const contiguous = (seqs: readonly number[]) =>
  seqs.every((s, i) => i === 0 || s === (seqs[i - 1] ?? 0) + 1);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-events-'));
  backend = await startSwitchableBackend();
});
afterEach(() => {
  // A failed test must not leave its daemon holding the sockets for the next one.
  for (const d of running.splice(0)) d.kill('SIGKILL');
});
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('lvsd events against a running daemon', () => {
  it('reads, follows a flap and a drain, and resumes with --since', async () => {
    backend.setStatus(200);
    const daemon = startDaemon(writeConfig('one.conf', 1), 'state1');
    const first = await until(
      () => events('--json'),
      (r) => r.exitCode === 0 && r.stdout.includes('"daemon.started"'),
    );
    const held = parse(first.stdout);
    expect(contiguous(held.map((e) => e.seq)), first.stdout).toBe(true);
    for (const e of held) expect(checker.check(e, '#/$defs/event'), e.name).toEqual([]);
    const newest = held.at(-1)?.seq ?? 0;

    const human = await events();
    expect(human.exitCode, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^#\d+ \d{4}-\d\d-\d\dT\S+Z daemon\.started daemon /m);

    const follow = execa(
      'node',
      [bin, 'events', '--follow', '--json', '--since', String(newest), '--socket', ro()],
      { reject: false, timeout: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 500));
    backend.setStatus(503);
    await until(
      () => events('--json', '--since', String(newest)),
      (r) => r.stdout.includes('"rs.down"'),
    );
    backend.setStatus(200);
    await until(
      () => events('--json', '--since', String(newest)),
      (r) => r.stdout.includes('"rs.up"'),
    );
    const d = await execa(
      'node',
      [
        bin,
        'drain',
        '198.18.0.1:80',
        `127.0.0.1:${backend.port}`,
        '--reason',
        'from the events test',
        '--socket',
        path.join(dir, 'lvsd.sock'),
      ],
      { reject: false },
    );
    expect(d.exitCode, d.stderr).toBe(0);
    await until(
      () => events('--json', '--since', String(newest)),
      (r) => r.stdout.includes('"admin.drained"'),
    );
    daemon.kill('SIGTERM');
    expect((await daemon).exitCode).toBe(0);

    // The follower saw it all in order, then lvsd's "stopping" last line (exit 8).
    const f = await follow;
    expect(f.exitCode, f.stderr).toBe(8);
    const lines = f.stdout.trim().split('\n');
    const last = JSON.parse(lines.pop() ?? '') as { error: { code: string; lastSeq: number } };
    expect(last.error.code).toBe('UNAVAILABLE');
    const seen = parse(lines.join('\n'));
    expect(seen[0]?.seq).toBe(newest + 1);
    expect(contiguous(seen.map((e) => e.seq)), seen.map((e) => e.seq).join(' ')).toBe(true);
    expect(seen.at(-1)?.seq).toBe(last.error.lastSeq);
    const names = seen.map((e) => e.name);
    const order = ['rs.down', 'rs.up', 'admin.drained', 'daemon.stopping'].map((n) =>
      names.indexOf(n as AnyEvent['name']),
    );
    expect(
      order.every((i) => i >= 0),
      names.join(' '),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(f.stderr).toMatch(/lvsd is stopping/);
  }, 60_000);

  it('cuts off a reader that cannot keep up; nothing lost before the cut; the daemon goes on', async () => {
    backend.setStatus(200);
    const daemon = startDaemon(writeConfig('many.conf', 240), 'state2');
    const started = await until(
      () => events('--json'),
      (r) => r.exitCode === 0 && r.stdout.includes('"daemon.started"'),
      20_000,
    );
    const from = parse(started.stdout).at(-1)?.seq ?? 0;

    // The slow reader: its stdout is a pipe this test does not read until the storm is over.
    const slow = spawn(
      'node',
      [bin, 'events', '--follow', '--json', '--since', String(from), '--socket', ro()],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    slow.stdout.pause();
    let slowErr = '';
    slow.stderr.on('data', (c: Buffer) => (slowErr += c.toString()));
    // The fast reader: read as it comes (execa buffers it).
    const fast = execa(
      'node',
      [bin, 'events', '--follow', '--json', '--since', String(from), '--socket', ro()],
      { reject: false, timeout: 60_000 },
    );
    await new Promise((r) => setTimeout(r, 700));
    // A storm: 240 real servers flap every 300 ms for 3 s.
    for (let i = 0; i < 10; i++) {
      backend.setStatus(i % 2 === 0 ? 503 : 200);
      await new Promise((r) => setTimeout(r, 300));
    }
    backend.setStatus(200);

    // Now read the slow one: it ends by itself, cut off.
    let slowOut = '';
    slow.stdout.on('data', (c: Buffer) => (slowOut += c.toString()));
    slow.stdout.resume();
    const slowCode = await new Promise<number | null>((resolve) => slow.once('close', resolve));
    expect(slowCode, slowErr).toBe(11);
    expect(slowErr).toMatch(/cut off: this client fell more than 1000 events behind/);
    const lines = slowOut.trim().split('\n');
    const last = JSON.parse(lines.pop() ?? '') as { error: { code: string; lastSeq: number } };
    expect(last.error.code).toBe('SLOW_CONSUMER');
    const got = parse(lines.join('\n')).map((e) => e.seq);
    expect(got[0]).toBe(from + 1);
    expect(contiguous(got)).toBe(true);
    expect(got.at(-1)).toBe(last.error.lastSeq);

    // The daemon went on: checks still run (all 240 up again), events still flow.
    const after = await until(
      () => events('--json', '--since', String(last.error.lastSeq)),
      (r) => parse(r.stdout).filter((e) => e.name === 'rs.up').length > 0,
    );
    expect(parse(after.stdout).length).toBeGreaterThan(0);
    daemon.kill('SIGTERM');
    expect((await daemon).exitCode).toBe(0);
    const f = await fast;
    const fastSeen = parse(f.stdout.trim().split('\n').slice(0, -1).join('\n')).map((e) => e.seq);
    expect(fastSeen[0]).toBe(from + 1);
    expect(contiguous(fastSeen)).toBe(true);
    expect(fastSeen.at(-1)).toBeGreaterThan(last.error.lastSeq + 1000);
    expect(f.exitCode).toBe(8); // lvsd is stopping: its last line
  }, 90_000);
});
