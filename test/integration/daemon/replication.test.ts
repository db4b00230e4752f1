/**
 * Admin-state replication between two daemons on loopback (127.0.0.1 and 127.0.0.2): a drain
 * made on one director reaches the other and takes effect in its table; an undrain too; a
 * director that was down catches up from the periodic resend; a wrong key is refused and
 * changes nothing.
 */
import { createServer } from 'node:net';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import {
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  replicationKey,
  replicationMessage,
} from '../../../src/admin/replication.js';
import { emptyState } from '../../../src/admin/state.js';
import { ControlClient } from '../../../src/control/client.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { MemoryIpvsDriver } from '../../../src/ipvs/drivers/memory.js';
import { systemClock } from '../../../src/lib/clock.js';
import { EventBus, type AnyEvent } from '../../../src/lib/events.js';
import { startTestDaemon } from '../../helpers/test-daemon.js';

const KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0';
const VS = 'tcp:198.18.0.10:80';
const RS = '198.18.1.11:80';
let dir: string;
let port: number;
const running: Daemon[] = [];

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

function configFile(name: string, me: string, peer: string, keyFile: string): string {
  const file = path.join(dir, `${name}.conf`);
  writeFileSync(
    file,
    `global_defs {
    router_id ${name}
}
virtual_server 198.18.0.10 80 {
    lb_algo wlc
    lb_kind NAT
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 3
    }
    real_server 198.18.1.12 80 {
        weight 3
    }
}
lvsd {
    key_file ${keyFile}
    replication_peer ${peer}
    replication_listen ${me}
    replication_port ${port}
    control_socket ${path.join(dir, `${name}.sock`)}
    control_socket_ro ${path.join(dir, `${name}-ro.sock`)}
    state_dir ${path.join(dir, `${name}-state`)}
}
`,
  );
  return file;
}

interface Director {
  daemon: Daemon;
  driver: MemoryIpvsDriver;
  events: AnyEvent[];
  client: ControlClient;
}

async function start(name: string, me: string, peer: string, keyFile: string): Promise<Director> {
  const events: AnyEvent[] = [];
  const bus = new EventBus(systemClock);
  bus.subscribe((e) => events.push(e));
  const driver = new MemoryIpvsDriver();
  const daemon = await startTestDaemon(configFile(name, me, peer, keyFile), {
    hostname: name,
    driver,
    bus,
    driftCheckMs: 0,
  });
  running.push(daemon);
  return {
    daemon,
    driver,
    events,
    client: new ControlClient({ socketPath: path.join(dir, `${name}.sock`), user: 'alice' }),
  };
}

async function weight(d: Director, rs: string): Promise<number | undefined> {
  const t = await d.driver.read();
  for (const s of t.table.services.values()) {
    const dest = s.destinations.get(rs);
    if (dest) return dest.weight;
  }
  return undefined;
}

function keyFileWith(name: string, key: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, `${key}\n`);
  chmodSync(f, 0o600);
  return f;
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-repl-'));
  port = await freePort();
});

afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('admin-state replication', () => {
  it('a drain on one director drains the server on the other; undrain too', async () => {
    const key = keyFileWith('key', KEY);
    const a = await start('dir1', '127.0.0.1', '127.0.0.2', key);
    const b = await start('dir2', '127.0.0.2', '127.0.0.1', key);
    expect(await weight(b, RS)).toBe(3);
    await a.client.drain(VS, RS, 'kernel upgrade');
    expect(await eventuallyAsync(async () => (await weight(b, RS)) === 0, 3000)).toBe(true);
    const seen = await b.client.server(VS, RS);
    expect(JSON.stringify(seen)).toContain('kernel upgrade');
    expect(
      b.events.some(
        // Pushed by dir1, or pulled in the answer to dir2's own first push (whichever came first).
        (e) => e.name === 'admin.replication' && e.data.ok && e.data.changed,
      ),
    ).toBe(true);
    await b.client.undrain(VS, RS);
    expect(await eventuallyAsync(async () => (await weight(a, RS)) === 3, 3000)).toBe(true);
    await a.client.close();
    await b.client.close();
  });

  it('a director that was down catches up from the resend', async () => {
    const key = keyFileWith('key', KEY);
    const a = await start('dir1', '127.0.0.1', '127.0.0.2', key);
    await a.client.drain(VS, RS, 'while dir2 was away');
    // dir1's push after the drain finds nobody (reported once).
    expect(
      await eventuallyAsync(
        () => Promise.resolve(a.events.some((e) => e.name === 'admin.replication' && !e.data.ok)),
        3000,
      ),
    ).toBe(true);
    // dir2 starts: its first push is answered with dir1's state (push-pull), long before the
    // 10 s resend.
    const t0 = Date.now();
    const b = await start('dir2', '127.0.0.2', '127.0.0.1', key);
    expect(await eventuallyAsync(async () => (await weight(b, RS)) === 0, 3000)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3000);
    await a.client.close();
    await b.client.close();
  }, 20_000);

  it('refuses a message signed with another key, or replayed out of its window', async () => {
    const key = keyFileWith('key', KEY);
    const b = await start('dir2', '127.0.0.2', '127.0.0.1', key);
    const url = `http://127.0.0.2:${port}/v1/admin-state`;
    const wrong = replicationMessage(
      replicationKey(Buffer.from('ab'.repeat(32), 'hex')),
      'mallory',
      emptyState,
      Date.now(),
    );
    const r1 = await request(url, { method: 'POST', headers: wrong.headers, body: wrong.body });
    expect(r1.statusCode).toBe(401);
    await r1.body.text();
    const stale = replicationMessage(
      replicationKey(Buffer.from(KEY, 'hex')),
      'dir1',
      emptyState,
      Date.now() - 120_000,
    );
    const r2 = await request(url, { method: 'POST', headers: stale.headers, body: stale.body });
    expect(r2.statusCode).toBe(401);
    expect(await r2.body.text()).toMatch(/replayed|clocks/);
    const r3 = await request(url, {
      method: 'POST',
      headers: { [HEADER_TIMESTAMP]: 'x', [HEADER_SIGNATURE]: 'y' },
      body: '{}',
    });
    expect(r3.statusCode).toBe(401);
    await r3.body.text();
    expect(await weight(b, RS)).toBe(3);
    await b.client.close();
  });
});

async function eventuallyAsync(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}
