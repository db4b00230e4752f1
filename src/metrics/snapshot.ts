/**
 * The snapshot port: current state the event stream alone cannot give a fresh scrape (weights
 * in the table, advert counters). The daemon implements it; its shapes are a structural
 * subset of the control API's status types (src/control/types.ts), so the daemon's status
 * functions can serve it as they are. Read at scrape time only.
 *
 * The status page reads two more, both optional (the page says "not available" without them):
 * the full status snapshot (GET /v1/status's body) and the newest events from the ring.
 */
import type { StatusSnapshot } from '../control/types.js';
import type { AnyEvent } from '../lib/events.js';

export interface RealServerView {
  readonly name: string;
  readonly configuredWeight: number;
  /** The weight in the IPVS table now; null: not in the table. */
  readonly currentWeight: number | null;
  readonly health: { readonly state: 'up' | 'down' };
  /** `active`, `drain`, … (a small fixed set). */
  readonly admin: { readonly state: string };
  readonly connections: { readonly active: number; readonly inactive: number } | null;
}

export interface VirtualServerView {
  readonly name: string;
  readonly quorumUp: boolean;
  readonly realServers: readonly RealServerView[];
}

export interface VrrpView {
  readonly name: string;
  /** MASTER, BACKUP, FAULT, INIT, STOPPED; null when the instance does not run here. */
  readonly state: string | null;
  readonly priority: number | null;
  readonly adverts?: {
    readonly sent: number;
    readonly sendErrors: number;
    readonly received: number;
  };
  /** Cumulative drops by reason code. */
  readonly dropped?: Readonly<Record<string, number>>;
}

export interface ObserverSnapshot {
  virtualServers(): readonly VirtualServerView[] | Promise<readonly VirtualServerView[]>;
  vrrpInstances(): readonly VrrpView[] | Promise<readonly VrrpView[]>;
  /** The status page: everything `lvsd status` shows. */
  status?(): StatusSnapshot | Promise<StatusSnapshot>;
  /** The status page: the newest `n` events, oldest first. */
  recentEvents?(n: number): readonly AnyEvent[];
}

export const emptySnapshot: ObserverSnapshot = {
  virtualServers: () => [],
  vrrpInstances: () => [],
};
