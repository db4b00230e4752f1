/**
 * Admin state, pure: what operators said about real servers (drains) and when (maintenance
 * windows), kept apart from configuration and health. Every change is a versioned entry so
 * two directors can exchange their states and converge (see `merge`).
 *
 * Versions are Lamport-style: a director stamps a change with `counter = state.counter + 1`
 * and its own id; merging takes the larger counter of both sides, so a change made after
 * seeing another always wins over it. Undrain and cancel leave tombstones (an entry with
 * `null` content) so that they travel like any other change.
 *
 * Time is an argument (`now`, wall-clock ms: records are shown to people and windows follow
 * the calendar); nothing here reads a clock.
 */

export type Via = 'admin-socket' | 'peer' | 'config' | 'schedule';

export interface Version {
  /** Lamport counter. */
  readonly counter: number;
  /** The director that made the change (ties on the counter are broken by this id). */
  readonly director: string;
}

export interface DrainOverride {
  readonly kind: 'drain';
  /** Who asked: the user name the client declared (informational, ruling 10), or the window's author. */
  readonly by: string;
  readonly via: Via;
  /** Wall-clock ms when the drain was made. */
  readonly at: number;
  readonly reason?: string;
  /** Wall-clock ms when the drain ends by itself (maintenance windows). */
  readonly until?: number;
  /** The maintenance window that made this drain (via 'schedule'). */
  readonly window?: string;
}

export interface MaintWindow {
  readonly id: string;
  readonly vs: string;
  readonly rs: string;
  /** A node-cron expression (5 or 6 fields), read in `timezone`. */
  readonly cron: string;
  readonly durationMs: number;
  /** An IANA zone, always explicit (`UTC` if the operator gave none). */
  readonly timezone: string;
  readonly reason: string;
  readonly by: string;
  /** Wall-clock ms when the window was declared. */
  readonly at: number;
}

export interface OverrideEntry {
  readonly vs: string;
  readonly rs: string;
  readonly version: Version;
  /** null: undrained (a tombstone). */
  readonly override: DrainOverride | null;
  /** Set when the tombstone came from `expire` (the drain's `until` passed). */
  readonly expired?: true;
}

export interface WindowEntry {
  readonly id: string;
  readonly version: Version;
  /** null: cancelled (a tombstone). */
  readonly window: MaintWindow | null;
}

export interface AdminState {
  /** The highest Lamport counter this state has seen. */
  readonly counter: number;
  /** Keyed by `serverKey(vs, rs)`. */
  readonly overrides: ReadonlyMap<string, OverrideEntry>;
  readonly windows: ReadonlyMap<string, WindowEntry>;
}

export const emptyState: AdminState = { counter: 0, overrides: new Map(), windows: new Map() };

export function serverKey(vs: string, rs: string): string {
  return `${vs}/${rs}`;
}

interface Origin {
  /** The director applying the command (the id stamped on the change). */
  readonly director: string;
}

export type AdminCommand =
  | (Origin & {
      readonly type: 'drain';
      readonly vs: string;
      readonly rs: string;
      readonly by: string;
      readonly via: Via;
      readonly reason?: string;
      readonly until?: number;
    })
  | (Origin & {
      readonly type: 'undrain';
      readonly vs: string;
      readonly rs: string;
      readonly by: string;
      readonly via: Via;
    })
  | (Origin & {
      readonly type: 'maint-add';
      /** A window declared in the configuration brings its own id (its content's hash). */
      readonly id?: string;
      readonly vs: string;
      readonly rs: string;
      readonly cron: string;
      readonly durationMs: number;
      readonly timezone: string;
      readonly reason: string;
      readonly by: string;
    })
  | (Origin & { readonly type: 'maint-cancel'; readonly id: string; readonly by: string })
  /** A window's cron time came: drain for its duration (the scheduler sends this). */
  | (Origin & { readonly type: 'window-start'; readonly id: string });

export type AdminResult =
  | {
      readonly ok: true;
      /** false: the state already said so; nothing was written. */
      readonly changed: boolean;
      /** The server's override after the command (drain/undrain/window-start/maint-cancel). */
      readonly override?: DrainOverride | null;
      /** The override the command replaced or removed. */
      readonly previous?: DrainOverride | null;
      readonly window?: MaintWindow;
      /** Why a window did not drain: the server was already drained by someone else. */
      readonly skipped?: string;
    }
  | { readonly ok: false; readonly code: 'NOT_FOUND' | 'BAD_REQUEST'; readonly message: string };

