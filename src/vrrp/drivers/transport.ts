/**
 * The advert transport port: opaque datagrams between directors. The codec (src/vrrp/wire/)
 * turns adverts into Buffers and back; this layer only moves them, bounds their size, and
 * counts what it drops. Two implementations: `transport-udp.ts` (node:dgram, multicast or
 * unicast) and `transport-memory.ts` (an in-memory network with loss and partitions).
 *
 * Rules both keep: a datagram larger than `maxDatagramBytes` is refused on send (a coded error:
 * the caller built it) and dropped on receive (counted); a handler that throws is counted and
 * the next datagram is delivered as usual; network errors on send are reported in the result
 * and counted, never thrown, so an advert timer cannot crash the daemon.
 */
import { LvsdError } from '../../lib/errors.js';

/**
 * lvsd's default UDP port for adverts (docs/heartbeat-protocol.md: never assigned by IANA, above
 * Linux's ephemeral range).
 * Agreed with the advert codec. Configurable per instance.
 */
export const DEFAULT_ADVERT_PORT = 61112;
/** VRRP's multicast groups (RFC 5798, IPv4 and IPv6 field descriptions), used by lvsd over UDP too. */
export const VRRP_GROUP_V4 = '224.0.0.18';
export const VRRP_GROUP_V6 = 'ff02::12';
/** VRRP sends with TTL / hop limit 255 (receivers may check it); lvsd does the same. */
export const DEFAULT_TTL = 255;
/** One Ethernet frame of IPv4 UDP payload (1500 − 20 − 8). Adverts are far smaller. */
export const DEFAULT_MAX_DATAGRAM_BYTES = 1472;

export type PeerFamily = 'IPv4' | 'IPv6';

export interface PeerAddress {
  readonly address: string;
  readonly port: number;
  readonly family: PeerFamily;
}

/** Where to send: an address (port defaults to the transport's port). */
export interface Destination {
  readonly address: string;
  readonly port?: number;
}

export interface SendResult {
  /** Datagrams handed to the network (one per destination). */
  readonly sent: number;
  /** Destinations the network refused, with the error code (EHOSTUNREACH, EPERM, …). */
  readonly failed: readonly { readonly to: string; readonly code: string }[];
}

export interface TransportStats {
  sent: number;
  sendErrors: number;
  received: number;
  /** Dropped on receive, by reason. */
  dropped: {
    oversize: number;
    /** Our own datagram looped back (multicast) or from our own address. */
    self: number;
    /** Unicast with `checkSource`: from an address that is not a configured peer. */
    notPeer: number;
  };
  /** A message handler threw. */
  handlerErrors: number;
  /** Errors the socket reported while open (it stays open). */
  socketErrors: number;
}

export type MessageHandler = (buf: Buffer, from: PeerAddress) => void;

export interface Transport {
  /**
   * Sends one datagram: to `to`, or without it to the group (multicast) or to every configured
   * peer (unicast).
   */
  send(buf: Buffer, to?: Destination): Promise<SendResult>;
  /** Registers a handler; returns a function that removes it. */
  onMessage(handler: MessageHandler): () => void;
  close(): Promise<void>;
  stats(): TransportStats;
}

export const TRANSPORT_ERROR_CODES = {
  /** A datagram over maxDatagramBytes was given to send. */
  oversize: 'TRANSPORT_OVERSIZE',
  /** send() after close(). */
  closed: 'TRANSPORT_CLOSED',
  /** The socket could not be opened / bound / joined (address not local, no such interface). */
  open: 'TRANSPORT_OPEN',
  /** Options that cannot work (no peers in unicast mode, family mismatch, bad port). */
  options: 'TRANSPORT_OPTIONS',
} as const;

export function emptyStats(): TransportStats {
  return {
    sent: 0,
    sendErrors: 0,
    received: 0,
    dropped: { oversize: 0, self: 0, notPeer: 0 },
    handlerErrors: 0,
    socketErrors: 0,
  };
}

export function copyStats(s: TransportStats): TransportStats {
  return { ...s, dropped: { ...s.dropped } };
}

export function oversize(bytes: number, max: number): LvsdError {
  return new LvsdError(
    TRANSPORT_ERROR_CODES.oversize,
    `datagram of ${bytes} bytes is over the ${max}-byte limit`,
  );
}

export function closedError(): LvsdError {
  return new LvsdError(TRANSPORT_ERROR_CODES.closed, 'transport is closed');
}

export function checkPort(port: number, what = 'port'): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LvsdError(
      TRANSPORT_ERROR_CODES.options,
      `${what} must be an integer 1..65535, got ${String(port)}`,
    );
  }
  return port;
}

/** A set of handlers where one throwing handler neither stops the others nor escapes. */
export class HandlerSet {
  private readonly handlers = new Set<MessageHandler>();
  constructor(private readonly onError: () => void) {}
  add(h: MessageHandler): () => void {
    // Wrap so the same function registered twice is two registrations.
    const wrapped: MessageHandler = (b, f) => {
      h(b, f);
    };
    this.handlers.add(wrapped);
    return () => {
      this.handlers.delete(wrapped);
    };
  }
  deliver(buf: Buffer, from: PeerAddress): void {
    for (const h of this.handlers) {
      try {
        h(buf, from);
      } catch {
        this.onError();
      }
    }
  }
  clear(): void {
    this.handlers.clear();
  }
}
