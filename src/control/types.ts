/**
 * The control API's shapes: what the daemon provides (ControlPort) and what goes over the
 * wire (the `/v1` bodies). The CLI and the client read the same types.
 */
import type { AdminResult, DrainOverride, MaintWindow } from '../admin/state.js';
import type { Config } from '../config/types.js';
import type { AnyEvent } from '../lib/events.js';

export type SocketKind = 'admin' | 'ro';

/** A drain as the API shows it; `active` = no admin override. */
export type AdminView =
  { readonly state: 'active' } | ({ readonly state: 'drain' } & Omit<DrainOverride, 'kind'>);

export interface Connections {
  /** IPVS ActiveConn (TCP ESTABLISHED). */
  readonly active: number;
  /** IPVS InActConn. */
  readonly inactive: number;
}

export interface LastCheck {
  readonly checker: string;
  readonly ok: boolean;
  readonly code: string;
  readonly reason: string;
  readonly latencyMs: number;
  /** Wall-clock ms. */
  readonly at: number;
}

export interface RealServerStatus {
  readonly name: string;
  readonly configuredWeight: number;
  /** The weight in the IPVS table now; null: not in the table. */
  readonly currentWeight: number | null;
  readonly health: {
    readonly state: 'up' | 'down';
    /** Wall-clock ms of the last up/down change (or of the start). */
    readonly since: number;
    readonly last?: LastCheck;
  };
  readonly admin: AdminView;
  /** null: the driver cannot read counters. */
  readonly connections: Connections | null;
}

export interface VirtualServerStatus {
  readonly name: string;
  readonly scheduler: string;
  readonly forwarding: string;
  readonly quorumUp: boolean;
  readonly realServers: readonly RealServerStatus[];
}

/** null fields: not known (the instance does not run here): shown as "n/a". */
export interface VrrpStatus {
  readonly name: string;
  /** MASTER, BACKUP, FAULT, INIT, STOPPED. */
  readonly state: string | null;
  /** The effective priority, after tracked scripts and interfaces. */
  readonly priority: number | null;
  /** This director's address when MASTER, else the master last heard. */
  readonly master: string | null;
  readonly configuredPriority?: number;
  /** Wall-clock ms of the last transition. */
  readonly since?: number;
  readonly advertIntMs?: number;
  readonly adverts?: {
    readonly sent: number;
    readonly sendErrors: number;
    readonly received: number;
  };
  /** Adverts dropped, by reason (bad-mac, replay, wrong-vrid, …). */
  readonly dropped?: Readonly<Record<string, number>>;
  readonly tracking?: readonly {
    readonly kind: 'script' | 'interface';
    readonly name: string;
    readonly ok: boolean;
    readonly weight: number;
  }[];
}

export interface StatusSnapshot {
  readonly director: {
    readonly id: string;
    readonly version: string;
    readonly pid: number;
    readonly configFile: string;
    readonly driver: string;
    /** Wall-clock ms. */
    readonly startedAt: number;
  };
  /** Wall-clock ms when the snapshot was taken. */
  readonly at: number;
  readonly virtualServers: readonly VirtualServerStatus[];
  /**
   * Wall-clock ms when the kernel read that the weights and connections come from started.
   * Status waits at most a second for a fresh read; when ipvsadm is slower than that, this is
   * older than `at`. Absent when no read has succeeded yet (weights then show as unknown).
   */
  readonly ipvsReadAt?: number;
  readonly vrrp: readonly VrrpStatus[];
  /** Datagrams on the advert port that no instance took (malformed, a VRID not here), by reason. */
  readonly vrrpUnrouted?: Readonly<Record<string, number>>;
  /** The process that starts scripts and tools (src/spawner); absent when lvsd has none. */
  readonly spawner?: SpawnerStatus;
}

export interface SpawnerStatus {
  /** It runs and takes requests; false: scripts and tools start from the daemon meanwhile. */
  readonly up: boolean;
  readonly pid?: number;
  /** Counts since lvsd started: runs through the spawner, runs started by the daemon itself. */
  readonly scriptRuns: number;
  readonly directScriptRuns: number;
  readonly toolRuns: number;
  readonly directToolRuns: number;
  /** Runs in flight when the spawner died (their outcome is unknown; reported failed). */
  readonly lost: number;
  /** Spawner processes started (1 while it never died). */
  readonly starts: number;
}

