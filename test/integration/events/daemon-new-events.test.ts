/**
 * The events issue 8 added, against a running `lvsd run --ipvs memory` (bin/lvsd.js: run
 * `npm run build` first): a drain that expired while lvsd was down is in `lvsd events` from
 * seq 1 (the ring exists before the admin state is opened); a failing notify_down is a
 * `hook.failed` event; and /metrics counts every check run in lvsd_check_duration_seconds
 * while the server is steady (no events at all).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, emptyState } from '../../../src/admin/state.js';
import { AdminStore } from '../../../src/admin/store.js';
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

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-new-events-'));
  backend = await startSwitchableBackend();
});
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
  });
}

function parse(stdout: string): AnyEvent[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AnyEvent);
}

/** The value of `name{…vs…}` in a scrape (the one series this config has). */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('vs="'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const VS = 'tcp:198.18.0.1:80';

describe('issue 8 events against a running daemon', () => {
  it('admin.expired from the start, hook.failed from a failing notify_down, a latency sample per check', async () => {
    const rs = `127.0.0.1:${backend.port}`;
    const stateDir = path.join(dir, 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    const drained = apply(
      emptyState,
      {
        type: 'drain',
        vs: VS,
        rs,
        by: 'alice',
        via: 'admin-socket',
        until: Date.now() - 60_000,
        director: 'lb1',
      },
      Date.now() - 120_000,
    );
    await new AdminStore({ dir: stateDir }).save(drained.state);
    const notify = path.join(dir, 'notify-down.sh');
    writeFileSync(notify, '#!/bin/sh\necho "pager unreachable" >&2\nexit 7\n', { mode: 0o755 });
    const metricsPort = await freePort();
    const file = path.join(dir, 'k.conf');
    writeFileSync(
      file,
      `lvsd {\n metrics_address 127.0.0.1:${metricsPort}\n}\nvirtual_server 198.18.0.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 127.0.0.1 ${backend.port} {\n  weight 5\n  notify_down "${notify} --page ops"\n  HTTP_GET {\n   url { path / }\n   delay_loop 0.1\n   connect_timeout 0.5\n   retry 0\n  }\n }\n}\n`,
    );
    backend.setStatus(200);
    const daemon = runLvsdMemory({ file, socket: path.join(dir, 'lvsd.sock'), stateDir });
    const events = (...args: string[]) =>
      execa(
        'node',
        [bin, 'events', '--json', '--socket', path.join(dir, 'lvsd-ro.sock'), ...args],
        {
          reject: false,
          timeout: 20_000,
        },
      );
    const scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      return res.text();
    };
    try {
      const first = await until(
        () => events(),
        (r) => r.exitCode === 0 && r.stdout.includes('"daemon.started"'),
      );
      const held = parse(first.stdout);
      expect(held[0]?.seq).toBe(1);
      const names = held.map((e) => e.name);
      expect(names.indexOf('admin.expired')).toBeGreaterThanOrEqual(0);
      expect(names.indexOf('admin.expired')).toBeLessThan(names.indexOf('daemon.started'));

      // Steady and healthy: no rs.* events, yet every check run is a latency sample.
      const count = async () => sample(await scrape(), 'lvsd_check_duration_seconds_count') ?? 0;
      const c1 = await until(count, (n) => n > 0);
      await new Promise((r) => setTimeout(r, 1000));
      const c2 = await count();
      expect(c2 - c1).toBeGreaterThanOrEqual(5); // 10 a second at delay_loop 0.1
      const steady = parse((await events('--since', String(held.at(-1)?.seq ?? 0))).stdout);
      expect(steady.filter((e) => e.name.startsWith('rs.'))).toEqual([]);

      backend.setStatus(503);
      const failed = await until(
        () => events(),
        (r) => r.stdout.includes('"hook.failed"'),
      );
      const hook = parse(failed.stdout).find((e) => e.name === 'hook.failed');
      expect(checker.check(hook, '#/$defs/event')).toEqual([]);
      expect(hook?.data).toMatchObject({
        hook: 'notify_down',
        subject: `rs:${VS}/${rs}`,
        argv0: notify,
        code: 'exit',
      });
      expect(JSON.stringify(hook)).not.toContain('--page');
      const down = parse(failed.stdout).find((e) => e.name === 'rs.down');
      expect(down && hook && down.seq < hook.seq).toBe(true);
    } finally {
      daemon.kill('SIGTERM');
    }
    expect((await daemon).exitCode).toBe(0);
  }, 60_000);
});
