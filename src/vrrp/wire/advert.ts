/**
 * The advert codec: an lvsd advert ⇄ the bytes of one UDP datagram (format version 1, laid out
 * in format.ts and docs/heartbeat-protocol.md). Pure: no sockets, no clock. `decodeAdvert`
 * never throws: every bad input is a `{ ok: false, reason }` the shell counts and drops.
 *
 * A receiver that holds a key checks the MAC before it reads any field past the auth type, so
 * nothing an unauthenticated sender wrote is interpreted. Replay protection is not here (the
 * codec is stateless): feed `senderId` and `counter` of an accepted, authenticated advert to
 * replay.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalAddress, formatIpv4, formatIpv6, ipv4Bytes, ipv6Bytes } from './address.js';
import {
  AuthType,
  FORMAT_VERSION,
  Flag,
  HEADER_BYTES,
  MAC_BYTES,
  MAGIC,
  MAX_ADDRESSES,
  MAX_ADVERT_INT_MS,
  MAX_PACKET_BYTES,
  MIN_ADVERT_INT_MS,
  MessageType,
  Offset,
  RESERVED_FLAGS,
  SENDER_ID_BYTES,
  addressBytes,
  packetBytes,
} from './format.js';

export interface Advert {
  /** Virtual router id, 1..255. */
  readonly vrid: number;
  /** 0..255; 0 = the sender is stopping and hands over (ruling 12), 255 = address owner. */
  readonly priority: number;
  /** The sender's advert interval in ms, 10..255000. */
  readonly advertIntMs: number;
  /** The sender is restarting and asks for a bounded extension of master-down (ruling 14). */
  readonly restarting: boolean;
  /** Family of the virtual addresses. */
  readonly family: 4 | 6;
  /** Virtual addresses, 0..MAX_ADDRESSES, in canonical text when decoded. */
  readonly addresses: readonly string[];
  /** Per-boot random id: 16 lower-case hex digits (8 bytes), not all zero. */
  readonly senderId: string;
  /** Monotonic per sender id, 0..2^64-1. */
  readonly counter: bigint;
}

/** Anything with key bytes: a `WireKey` from keys.ts. */
export interface MacKey {
  readonly bytes: Uint8Array;
}

export interface DecodeExpect {
  /** The key to verify with, or null when this instance has none. */
  readonly key: MacKey | null;
  /** Drop adverts without a MAC. The shell sets it whenever a key is configured (ruling 11). */
  readonly requireAuth: boolean;
  /** When given, an advert for another VRID is dropped as `wrong-vrid`. */
  readonly vrid?: number;
  /** When given, an advert for the other family is dropped as `wrong-family`. */
  readonly family?: 4 | 6;
}

export type DecodeFailureReason =
  | 'too-short'
  | 'too-long'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-auth-type'
  | 'unauthenticated'
  | 'auth-mismatch'
  | 'bad-mac'
  | 'bad-type'
  | 'truncated'
  | 'trailing-bytes'
  | 'malformed'
  | 'wrong-vrid'
  | 'wrong-family';

export type DecodeResult =
  | { readonly ok: true; readonly advert: Advert; readonly authenticated: boolean }
  | { readonly ok: false; readonly reason: DecodeFailureReason; readonly detail: string };

const SENDER_ID = /^[0-9a-f]{16}$/;
const ZERO_ID = '0'.repeat(2 * SENDER_ID_BYTES);
const MAX_COUNTER = (1n << 64n) - 1n;

function mac(key: MacKey, data: Uint8Array): Buffer {
  return createHmac('sha256', key.bytes).update(data).digest();
}

function invalid(what: string, value: unknown): never {
  throw new RangeError(`encodeAdvert: ${what} (got ${String(value)})`);
}