export type ReloadOutcome =
  | {
      readonly ok: true;
      readonly added: readonly string[];
      readonly removed: readonly string[];
      readonly changed: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

export type MaintWindowView = MaintWindow & { readonly nextRun?: number };

export interface NewWindow {
  readonly vs: string;
  readonly rs: string;
  readonly cron: string;
  readonly durationMs: number;
  readonly timezone: string;
  readonly reason: string;
  readonly by: string;
}

/**
 * What the control API needs from the daemon. Server names given to it are already resolved
 * to configured names (ruling 9); admin changes are persisted before the promise resolves.
 */
export interface ControlPort {
  /** The running configuration: names are resolved against it. */
  config(): Config;
  status(): StatusSnapshot | Promise<StatusSnapshot>;
  /** The live drain of a server, if any. */
  adminOf(vs: string, rs: string): DrainOverride | undefined;
  /** IPVS counters of one real server; undefined: not in the table or not readable. */
  connections(vs: string, rs: string): Promise<Connections | undefined>;
  drain(
    vs: string,
    rs: string,
    opts: { readonly by: string; readonly reason?: string },
  ): Promise<AdminResult>;
  undrain(vs: string, rs: string, opts: { readonly by: string }): Promise<AdminResult>;
  maintList(): readonly MaintWindowView[];
  maintAdd(window: NewWindow): Promise<AdminResult>;
  maintCancel(id: string, opts: { readonly by: string }): Promise<AdminResult>;
  reload(): ReloadOutcome | Promise<ReloadOutcome>;
  /** The recent events (GET /v1/events); absent: this daemon keeps none (UNAVAILABLE). */
  readonly events?: EventFeed;
}

/**
 * The daemon's bounded memory of recent events, as the event stream reads it (the ring in
 * src/observe/event-ring.ts). Sequence numbers increase by one per event.
 */
export interface EventFeed {
  /** The oldest event still held; undefined when none is. */
  readonly oldestSeq: number | undefined;
  /** The newest event seen (0 before the first). */
  readonly newestSeq: number;
  /** Up to `max` held events with seq > `seq`, oldest first, each with its JSON line. */
  after(seq: number, max: number): readonly { readonly event: AnyEvent; readonly line: string }[];
  /** Told (synchronously, inside publish) the newest seq after each event; returns unsubscribe. */
  onPush(listener: (newest: number) => void): () => void;
  /** The newest `n` events, oldest first (the status page). */
  recent(n: number): readonly AnyEvent[];
}

/** GET /v1/events: what to send. */
export interface EventStreamSpec {
  /** Send events after this seq; undefined: everything held. */
  readonly since?: number;
  /** Keep the stream open and send new events as they happen. */
  readonly follow: boolean;
}

// ---- wire bodies (success) ----

export interface DrainResponse {
  readonly vs: string;
  readonly rs: string;
  /** false: it already was so; nothing was written. */
  readonly changed: boolean;
  readonly admin: AdminView;
  readonly previous: AdminView;
}

export interface ServerResponse {
  readonly vs: string;
  readonly rs: string;
  readonly admin: AdminView;
  readonly connections: Connections | null;
}

export interface MaintListResponse {
  readonly windows: readonly MaintWindowView[];
}

export interface MaintAddResponse {
  readonly window: MaintWindowView;
}

export interface MaintCancelResponse {
  readonly window: MaintWindow;
  /** The window was in force and its drain ended with it. */
  readonly undrained: boolean;
}

export interface ReloadResponse {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

export function adminView(o: DrainOverride | null | undefined): AdminView {
  if (!o) return { state: 'active' };
  return {
    state: 'drain',
    by: o.by,
    via: o.via,
    at: o.at,
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    ...(o.until === undefined ? {} : { until: o.until }),
    ...(o.window === undefined ? {} : { window: o.window }),
  };
}