export interface Transition {
  readonly state: AdminState;
  readonly result: AdminResult;
}

/** The live drain of a server, if any (an override whose `until` passed is not live). */
export function drainOf(
  state: AdminState,
  vs: string,
  rs: string,
  now?: number,
): DrainOverride | undefined {
  const o = state.overrides.get(serverKey(vs, rs))?.override;
  if (!o) return undefined;
  if (now !== undefined && o.until !== undefined && o.until <= now) return undefined;
  return o;
}

/** The live maintenance windows, oldest first. */
export function liveWindows(state: AdminState): MaintWindow[] {
  const out: MaintWindow[] = [];
  for (const e of state.windows.values()) if (e.window) out.push(e.window);
  return out.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
}

/** The live drains, sorted by server key. */
export function liveDrains(state: AdminState): (DrainOverride & { vs: string; rs: string })[] {
  const out: (DrainOverride & { vs: string; rs: string })[] = [];
  for (const e of state.overrides.values())
    if (e.override) out.push({ ...e.override, vs: e.vs, rs: e.rs });
  return out.sort((a, b) => cmpStr(serverKey(a.vs, a.rs), serverKey(b.vs, b.rs)));
}

export function apply(state: AdminState, command: AdminCommand, now: number): Transition {
  const version: Version = { counter: state.counter + 1, director: command.director };
  switch (command.type) {
    case 'drain': {
      const previous = drainOf(state, command.vs, command.rs) ?? null;
      const override: DrainOverride = {
        kind: 'drain',
        by: command.by,
        via: command.via,
        at: now,
        ...(command.reason === undefined ? {} : { reason: command.reason }),
        ...(command.until === undefined ? {} : { until: command.until }),
      };
      if (previous && sameDrain(previous, override))
        return unchanged(state, { override: previous, previous });
      return {
        state: putOverride(state, command.vs, command.rs, version, override),
        result: { ok: true, changed: true, override, previous },
      };
    }
    case 'undrain': {
      const previous = drainOf(state, command.vs, command.rs) ?? null;
      if (!previous) return unchanged(state, { override: null, previous: null });
      return {
        state: putOverride(state, command.vs, command.rs, version, null),
        result: { ok: true, changed: true, override: null, previous },
      };
    }
    case 'maint-add': {
      if (!(command.durationMs > 0) || !Number.isFinite(command.durationMs))
        return refuse(state, 'BAD_REQUEST', 'a maintenance window needs a positive duration');
      if (command.id !== undefined && state.windows.get(command.id)?.window)
        return { state, result: { ok: true, changed: false } };
      // Unique without randomness: no two changes share (counter, director).
      const id = command.id ?? `${command.director}-${version.counter}`;
      const window: MaintWindow = {
        id,
        vs: command.vs,
        rs: command.rs,
        cron: command.cron,
        durationMs: command.durationMs,
        timezone: command.timezone,
        reason: command.reason,
        by: command.by,
        at: now,
      };
      const windows = new Map(state.windows);
      windows.set(id, { id, version, window });
      return {
        state: { ...state, counter: version.counter, windows },
        result: { ok: true, changed: true, window },
      };
    }
    case 'maint-cancel': {
      const entry = state.windows.get(command.id);
      if (!entry?.window)
        return refuse(
          state,
          'NOT_FOUND',
          `no maintenance window ${command.id} (see lvsd maint --list)`,
        );
      const window = entry.window;
      const windows = new Map(state.windows);
      windows.set(command.id, { id: command.id, version, window: null });
      let next: AdminState = { ...state, counter: version.counter, windows };
      // A window in force ends with it, unless someone else has drained the server since.
      const previous = drainOf(state, window.vs, window.rs) ?? null;
      const own = previous?.via === 'schedule' && previous.window === window.id;
      if (own) next = putOverride(next, window.vs, window.rs, version, null);
      return {
        state: next,
        result: {
          ok: true,
          changed: true,
          window,
          override: own ? null : previous,
          previous,
        },
      };
    }
    case 'window-start': {
      const window = state.windows.get(command.id)?.window;
      if (!window) return refuse(state, 'NOT_FOUND', `no maintenance window ${command.id}`);
      const previous = drainOf(state, window.vs, window.rs, now) ?? null;
      const until = now + window.durationMs;
      if (previous && !(previous.via === 'schedule' && previous.window === window.id)) {
        return unchanged(state, {
          override: previous,
          previous,
          window,
          skipped: `already drained by ${previous.by} (${previous.via})`,
        });
      }
      const override: DrainOverride = {
        kind: 'drain',
        by: window.by,
        via: 'schedule',
        at: previous?.at ?? now,
        reason: window.reason === '' ? `maintenance window ${window.id}` : window.reason,
        until: Math.max(until, previous?.until ?? 0),
        window: window.id,
      };
      return {
        state: putOverride(state, window.vs, window.rs, version, override),
        result: { ok: true, changed: true, override, previous, window },
      };
    }
  }
}

