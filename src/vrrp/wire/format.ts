/**
 * The lvsd heartbeat wire format, version 1: constants and the header layout. The byte-by-byte
 * table, the versioning rules and what a receiver does with each bad packet are in
 * docs/heartbeat-protocol.md; keep the two in step (test/unit/vrrp/wire/format.test.ts checks
 * the offsets against the table).
 */

/** "LVHB": lvsd heartbeat. */
export const MAGIC = Uint8Array.of(0x4c, 0x56, 0x48, 0x42);
export const FORMAT_VERSION = 1;

/** Message types. Only adverts exist in version 1; the others are reserved. */
export const MessageType = {
  advert: 1,
  /** Reserved for admin-state replication (a later issue). */
  adminState: 2,
} as const;

export const AuthType = { none: 0, hmacSha256: 1 } as const;

export const Flag = {
  /** The sender is restarting: a backup may extend its master-down timer (ruling 14). */
  restarting: 0x01,
} as const;
/** Flag bits that must be 0 in version 1 (a receiver drops the packet as malformed). */
export const RESERVED_FLAGS = 0xfe;

export const Offset = {
  magic: 0,
  version: 4,
  type: 5,
  authType: 6,
  flags: 7,
  vrid: 8,
  priority: 9,
  family: 10,
  count: 11,
  advertIntMs: 12,
  senderId: 16,
  counter: 24,
  addresses: 32,
} as const;

export const HEADER_BYTES = 32;
export const SENDER_ID_BYTES = 8;
export const MAC_BYTES = 32;
/** Most virtual addresses one advert carries (keepalived's own adverts carry at most 20). */
export const MAX_ADDRESSES = 64;
/** 32 + 64 × 16 + 32 = 1088: with IPv6 and UDP headers (48) it fits the 1280-byte IPv6 MTU. */
export const MAX_PACKET_BYTES = HEADER_BYTES + MAX_ADDRESSES * 16 + MAC_BYTES;
/** 10 ms: VRRPv3's centisecond resolution. lvsd's fast profile uses 50 ms and up. */
export const MIN_ADVERT_INT_MS = 10;
/** 255 s: the largest advert_int keepalived accepts. */
export const MAX_ADVERT_INT_MS = 255_000;

/** UDP port lvsd sends adverts to and listens on (configurable; see the protocol doc). */
export const DEFAULT_PORT = 61112;
export const MULTICAST_GROUP_V4 = '224.0.0.18';
export const MULTICAST_GROUP_V6 = 'ff02::12';
/** Sent TTL / hop limit; a receiver that can read it drops anything else (off-link senders). */
export const TTL = 255;

export function addressBytes(family: 4 | 6): 4 | 16 {
  return family === 4 ? 4 : 16;
}

/** The exact size of a packet with `count` addresses of `family`. */
export function packetBytes(family: 4 | 6, count: number, authenticated: boolean): number {
  return HEADER_BYTES + count * addressBytes(family) + (authenticated ? MAC_BYTES : 0);
}
