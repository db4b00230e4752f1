/**
 * docs/events.schema.json against what lvsd emits: one sample of every event (the samples'
 * type makes the list complete at compile time), published on a real bus and grouped into a
 * real delivery, must validate — strictly, so a field added to events.ts without the schema
 * fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import {
  EventBus,
  type AnyEvent,
  type EventName,
  type EventPayloads,
} from '../../../src/lib/events.js';
import { AlertBatcher } from '../../../src/webhooks/alert-batch.js';
import { delivery } from '../../../src/webhooks/delivery.js';
import { SchemaChecker } from './json-schema-check.js';

const schema = JSON.parse(
  readFileSync(new URL('../../../docs/events.schema.json', import.meta.url), 'utf8'),
) as Record<string, never>;
const checker = new SchemaChecker(schema);

const VS = 'tcp:198.18.0.10:80';
const RS = '198.18.1.11:80';
const samples: { [N in EventName]: EventPayloads[N] } = {
  'rs.up': {
    vs: VS,
    rs: RS,
    weight: 4,
    checker: 'tcp',
    code: 'ok',
    reason: 'connected',
    latencyMs: 1.5,
  },
  'rs.down': {
    vs: VS,
    rs: RS,
    checker: 'http',
    code: 'status',
    reason: 'status 503',
    removed: false,
  },
  'rs.weight': { vs: VS, rs: RS, weight: 2, previous: 4, reason: 'slow start' },
  'rs.checker': { vs: VS, rs: RS, checker: 'http', health: 'down', reason: 'status 503' },
  'vs.quorum_up': { vs: VS, liveWeight: 3, quorum: 2 },
  'vs.quorum_down': { vs: VS, liveWeight: 0, quorum: 2, sorryServer: '198.18.1.99:80' },
  'ipvs.adopted': { services: 1, destinations: 2 },
  'ipvs.applied': {
    ops: 1,
    lines: ['-e -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 0'],
    durationMs: 3,
  },
  'ipvs.failed': {
    ops: 1,
    failed: [{ line: '-a …', error: 'No such destination' }],
    unattributed: [],
  },
  'ipvs.drift': { ops: 1, lines: ['-a …'] },
  'ipvs.guarded': { ops: 20, violations: ['would zero 20 of 20 real servers'] },
  'ipvs.error': {
    code: 'ipvs-unavailable',
    message: 'Protocol not available',
    hint: 'modprobe ip_vs',
  },
  'config.loaded': {
    file: '/etc/keepalived/keepalived.conf',
    virtualServers: 1,
    realServers: 2,
    warnings: 0,
  },
  'config.reloaded': {
    file: '/etc/keepalived/keepalived.conf',
    added: [],
    removed: [],
    changed: [VS],
  },
  'config.rejected': {
    file: '/etc/keepalived/keepalived.conf',
    problems: ['line 3: unknown keyword'],
  },
  'vrrp.transition': {
    instance: 'VI_1',
    from: 'backup',
    to: 'master',
    cause: 'advert-timeout',
    priority: 100,
    peer: '198.18.0.2',
  },
  'vrrp.priority': { instance: 'VI_1', from: 100, to: 90, reason: 'tracking' },
  'vrrp.address': { instance: 'VI_1', address: '198.18.0.10/24', dev: 'eth0', action: 'added' },
  'vrrp.dropped': { instance: 'VI_1', reason: 'auth', from: '198.18.0.3', count: 4 },
  'vrrp.warning': { instance: 'VI_1', message: 'address change failed' },
  'vrrp.tracked': { kind: 'script', name: 'chk_haproxy', ok: false, detail: 'exit status 1' },
  'vrrp.sync_daemon': { instance: 'VI_1', role: 'master', ok: true, detail: 'started' },
  'admin.drained': { vs: VS, rs: RS, by: 'alice', via: 'admin socket', reason: 'kernel update' },
  'admin.undrained': { vs: VS, rs: RS, by: 'alice', via: 'admin socket' },
  'admin.expired': { vs: VS, rs: RS },
  'admin.state_corrupt': {
    file: '/var/lib/lvsd/admin.json',
    reason: 'checksum',
    keptAs: '/var/lib/lvsd/admin.json.bad',
  },
  'admin.error': { what: 'store', message: 'ENOSPC' },
  'admin.replication': {
    peer: '198.18.0.2',
    direction: 'sent',
    ok: true,
    changed: false,
    detail: 'in sync',
  },
  'vrrp.sync_group': {
    group: 'G1',
    from: null,
    to: 'master',
    instance: 'VI_1',
    cause: 'advert-timeout',
  },
  'hook.failed': {
    hook: 'notify_master',
    subject: 'instance:VI_1',
    argv0: '/etc/keepalived/master.sh',
    code: 'timeout',
    reason: 'timeout after 10000 ms',
    durationMs: 10_002,
  },
  'webhook.failed': { endpoint: 'ops', delivery: 'id-1', attempts: 5, reason: 'status 503' },
  'webhook.dropped': { endpoint: 'ops', count: 1, total: 3 },
  'daemon.started': { version: '0.1.0', pid: 42, driver: 'memory' },
  'daemon.stopping': { signal: 'SIGTERM' },
  'daemon.spawner': { state: 'down', reason: 'the script spawner exited (SIGKILL)' },
};

function publishAll(): AnyEvent[] {
  const bus = new EventBus(new FakeClock());
  const out: AnyEvent[] = [];
  bus.subscribe((e) => out.push(e));
  for (const name of Object.keys(samples) as EventName[])
    bus.publish(name, 'subject', { kind: 'check', detail: 'why' }, samples[name]);
  return out;
}

describe('docs/events.schema.json', () => {
  it('names exactly the events lvsd has', () => {
    const $defs = (
      schema as unknown as { $defs: { event: { properties: { name: { enum: string[] } } } } }
    ).$defs;
    expect([...$defs.event.properties.name.enum].sort()).toEqual(Object.keys(samples).sort());
  });

  it('docs/cli.md lists every event, and only those', () => {
    const cli = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');
    const table = cli.slice(cli.indexOf('| family | events |'));
    const rows = table.slice(0, table.indexOf('\n\n'));
    const listed = [...rows.matchAll(/`([a-z]+\.[a-z_]+)`/g)].map((m) => m[1]);
    expect([...new Set(listed)].sort()).toEqual(Object.keys(samples).sort());
  });

  it('every emitted event validates, strictly', () => {
    for (const e of publishAll()) expect(checker.check(e, '#/$defs/event'), e.name).toEqual([]);
  });

  it('a grouped delivery validates, and a wrong payload does not', () => {
    const batch = new AlertBatcher();
    for (const e of publishAll()) batch.add(e, 0);
    batch.notice({ subject: 'x', state: 'flapping', changes: 5, windowMs: 60_000 }, 0);
    batch.notice({ subject: 'y', state: 'stable', suppressed: 3, lastState: 'up' }, 0);
    const content = batch.take(0, true);
    if (!content) throw new Error('no content');
    const d = delivery(content, {
      id: 'id-1',
      endpoint: 'ops',
      source: 'lb1',
      time: '2026-01-01T00:00:00.000Z',
    });
    expect(checker.check(JSON.parse(JSON.stringify(d)))).toEqual([]);

    const bad = JSON.parse(JSON.stringify(d)) as { events: { data: Record<string, unknown> }[] };
    const first = bad.events[0];
    if (first) {
      delete first.data['rs'];
      first.data['extra'] = 1;
    }
    expect(checker.check(bad)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('missing rs'),
        expect.stringContaining('unknown property extra'),
      ]),
    );
  });
});