/**
 * Ends every drain whose `until` is at or before `now`. The tombstone keeps the drain's
 * version (it is the same change, run to its end), so a peer that has not expired it yet
 * merges to the same result; at equal versions a tombstone wins.
 */
export function expire(
  state: AdminState,
  now: number,
): { state: AdminState; expired: OverrideEntry[] } {
  const expired: OverrideEntry[] = [];
  let overrides: Map<string, OverrideEntry> | undefined;
  for (const [key, e] of state.overrides) {
    if (!e.override || e.override.until === undefined || e.override.until > now) continue;
    expired.push(e);
    overrides ??= new Map(state.overrides);
    overrides.set(key, { vs: e.vs, rs: e.rs, version: e.version, override: null, expired: true });
  }
  return { state: overrides ? { ...state, overrides } : state, expired };
}

/** The earliest `until` among live drains (when `expire` next has work), if any. */
export function nextExpiry(state: AdminState): number | undefined {
  let next: number | undefined;
  for (const e of state.overrides.values()) {
    const u = e.override?.until;
    if (u !== undefined && (next === undefined || u < next)) next = u;
  }
  return next;
}

/**
 * Merges two states. Per server and per window the larger entry wins, compared by
 * (1) Lamport counter, (2) director id (string order), (3) a tombstone over a live entry,
 * (4) the canonical JSON text of the entry. This is a total order, so merge is a join:
 * commutative, associative and idempotent, and both directors reach the same state
 * whatever order they exchange changes in. The counter is the larger of both.
 */
export function merge(local: AdminState, remote: AdminState): AdminState {
  return {
    counter: Math.max(local.counter, remote.counter, maxCounter(remote), maxCounter(local)),
    overrides: mergeMaps(local.overrides, remote.overrides, (e) => e.override === null),
    windows: mergeMaps(local.windows, remote.windows, (e) => e.window === null),
  };
}

function mergeMaps<E extends { readonly version: Version }>(
  a: ReadonlyMap<string, E>,
  b: ReadonlyMap<string, E>,
  isTombstone: (e: E) => boolean,
): Map<string, E> {
  const out = new Map(a);
  for (const [k, e] of b) {
    const mine = out.get(k);
    if (!mine || compareEntries(e, mine, isTombstone) > 0) out.set(k, e);
  }
  return out;
}

function compareEntries<E extends { readonly version: Version }>(
  a: E,
  b: E,
  isTombstone: (e: E) => boolean,
): number {
  return (
    a.version.counter - b.version.counter ||
    cmpStr(a.version.director, b.version.director) ||
    Number(isTombstone(a)) - Number(isTombstone(b)) ||
    cmpStr(canonicalJson(a), canonicalJson(b))
  );
}

function maxCounter(s: AdminState): number {
  let m = 0;
  for (const e of s.overrides.values()) m = Math.max(m, e.version.counter);
  for (const e of s.windows.values()) m = Math.max(m, e.version.counter);
  return m;
}

/** JSON with object keys sorted: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .filter((k) => o[k] !== undefined)
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameDrain(a: DrainOverride, b: DrainOverride): boolean {
  return (
    a.by === b.by &&
    a.via === b.via &&
    a.reason === b.reason &&
    a.until === b.until &&
    a.window === b.window
  );
}

function putOverride(
  state: AdminState,
  vs: string,
  rs: string,
  version: Version,
  override: DrainOverride | null,
): AdminState {
  const overrides = new Map(state.overrides);
  overrides.set(serverKey(vs, rs), { vs, rs, version, override });
  return { ...state, counter: Math.max(state.counter, version.counter), overrides };
}

function unchanged(
  state: AdminState,
  rest: Omit<Extract<AdminResult, { ok: true }>, 'ok' | 'changed'>,
): Transition {
  return { state, result: { ok: true, changed: false, ...rest } };
}

/** A refused command changes nothing. */
function refuse(state: AdminState, code: 'NOT_FOUND' | 'BAD_REQUEST', message: string): Transition {
  return { state, result: { ok: false, code, message } };
}
