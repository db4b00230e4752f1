/**
 * The event stream (ruling 7): every change the daemon makes or sees is one typed, versioned
 * record with a stable name, a sequence number, monotonic and wall-clock time, a subject (the
 * names of ruling 9) and a cause. Logs are its first consumer; hooks, metrics and `lvsd events`
 * subscribe to it too and never reach into the subsystems.
 */
import type { Clock } from './clock.js';

export const EVENT_SCHEMA_VERSION = 1;

export type CauseKind =
  | 'check'
  | 'operator'
  | 'config'
  | 'startup'
  | 'kernel'
  | 'drift'
  | 'signal'
  | 'quorum'
  | 'vrrp'
  | 'network'
  | 'hook'
  | 'webhook';

export interface Cause {
  readonly kind: CauseKind;
  /** Human detail: the check's reason, the operator's reason, the signal. */
  readonly detail?: string;
}

/** Payload per event name. Adding a field is compatible; renaming or removing one bumps the version. */
export interface EventPayloads {
  'rs.up': {
    vs: string;
    rs: string;
    weight: number;
    checker: string;
    code: string;
    reason: string;
    latencyMs?: number;
  };
  'rs.down': {
    vs: string;
    rs: string;
    checker: string;
    code: string;
    reason: string;
    latencyMs?: number;
    removed: boolean;
  };
  'rs.weight': { vs: string; rs: string; weight: number; previous: number; reason: string };
  'rs.checker': { vs: string; rs: string; checker: string; health: 'up' | 'down'; reason: string };
  'vs.quorum_up': { vs: string; liveWeight: number; quorum: number };
  'vs.quorum_down': { vs: string; liveWeight: number; quorum: number; sorryServer?: string };
  'ipvs.adopted': { services: number; destinations: number };
  'ipvs.applied': { ops: number; lines: readonly string[]; durationMs: number };
  'ipvs.failed': {
    ops: number;
    failed: readonly { line: string; error: string }[];
    unattributed: readonly string[];
  };
  'ipvs.drift': { ops: number; lines: readonly string[] };
  'ipvs.guarded': { ops: number; violations: readonly string[] };
  'ipvs.error': { code: string; message: string; hint?: string };
  'config.loaded': { file: string; virtualServers: number; realServers: number; warnings: number };
  'config.reloaded': {
    file: string;
    added: readonly string[];
    removed: readonly string[];
    changed: readonly string[];
  };
  'config.rejected': { file: string; problems: readonly string[] };
  'vrrp.transition': {
    instance: string;
    from: string;
    to: string;
    cause: string;
    peer?: string;
    priority: number;
  };
  'vrrp.priority': { instance: string; from: number; to: number; reason: string };
  'vrrp.address': { instance: string; address: string; dev: string; action: 'added' | 'removed' };
  'vrrp.dropped': { instance?: string; reason: string; from: string; count: number };
  'vrrp.warning': { instance: string; message: string };
  /** A tracked script or interface changed (after rise/fall); subject: the script or interface. */
  'vrrp.tracked': { kind: 'script' | 'interface'; name: string; ok: boolean; detail: string };
  /** The IPVS connection-sync daemon was switched with an instance's state. */
  'vrrp.sync_daemon': {
    instance: string;
    role: 'master' | 'backup' | 'none';
    ok: boolean;
    detail: string;
  };
  'admin.drained': { vs: string; rs: string; by: string; via: string; reason?: string };
  'admin.undrained': { vs: string; rs: string; by: string; via: string };
  'admin.expired': { vs: string; rs: string };
  'admin.state_corrupt': { file: string; reason: string; keptAs: string };
  'admin.error': { what: string; message: string };
  /** Admin state sent to / merged from the other director (failures are reported once). */
  'admin.replication': {
    peer: string;
    direction: 'sent' | 'received';
    ok: boolean;
    changed: boolean;
    detail: string;
  };
  /**
   * A vrrp_sync_group's own state changed (keepalived's rule: the group takes a state when its
   * first member enters it, and STOP when all have stopped); subject: the group.
   */
  'vrrp.sync_group': {
    group: string;
    from: 'master' | 'backup' | 'fault' | 'stopped' | null;
    to: 'master' | 'backup' | 'fault' | 'stopped';
    /** The member whose transition moved the group, and that transition's cause. */
    instance: string;
    cause: string;
  };
  /**
   * A notify script or notify FIFO reader script failed, timed out, was dropped from its queue
   * or refused (script security, queue bounds). Bounded: argv[0] only, the reason capped.
   */
  'hook.failed': {
    hook: string;
    subject: string;
    argv0: string;
    code: string;
    reason: string;
    durationMs: number;
  };
  /** A webhook alert given up after its last attempt. Never itself sent by webhooks. */
  'webhook.failed': { endpoint: string; delivery: string; attempts: number; reason: string };
  /** Alerts dropped because an endpoint's queue was full. Never itself sent by webhooks. */
  'webhook.dropped': { endpoint: string; count: number; total: number };
  'daemon.started': { version: string; pid: number; driver: string };
  'daemon.stopping': { signal: string };
  /**
   * The script spawner (src/spawner) stopped being usable (`down`: scripts and tools start from
   * the daemon itself meanwhile) or runs again (`up`). Not published for its first start.
   */
  'daemon.spawner': { state: 'up' | 'down'; reason: string; pid?: number };
}

export type EventName = keyof EventPayloads;

/** Longest free text (a reason) an event built from outside input carries. */
export const EVENT_REASON_CHARS = 200;

/** `text` cut to EVENT_REASON_CHARS, marked with … when cut. */
export function boundedReason(text: string): string {
  return text.length > EVENT_REASON_CHARS ? `${text.slice(0, EVENT_REASON_CHARS - 1)}…` : text;
}

export interface LvsdEvent<N extends EventName = EventName> {
  readonly v: typeof EVENT_SCHEMA_VERSION;
  readonly name: N;
  readonly seq: number;
  /** Monotonic milliseconds since the daemon started. */
  readonly mono: number;
  /** Wall-clock time, ISO 8601. */
  readonly time: string;
  /** What it is about: `tcp:198.18.0.10:80/198.18.1.11:80`, `tcp:198.18.0.10:80`, `ipvs`, `config`. */
  readonly subject: string;
  readonly cause: Cause;
  readonly data: EventPayloads[N];
}

/** The union of every event, discriminated by `name` (switch on it to get the payload type). */
export type AnyEvent = { [N in EventName]: LvsdEvent<N> }[EventName];

export type Listener = (event: AnyEvent) => void;

export class EventBus {
  private seq = 0;
  private readonly listeners = new Set<Listener>();
  private readonly origin: number;

  constructor(
    private readonly clock: Clock,
    private readonly onListenerError: (err: unknown, event: AnyEvent) => void = () => undefined,
  ) {
    this.origin = clock.monotonicMs();
  }

  publish<N extends EventName>(
    name: N,
    subject: string,
    cause: Cause,
    data: EventPayloads[N],
  ): LvsdEvent<N> {
    const event: LvsdEvent<N> = {
      v: EVENT_SCHEMA_VERSION,
      name,
      seq: ++this.seq,
      mono: Math.round((this.clock.monotonicMs() - this.origin) * 1000) / 1000,
      time: new Date(this.clock.wallMs()).toISOString(),
      subject,
      cause,
      data,
    };
    // A failing consumer must never stop the others, nor the subsystem that published.
    const any = event as AnyEvent; // LvsdEvent<N> is one member of the union
    for (const l of this.listeners) {
      try {
        l(any);
      } catch (err) {
        this.onListenerError(err, any);
      }
    }
    return event;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
