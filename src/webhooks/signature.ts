/**
 * Webhook signatures (docs/webhooks.md): HMAC-SHA256 over `TIMESTAMP + "." + BODY` with the
 * endpoint's secret, sent as `X-Lvsd-Signature: v1=HEX` beside `X-Lvsd-Timestamp` (Unix
 * seconds). Binding the timestamp into the MAC lets a receiver refuse old deliveries; a
 * replay inside the window repeats an exact signature, which a receiver that remembers the
 * signatures it accepted for one window detects. `v1=` leaves room for another scheme later.
 * Pure: time is an argument.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-lvsd-signature';
export const TIMESTAMP_HEADER = 'x-lvsd-timestamp';
export const DELIVERY_HEADER = 'x-lvsd-delivery';
export const DEFAULT_TOLERANCE_S = 300;

export function signature(secret: string, timestampS: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex');
  return `v1=${mac}`;
}

export type VerifyResult =
  | { readonly ok: true; readonly timestampS: number }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'mismatch' | 'stale' };

/** The receiver's side, as documented: usable by tests and by anyone writing a receiver in Node. */
export function verifySignature(
  secret: string,
  headers: { readonly timestamp: string | undefined; readonly signature: string | undefined },
  body: string,
  nowS: number,
  toleranceS = DEFAULT_TOLERANCE_S,
): VerifyResult {
  if (headers.timestamp === undefined || headers.signature === undefined)
    return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(headers.timestamp) || !/^v1=[0-9a-f]{64}$/.test(headers.signature))
    return { ok: false, reason: 'malformed' };
  const ts = Number(headers.timestamp);
  const expected = Buffer.from(signature(secret, ts, body));
  const got = Buffer.from(headers.signature);
  if (expected.length !== got.length || !timingSafeEqual(expected, got))
    return { ok: false, reason: 'mismatch' };
  if (Math.abs(nowS - ts) > toleranceS) return { ok: false, reason: 'stale' };
  return { ok: true, timestampS: ts };
}
