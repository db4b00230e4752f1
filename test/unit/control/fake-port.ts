/** A ControlPort for tests: the real admin service over an in-memory store, fixed status data. */
import { AdminService, type AdminStateStore } from '../../../src/admin/service.js';
import { emptyState, type AdminState } from '../../../src/admin/state.js';
import type { LoadOutcome } from '../../../src/admin/store.js';
import { adminPortFor } from '../../../src/control/admin-port.js';
import {
  adminView,
  type Connections,
  type ControlPort,
  type ReloadOutcome,
  type StatusSnapshot,
} from '../../../src/control/types.js';
import type { Config } from '../../../src/config/types.js';
import type { Clock } from '../../../src/lib/clock.js';
import { fixtureConfig } from '../admin/fixtures.js';

export class MemoryStore implements AdminStateStore {
  saved: AdminState[] = [];
  load(): Promise<LoadOutcome> {
    return Promise.resolve({ kind: 'missing', state: emptyState, file: 'mem' });
  }
  save(state: AdminState): Promise<void> {
    this.saved.push(state);
    return Promise.resolve();
  }
}

export interface FakePort extends ControlPort {
  readonly admin: AdminService;
  /** Connection counts by `vs/rs`; tests change them. */
  readonly conns: Map<string, Connections>;
  reloadResult: ReloadOutcome;
  reloads: number;
}

export async function fakePort(
  clock: Clock = { wallMs: () => Date.now(), monotonicMs: () => performance.now() },
): Promise<FakePort> {
  const config: Config = fixtureConfig();
  const { service } = await AdminService.open({ store: new MemoryStore(), clock, director: 'd1' });
  const conns = new Map<string, Connections>();
  const port: FakePort = {
    admin: service,
    conns,
    reloadResult: { ok: true, added: [], removed: [], changed: [] },
    reloads: 0,
    config: () => config,
    status(): StatusSnapshot {
      const at = clock.wallMs();
      return {
        director: {
          id: 'd1',
          version: '0.1.0-test',
          pid: 4242,
          configFile: '/etc/keepalived/keepalived.conf',
          driver: 'memory',
          startedAt: at - 3_600_000,
        },
        at,
        virtualServers: config.virtualServers.map((vs) => ({
          name: vs.name,
          scheduler: vs.scheduler,
          forwarding: vs.forwarding,
          quorumUp: true,
          realServers: vs.realServers.map((rs) => {
            const drained = service.drained(vs.name, rs.name);
            return {
              name: rs.name,
              configuredWeight: rs.weight,
              currentWeight: drained ? 0 : rs.weight,
              health: {
                state: 'up' as const,
                since: at - 120_000,
                last: {
                  checker: 'tcp',
                  ok: true,
                  code: 'ok',
                  reason: 'connected',
                  latencyMs: 1.4,
                  at: at - 1000,
                },
              },
              admin: adminView(service.drainOf(vs.name, rs.name)),
              connections: conns.get(`${vs.name}/${rs.name}`) ?? { active: 0, inactive: 0 },
            };
          }),
        })),
        vrrp: [{ name: 'VI_1', state: null, priority: null, master: null }],
      };
    },
    connections: (vs, rs) =>
      Promise.resolve(conns.get(`${vs}/${rs}`) ?? { active: 0, inactive: 0 }),
    reload() {
      port.reloads++;
      return port.reloadResult;
    },
    ...adminPortFor(service),
  };
  return port;
}
