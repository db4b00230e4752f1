/** The replication message: signed, time-bounded, and nothing unauthenticated is parsed. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  REPLICATION_WINDOW_MS,
  receiveReplication,
  replicationKey,
  replicationMessage,
  signature,
} from '../../../src/admin/replication.js';
import { apply, emptyState } from '../../../src/admin/state.js';
import { describedHost, loadConfig } from '../../../src/config/index.js';
import { nodeSource } from '../../../src/keepalived-config/index.js';

const key = replicationKey(Buffer.from('11'.repeat(16) + '22'.repeat(16), 'hex'));
const now = 1_800_000_000_000;
const drained = apply(
  emptyState,
  {
    type: 'drain',
    vs: 'tcp:198.18.0.10:80',
    rs: '198.18.1.11:80',
    by: 'alice',
    via: 'admin-socket',
    director: 'dir1',
  },
  now,
).state;

function headersOf(m: { headers: Record<string, string> }) {
  return { timestamp: m.headers[HEADER_TIMESTAMP], signature: m.headers[HEADER_SIGNATURE] };
}

describe('admin-state replication message', () => {
  it('round-trips a state', () => {
    const m = replicationMessage(key, 'dir1', drained, now);
    const r = receiveReplication(key, headersOf(m), m.body, now + 1000);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.director).toBe('dir1');
      expect([...r.state.overrides.keys()]).toEqual([...drained.overrides.keys()]);
    }
  });

  it('refuses a tampered body, another key, a stale or future timestamp', () => {
    const m = replicationMessage(key, 'dir1', drained, now);
    const h = headersOf(m);
    expect(receiveReplication(key, h, m.body.replace('alice', 'mallo'), now)).toMatchObject({
      ok: false,
      status: 401,
    });
    const other = replicationKey(Buffer.alloc(32, 9));
    expect(receiveReplication(other, h, m.body, now)).toMatchObject({ ok: false, status: 401 });
    for (const skew of [REPLICATION_WINDOW_MS + 1, -(REPLICATION_WINDOW_MS + 1)])
      expect(receiveReplication(key, h, m.body, now + skew)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/replayed|clocks/) as unknown,
      });
    expect(
      receiveReplication(key, { timestamp: undefined, signature: undefined }, '', now),
    ).toMatchObject({ ok: false, status: 401 });
  });

  it('parses only what is signed, and refuses a signed non-state with 400', () => {
    const body = JSON.stringify({
      format: 'lvsd-admin-replication',
      version: 1,
      director: 'x',
      state: { counter: -1 },
    });
    const r = receiveReplication(
      key,
      { timestamp: String(now), signature: signature(key, now, body) },
      body,
      now,
    );
    expect(r).toMatchObject({ ok: false, status: 400 });
  });
});

describe('replication settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-repl-conf-'));
  const load = (lvsd: string, extra = '') => {
    const f = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
    writeFileSync(f, `${extra}lvsd {\n${lvsd}\n}\n`);
    return loadConfig(f, {
      source: nodeSource(),
      host: describedHost({ interfaces: ['eth0'], executables: [] }),
      configId: 't',
      hostname: 't',
    });
  };

  it('needs a key file (ruling 11): without one it is off, with a warning', () => {
    const r = load('replication_peer 198.18.0.2');
    expect(r.config?.daemon.replication).toBeUndefined();
    expect(r.diagnostics.map((d) => d.message).join('\n')).toMatch(/no key_file/);
  });

  it('takes peers from replication_peer, else from unicast_peer', () => {
    const explicit = load(
      'key_file /etc/lvsd/key\nreplication_peer 198.18.0.2 198.18.0.3\nreplication_port 7000',
    );
    expect(explicit.config?.daemon.replication).toEqual({
      peers: ['198.18.0.2', '198.18.0.3'],
      port: 7000,
    });
    const vi =
      'vrrp_instance V {\n interface eth0\n virtual_router_id 1\n unicast_src_ip 198.18.0.1\n unicast_peer {\n 198.18.0.2\n }\n virtual_ipaddress {\n 198.18.0.10/24\n }\n}\n';
    const implicit = load('key_file /etc/lvsd/key', vi);
    expect(implicit.config?.daemon.replication).toEqual({ peers: ['198.18.0.2'], port: 61113 });
    expect(
      load('key_file /etc/lvsd/key\nreplication_peer nope')
        .diagnostics.map((d) => d.message)
        .join('\n'),
    ).toMatch(/not an IPv4 or IPv6/);
  });
});
