/**
 * The daemon's side of the control API: status from health, IPVS and admin state; recent
 * events from a ring fed by the event stream (GET /v1/events, the status page).
 */
import type { AdminService } from '../admin/service.js';
import { adminPortFor } from '../control/admin-port.js';
import {
  adminView,
  type ControlPort,
  type SpawnerStatus,
  type StatusSnapshot,
  type VrrpStatus,
} from '../control/types.js';
import type { EventBus } from '../lib/events.js';
import type { TimerPort } from '../health/timer-port.js';
import type { Clock } from '../lib/clock.js';
import { sharedRead } from '../lib/shared-read.js';
import { within } from '../lib/within.js';
import { EventRing } from '../observe/event-ring.js';
import type { Daemon } from './daemon.js';
import { rsKey } from './health-book.js';

export interface StatusFacts {
  readonly id: string;
  readonly version: string;
  readonly configFile: string;
  readonly driver: string;
  readonly startedAt: number;
  /** Paces the kernel reads that status and drain --wait share, and dates them. */
  readonly clock: Clock;
  /** Bounds how long status waits for a kernel read. */
  readonly timers: TimerPort;
  /**
   * The ring of recent events (GET /v1/events, the status page); without it the port has no
   * `events` (UNAVAILABLE). The daemon creates it before anything publishes (eventRingOn).
   */
  readonly ring?: EventRing;
  /** The script spawner's state (`lvsd run` has one). */
  readonly spawner?: () => SpawnerStatus;
}

/**
 * A ring subscribed to `bus` for the life of the bus (the daemon's process): 10,000 events /
 * 8 MiB at most. Made first at start, so the events of opening the admin state (expired drains,
 * a damaged file) are in `lvsd events --since 0` too.
 */
export function eventRingOn(bus: EventBus): EventRing {
  const ring = new EventRing();
  bus.subscribe((e) => {
    ring.push(e);
  });
  return ring;
}

/** How long status waits for a fresh kernel read before it answers from the last one. */
export const STATUS_KERNEL_WAIT_MS = 1000;

export function controlPortFor(
  daemon: Daemon,
  admin: AdminService,
  facts: StatusFacts,
): ControlPort {
  const ring = facts.ring;
  // drain --wait polls every second, status pages and scripts as often as they like: they share
  // one kernel read (at most one per 500 ms, never two at once).
  const observed = sharedRead(() => daemon.ipvs().refresh(), 500, facts.clock);
  const lastRead = () => daemon.ipvs().lastRead();
  // Status answers within about a second whatever the kernel does: a read still running then
  // (ipvsadm slow on a loaded box, or stuck) leaves it to the last table read, dated, so the
  // operator sees how old the weights are instead of a status that hangs.
  const forStatus = () =>
    within(
      observed().then(lastRead, () => undefined),
      STATUS_KERNEL_WAIT_MS,
      facts.timers,
      lastRead,
    );
  return {
    ...adminPortFor(admin),
    config: () => daemon.current,
    async connections(vs, rs) {
      const t = await observed().catch(() => undefined);
      const key = daemon.serviceKeys(vs)[0];
      const d = key === undefined ? undefined : t?.observations.get(key)?.destinations.get(rs);
      return d ? { active: d.activeConns, inactive: d.inactiveConns } : undefined;
    },
    async status(): Promise<StatusSnapshot> {
      const read = await forStatus();
      const t = read?.table;
      const records = new Map(
        [...daemon.health().records()].map((r) => [rsKey(r.vs.name, r.rs.name), r]),
      );
      return {
        director: {
          id: facts.id,
          version: facts.version,
          pid: process.pid,
          configFile: facts.configFile,
          driver: facts.driver,
          startedAt: facts.startedAt,
        },
        at: Date.now(),
        virtualServers: daemon.current.virtualServers.map((vs) => {
          const key = daemon.serviceKeys(vs.name)[0];
          return {
            name: vs.name,
            scheduler: vs.scheduler,
            forwarding: vs.forwarding,
            quorumUp: daemon.health().quorumUp(vs),
            realServers: vs.realServers.map((rs) => {
              const rec = records.get(rsKey(vs.name, rs.name));
              const dest =
                key === undefined
                  ? undefined
                  : t?.table.services.get(key)?.destinations.get(rs.name);
              const obs =
                key === undefined ? undefined : t?.observations.get(key)?.destinations.get(rs.name);
              return {
                name: rs.name,
                configuredWeight: rs.weight,
                currentWeight: dest ? dest.weight : null,
                health: {
                  state: rec?.state.up === false ? ('down' as const) : ('up' as const),
                  since: rec?.sinceWall ?? facts.startedAt,
                  ...(rec?.last
                    ? {
                        last: {
                          checker: rec.last.checker,
                          ok: rec.last.ok,
                          code: rec.last.code,
                          reason: rec.last.reason,
                          latencyMs: rec.last.latencyMs,
                          at: rec.last.atWall,
                        },
                      }
                    : {}),
                },
                admin: adminView(admin.drainOf(vs.name, rs.name)),
                connections: obs ? { active: obs.activeConns, inactive: obs.inactiveConns } : null,
              };
            }),
          };
        }),
        ...(read ? { ipvsReadAt: read.at } : {}),
        vrrp: vrrpView(daemon),
        vrrpUnrouted: daemon.vrrpUnrouted(),
        ...(facts.spawner ? { spawner: facts.spawner() } : {}),
      };
    },
    reload: () => daemon.reload(),
    ...(ring ? { events: ring } : {}),
  };
}

/** Running instances as they are; configured ones that do not run here (no VRRP) as n/a. */
function vrrpView(daemon: Daemon): VrrpStatus[] {
  const running = new Map(daemon.vrrpStatus().map((v) => [v.name, v]));
  return daemon.current.vrrpInstances.map((v): VrrpStatus => {
    const r = running.get(v.name);
    if (!r) return { name: v.name, state: null, priority: v.priority, master: null };
    return {
      name: r.name,
      state: r.state,
      priority: r.priority,
      master: r.master,
      configuredPriority: r.configuredPriority,
      since: r.since,
      advertIntMs: r.advertIntMs,
      adverts: r.adverts,
      dropped: r.dropped,
      tracking: r.tracking,
    };
  });
}
