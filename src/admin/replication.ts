/**
 * Admin-state replication between directors, the pure part: the message, its signature and
 * the checks a receiver makes. A director sends its whole admin state (drains and maintenance
 * windows, with their Lamport versions); the receiver merges it (state.ts `merge`), which is
 * idempotent and order-free, so a lost, repeated or reordered message is harmless and a
 * periodic resend heals any gap. The signature keeps strangers out: HMAC-SHA256 over
 * "timestamp.body" with a key derived from the key_file (ruling 11), and a timestamp window
 * bounds how long a captured message can be replayed (replaying it could only re-send a state
 * the receiver already merged, never undo a newer change).
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { decodeState, encodeState } from './codec.js';
import { canonicalJson, type AdminState } from './state.js';

export const REPLICATION_PATH = '/v1/admin-state';
export const REPLICATION_FORMAT = 'lvsd-admin-replication';
export const REPLICATION_VERSION = 1;
/** A state with thousands of drains is well under this. */
export const MAX_REPLICATION_BYTES = 1 << 20;
/** How far a message's timestamp may be from the receiver's clock. */
export const REPLICATION_WINDOW_MS = 30_000;
export const HEADER_TIMESTAMP = 'x-lvsd-timestamp';
export const HEADER_SIGNATURE = 'x-lvsd-signature';

/** A key of its own, so the advert key is never used for a second purpose. */
export function replicationKey(keyFileBytes: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', keyFileBytes, 'lvsd', 'admin replication v1', 32));
}

export function signature(key: Uint8Array, timestampMs: number, body: string): string {
  return createHmac('sha256', key).update(`${timestampMs}.${body}`).digest('hex');
}

/** The body and headers for `state` from `director` at `nowMs`. */
export function replicationMessage(
  key: Uint8Array,
  director: string,
  state: AdminState,
  nowMs: number,
): { body: string; headers: Record<string, string> } {
  const body = canonicalJson({
    format: REPLICATION_FORMAT,
    version: REPLICATION_VERSION,
    director,
    state: encodeState(state),
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      [HEADER_TIMESTAMP]: String(nowMs),
      [HEADER_SIGNATURE]: signature(key, nowMs, body),
    },
  };
}

export type Received =
  | { readonly ok: true; readonly director: string; readonly state: AdminState }
  | {
      readonly ok: false;
      /** HTTP status for the answer: 401 bad signature or stale, 400 not a state. */
      readonly status: 400 | 401;
      readonly reason: string;
    };

/** Checks a received message: signature first (nothing unauthenticated is parsed), then time. */
export function receiveReplication(
  key: Uint8Array,
  headers: { readonly timestamp: string | undefined; readonly signature: string | undefined },
  body: string,
  nowMs: number,
): Received {
  const ts = Number(headers.timestamp);
  const sig = headers.signature ?? '';
  if (!/^\d{1,16}$/.test(headers.timestamp ?? '') || !/^[0-9a-f]{64}$/.test(sig))
    return { ok: false, status: 401, reason: 'missing or malformed signature headers' };
  const want = Buffer.from(signature(key, ts, body), 'hex');
  if (!timingSafeEqual(want, Buffer.from(sig, 'hex')))
    return { ok: false, status: 401, reason: 'bad signature (is the key_file the same on both?)' };
  if (Math.abs(nowMs - ts) > REPLICATION_WINDOW_MS)
    return {
      ok: false,
      status: 401,
      reason: `timestamp ${Math.round((nowMs - ts) / 1000)} s off: replayed, or the clocks differ (use NTP)`,
    };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, status: 400, reason: 'body is not JSON' };
  }
  if (typeof value !== 'object' || value === null)
    return { ok: false, status: 400, reason: 'body is not an object' };
  const o = value as Record<string, unknown>;
  if (o['format'] !== REPLICATION_FORMAT || o['version'] !== REPLICATION_VERSION)
    return { ok: false, status: 400, reason: 'not an lvsd admin replication message (version 1)' };
  if (typeof o['director'] !== 'string' || o['director'] === '')
    return { ok: false, status: 400, reason: 'no director id' };
  const d = decodeState(o['state']);
  if (!d.ok) return { ok: false, status: 400, reason: `state: ${d.reason}` };
  return { ok: true, director: o['director'], state: d.state };
}
