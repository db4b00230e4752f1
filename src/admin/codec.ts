/**
 * AdminState as plain JSON and back, pure: the store writes it, replication will send it.
 * Decoding checks every field, so a file that parses but is not an admin state is refused
 * with the first thing wrong rather than half-loaded.
 */
import type {
  AdminState,
  DrainOverride,
  MaintWindow,
  OverrideEntry,
  Version,
  Via,
  WindowEntry,
} from './state.js';
import { serverKey } from './state.js';

export interface EncodedState {
  readonly counter: number;
  readonly overrides: readonly OverrideEntry[];
  readonly windows: readonly WindowEntry[];
}

export function encodeState(state: AdminState): EncodedState {
  const byKey = <E>(m: ReadonlyMap<string, E>): E[] =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
  return {
    counter: state.counter,
    overrides: byKey(state.overrides),
    windows: byKey(state.windows),
  };
}

export type Decoded = { ok: true; state: AdminState } | { ok: false; reason: string };

const VIAS: readonly Via[] = ['admin-socket', 'peer', 'config', 'schedule'];

class Bad extends Error {}

export function decodeState(value: unknown): Decoded {
  try {
    const o = obj(value, 'state');
    const counter = nat(o['counter'], 'counter');
    const overrides = new Map<string, OverrideEntry>();
    for (const [i, raw] of arr(o['overrides'], 'overrides').entries()) {
      const e = overrideEntry(raw, `overrides[${i}]`);
      overrides.set(serverKey(e.vs, e.rs), e);
    }
    const windows = new Map<string, WindowEntry>();
    for (const [i, raw] of arr(o['windows'], 'windows').entries()) {
      const e = windowEntry(raw, `windows[${i}]`);
      windows.set(e.id, e);
    }
    return { ok: true, state: { counter, overrides, windows } };
  } catch (err) {
    if (err instanceof Bad) return { ok: false, reason: err.message };
    throw err;
  }
}

function overrideEntry(v: unknown, at: string): OverrideEntry {
  const o = obj(v, at);
  const vs = str(o['vs'], `${at}.vs`);
  const rs = str(o['rs'], `${at}.rs`);
  const version = ver(o['version'], `${at}.version`);
  const override = o['override'] === null ? null : drain(o['override'], `${at}.override`);
  return {
    vs,
    rs,
    version,
    override,
    ...(o['expired'] === true ? { expired: true as const } : {}),
  };
}

function drain(v: unknown, at: string): DrainOverride {
  const o = obj(v, at);
  if (o['kind'] !== 'drain') throw new Bad(`${at}.kind: expected "drain"`);
  const via = o['via'];
  if (typeof via !== 'string' || !VIAS.includes(via as Via))
    throw new Bad(`${at}.via: expected one of ${VIAS.join(', ')}`);
  return {
    kind: 'drain',
    by: str(o['by'], `${at}.by`),
    via: via as Via,
    at: num(o['at'], `${at}.at`),
    ...opt(o, 'reason', at, str),
    ...opt(o, 'until', at, num),
    ...opt(o, 'window', at, str),
  };
}

function windowEntry(v: unknown, at: string): WindowEntry {
  const o = obj(v, at);
  const id = str(o['id'], `${at}.id`);
  const version = ver(o['version'], `${at}.version`);
  return { id, version, window: o['window'] === null ? null : maint(o['window'], `${at}.window`) };
}

function maint(v: unknown, at: string): MaintWindow {
  const o = obj(v, at);
  return {
    id: str(o['id'], `${at}.id`),
    vs: str(o['vs'], `${at}.vs`),
    rs: str(o['rs'], `${at}.rs`),
    cron: str(o['cron'], `${at}.cron`),
    durationMs: num(o['durationMs'], `${at}.durationMs`),
    timezone: str(o['timezone'], `${at}.timezone`),
    reason: str(o['reason'], `${at}.reason`),
    by: str(o['by'], `${at}.by`),
    at: num(o['at'], `${at}.at`),
  };
}

function ver(v: unknown, at: string): Version {
  const o = obj(v, at);
  return {
    counter: nat(o['counter'], `${at}.counter`),
    director: str(o['director'], `${at}.director`),
  };
}

function opt<T>(
  o: Record<string, unknown>,
  key: string,
  at: string,
  read: (v: unknown, at: string) => T,
): Record<string, T> {
  return o[key] === undefined ? {} : { [key]: read(o[key], `${at}.${key}`) };
}

function obj(v: unknown, at: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new Bad(`${at}: expected an object`);
  return v as Record<string, unknown>;
}

function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new Bad(`${at}: expected an array`);
  return v;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new Bad(`${at}: expected a string`);
  return v;
}

function num(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Bad(`${at}: expected a number`);
  return v;
}

function nat(v: unknown, at: string): number {
  const n = num(v, at);
  if (!Number.isSafeInteger(n) || n < 0) throw new Bad(`${at}: expected a counter (integer ≥ 0)`);
  return n;
}
