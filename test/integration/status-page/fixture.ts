/** A status snapshot with one server up, one down and one drained (with hostile text). */
import type { StatusSnapshot } from '../../../src/control/types.js';
import { EventBus, type AnyEvent } from '../../../src/lib/events.js';

export const HOSTILE = `<img src=x onerror="window.pwned=1">"'&`;

export function pageSnapshot(at = Date.now()): StatusSnapshot {
  return {
    director: {
      id: 'lvs1',
      version: '0.1.0-test',
      pid: 4242,
      configFile: '/etc/keepalived/keepalived.conf',
      driver: 'memory',
      startedAt: at - 3_600_000,
    },
    at,
    virtualServers: [
      {
        name: 'tcp:198.18.0.10:80',
        scheduler: 'wrr',
        forwarding: 'NAT',
        quorumUp: true,
        realServers: [
          {
            name: '198.18.1.11:80',
            configuredWeight: 5,
            currentWeight: 5,
            health: {
              state: 'up',
              since: at - 600_000,
              last: {
                checker: 'http',
                ok: true,
                code: 'ok',
                reason: 'status 200',
                latencyMs: 1.4,
                at: at - 900,
              },
            },
            admin: { state: 'active' },
            connections: { active: 12, inactive: 3 },
          },
          {
            name: '198.18.1.12:80',
            configuredWeight: 5,
            currentWeight: 0,
            health: {
              state: 'down',
              since: at - 42_000,
              last: {
                checker: 'http',
                ok: false,
                code: 'status',
                reason: 'status 503 (3/3 failures)',
                latencyMs: 27.6,
                at: at - 400,
              },
            },
            admin: { state: 'active' },
            connections: { active: 0, inactive: 0 },
          },
          {
            name: '198.18.1.13:80',
            configuredWeight: 3,
            currentWeight: 0,
            health: { state: 'up', since: at - 900_000 },
            admin: {
              state: 'drain',
              by: 'alice',
              via: 'admin-socket',
              at: at - 300_000,
              reason: `kernel upgrade ${HOSTILE}`,
            },
            connections: { active: 2, inactive: 1 },
          },
        ],
      },
    ],
    vrrp: [
      {
        name: 'VI_1',
        state: 'MASTER',
        priority: 150,
        master: '198.18.0.2',
        configuredPriority: 150,
        since: at - 1_800_000,
      },
    ],
  };
}

export function pageEvents(): AnyEvent[] {
  const bus = new EventBus({ wallMs: () => Date.now(), monotonicMs: () => performance.now() });
  const out: AnyEvent[] = [];
  bus.subscribe((e) => out.push(e));
  bus.publish(
    'rs.down',
    'tcp:198.18.0.10:80/198.18.1.12:80',
    { kind: 'check', detail: 'status 503' },
    {
      vs: 'tcp:198.18.0.10:80',
      rs: '198.18.1.12:80',
      checker: 'http',
      code: 'status',
      reason: 'status 503 (3/3 failures)',
      removed: false,
    },
  );
  bus.publish(
    'admin.drained',
    'tcp:198.18.0.10:80/198.18.1.13:80',
    { kind: 'operator', detail: HOSTILE },
    {
      vs: 'tcp:198.18.0.10:80',
      rs: '198.18.1.13:80',
      by: 'alice',
      via: 'admin-socket',
      reason: `kernel upgrade ${HOSTILE}`,
    },
  );
  return out;
}