function isIntIn(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

/**
 * The datagram for `advert`, with an HMAC-SHA256 trailer when `key` is given. Throws a
 * RangeError for an advert no receiver would accept: that is a bug in the caller (config
 * validation keeps such values out), not a network condition.
 */
export function encodeAdvert(advert: Advert, key: MacKey | null): Buffer {
  const a = advert;
  if (!isIntIn(a.vrid, 1, 255)) invalid('vrid must be an integer 1..255', a.vrid);
  if (!isIntIn(a.priority, 0, 255)) invalid('priority must be an integer 0..255', a.priority);
  if (!isIntIn(a.advertIntMs, MIN_ADVERT_INT_MS, MAX_ADVERT_INT_MS))
    invalid(`advertIntMs must be ${MIN_ADVERT_INT_MS}..${MAX_ADVERT_INT_MS}`, a.advertIntMs);
  if (a.family !== 4 && a.family !== 6) invalid('family must be 4 or 6', a.family);
  if (a.addresses.length > MAX_ADDRESSES)
    invalid(`at most ${MAX_ADDRESSES} addresses`, a.addresses.length);
  if (!SENDER_ID.test(a.senderId) || a.senderId === ZERO_ID)
    invalid('senderId must be 16 lower-case hex digits, not all zero', a.senderId);
  if (typeof a.counter !== 'bigint' || a.counter < 0n || a.counter > MAX_COUNTER)
    invalid('counter must be a bigint 0..2^64-1', a.counter);
  if (key !== null && key.bytes.length === 0) invalid('key must not be empty', 0);

  const size = packetBytes(a.family, a.addresses.length, key !== null);
  const buf = Buffer.alloc(size);
  buf.set(MAGIC, Offset.magic);
  buf[Offset.version] = FORMAT_VERSION;
  buf[Offset.type] = MessageType.advert;
  buf[Offset.authType] = key === null ? AuthType.none : AuthType.hmacSha256;
  buf[Offset.flags] = a.restarting ? Flag.restarting : 0;
  buf[Offset.vrid] = a.vrid;
  buf[Offset.priority] = a.priority;
  buf[Offset.family] = a.family;
  buf[Offset.count] = a.addresses.length;
  buf.writeUInt32BE(a.advertIntMs, Offset.advertIntMs);
  buf.write(a.senderId, Offset.senderId, SENDER_ID_BYTES, 'hex');
  buf.writeBigUInt64BE(a.counter, Offset.counter);
  const width = addressBytes(a.family);
  for (const [i, text] of a.addresses.entries()) {
    const bytes = a.family === 4 ? ipv4Bytes(text) : ipv6Bytes(text);
    if (!bytes) invalid(`address ${i} is not an IPv${a.family} address`, text);
    buf.set(bytes, Offset.addresses + i * width);
  }
  if (key !== null) {
    const body = size - MAC_BYTES;
    mac(key, buf.subarray(0, body)).copy(buf, body);
  }
  return buf;
}

function fail(reason: DecodeFailureReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/** Decode and verify one datagram. Never throws. */
export function decodeAdvert(buf: Uint8Array, expect: DecodeExpect): DecodeResult {
  try {
    return decode(buf, expect);
  } catch (err) {
    // Unreachable by construction (the property tests look for it); kept so a bug here drops
    // one packet instead of the daemon.
    return fail('malformed', `decoder error: ${err instanceof Error ? err.message : 'unknown'}`);
  }
}

function decode(input: Uint8Array, expect: DecodeExpect): DecodeResult {
  if (!(input instanceof Uint8Array)) return fail('malformed', 'not a byte buffer');
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const len = buf.length;
  if (len > MAX_PACKET_BYTES) return fail('too-long', `${len} bytes > ${MAX_PACKET_BYTES}`);
  if (len < HEADER_BYTES) return fail('too-short', `${len} bytes < ${HEADER_BYTES}`);
  for (const [i, b] of MAGIC.entries())
    if (buf[Offset.magic + i] !== b) return fail('bad-magic', 'not an lvsd heartbeat');
  const version = buf[Offset.version] ?? 0;
  if (version !== FORMAT_VERSION)
    return fail('bad-version', `version ${version}, this lvsd speaks ${FORMAT_VERSION}`);

  // Authentication before anything else is read.
  const authType = buf[Offset.authType] ?? 0;
  let bodyEnd = len;
  let authenticated = false;
  if (authType === AuthType.none) {
    if (expect.requireAuth) return fail('unauthenticated', 'no MAC and a key is configured');
  } else if (authType === AuthType.hmacSha256) {
    if (expect.key === null) return fail('auth-mismatch', 'the sender has a key, this end none');
    if (len < HEADER_BYTES + MAC_BYTES) return fail('truncated', `${len} bytes: no room for a MAC`);
    bodyEnd = len - MAC_BYTES;
    const want = mac(expect.key, buf.subarray(0, bodyEnd));
    if (!timingSafeEqual(want, buf.subarray(bodyEnd))) return fail('bad-mac', 'MAC mismatch');
    authenticated = true;
  } else {
    return fail('bad-auth-type', `auth type ${authType}`);
  }

  const type = buf[Offset.type] ?? 0;
  if (type !== MessageType.advert) return fail('bad-type', `message type ${type}`);
  const family = buf[Offset.family] ?? 0;
  if (family !== 4 && family !== 6) return fail('malformed', `address family ${family}`);
  const count = buf[Offset.count] ?? 0;
  if (count > MAX_ADDRESSES) return fail('malformed', `${count} addresses > ${MAX_ADDRESSES}`);
  const want = packetBytes(family, count, false);
  if (bodyEnd < want) return fail('truncated', `${bodyEnd} bytes before the MAC, want ${want}`);
  if (bodyEnd > want) return fail('trailing-bytes', `${bodyEnd - want} bytes after the addresses`);

  const vrid = buf[Offset.vrid] ?? 0;
  if (vrid === 0) return fail('malformed', 'VRID 0');
  const advertIntMs = buf.readUInt32BE(Offset.advertIntMs);
  if (advertIntMs < MIN_ADVERT_INT_MS || advertIntMs > MAX_ADVERT_INT_MS)
    return fail('malformed', `advert interval ${advertIntMs} ms`);
  const senderId = buf.toString('hex', Offset.senderId, Offset.senderId + SENDER_ID_BYTES);
  if (senderId === ZERO_ID) return fail('malformed', 'sender id 0');
  const flags = buf[Offset.flags] ?? 0;
  if ((flags & RESERVED_FLAGS) !== 0) return fail('malformed', `reserved flag bits ${flags}`);
  if (expect.vrid !== undefined && vrid !== expect.vrid)
    return fail('wrong-vrid', `VRID ${vrid}, expected ${expect.vrid}`);
  if (expect.family !== undefined && family !== expect.family)
    return fail('wrong-family', `IPv${family}, expected IPv${expect.family}`);

  const width = addressBytes(family);
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = Offset.addresses + i * width;
    addresses.push(family === 4 ? formatIpv4(buf, at) : formatIpv6(buf, at));
  }
  return {
    ok: true,
    authenticated,
    advert: {
      vrid,
      priority: buf[Offset.priority] ?? 0,
      advertIntMs,
      restarting: (flags & Flag.restarting) !== 0,
      family,
      addresses,
      senderId,
      counter: buf.readBigUInt64BE(Offset.counter),
    },
  };
}

export interface UnverifiedHeader {
  readonly type: number;
  readonly authType: number;
  readonly vrid: number;
  readonly family: number;
}

/**
 * The routing fields of a datagram, NOT authenticated: for the shell to pick the instance (and
 * so the key) before `decodeAdvert` verifies. Null when it is not a version-1 lvsd datagram.
 * Never act on these values; only choose which expectations to decode with.
 */
export function peekHeader(buf: Uint8Array): UnverifiedHeader | null {
  if (!(buf instanceof Uint8Array) || buf.length < HEADER_BYTES || buf.length > MAX_PACKET_BYTES)
    return null;
  for (const [i, b] of MAGIC.entries()) if (buf[Offset.magic + i] !== b) return null;
  if (buf[Offset.version] !== FORMAT_VERSION) return null;
  return {
    type: buf[Offset.type] ?? 0,
    authType: buf[Offset.authType] ?? 0,
    vrid: buf[Offset.vrid] ?? 0,
    family: buf[Offset.family] ?? 0,
  };
}

/** The canonical form the decoder returns an address in (for comparing with configuration). */
export function canonicalVirtualAddress(text: string, family: 4 | 6): string | undefined {
  return canonicalAddress(text, family);
}
