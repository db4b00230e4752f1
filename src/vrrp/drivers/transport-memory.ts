/**
 * An in-memory network for the advert transport (in the manner of memberlist's MockNetwork):
 * transports attached to one MemoryNetwork reach each other by address, with the same rules as
 * the UDP transport (size limit, handler errors counted, no hearing oneself) and controls for
 * tests: random loss with a seeded generator, one-way or two-way link cuts, partitions, and a
 * log of every datagram with its fate.
 *
 * Delivery is asynchronous (a microtask after send), never re-entrant into the sender.
 * Multicast members (mode 'multicast') hear every other multicast member on the same segment
 * name; unicast members send to their peers, and anyone may send to any address.
 */
import {
  DEFAULT_ADVERT_PORT,
  DEFAULT_MAX_DATAGRAM_BYTES,
  HandlerSet,
  closedError,
  copyStats,
  emptyStats,
  oversize,
  type Destination,
  type MessageHandler,
  type PeerAddress,
  type SendResult,
  type Transport,
  type TransportStats,
} from './transport.js';

export interface MemoryAttachOptions {
  /** This director's address (the `from` others see). */
  readonly address: string;
  readonly mode?: 'multicast' | 'unicast';
  /** Multicast segment (default 'default'): members of one segment hear each other. */
  readonly segment?: string;
  /** Unicast peers (sent to when send() has no `to`). */
  readonly peers?: readonly string[];
  readonly port?: number;
  readonly maxDatagramBytes?: number;
  readonly checkSource?: boolean;
}

export type Fate = 'delivered' | 'lost' | 'cut' | 'no-listener';

export interface WireRecord {
  readonly from: string;
  readonly to: string;
  readonly bytes: number;
  readonly fate: Fate;
}

/** A small deterministic generator (mulberry32) so loss patterns repeat from a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class MemoryNetwork {
  private readonly members = new Map<string, MemoryTransport>();
  private readonly cuts = new Set<string>();
  private lossRate = 0;
  private random: () => number = seededRandom(1);
  /** Every datagram and what happened to it (bounded: the last `logLimit`). */
  readonly wire: WireRecord[] = [];
  constructor(private readonly logLimit = 10_000) {}

  attach(options: MemoryAttachOptions): MemoryTransport {
    if (this.members.has(options.address)) {
      throw new Error(`address ${options.address} is already attached (EADDRINUSE)`);
    }
    const t = new MemoryTransport(this, options);
    this.members.set(options.address, t);
    return t;
  }

  /** @internal */
  detach(address: string): void {
    this.members.delete(address);
  }

  /** Drop each datagram with probability `rate` (0..1), from a seeded generator. */
  setLoss(rate: number, seed = 1): void {
    this.lossRate = Math.min(1, Math.max(0, rate));
    this.random = seededRandom(seed);
  }

  /** Cut the link from → to (one way), or both ways. */
  cut(from: string, to: string, bothWays = true): void {
    this.cuts.add(`${from}>${to}`);
    if (bothWays) this.cuts.add(`${to}>${from}`);
  }

  /** Restore from → to (and back, with bothWays). */
  restore(from: string, to: string, bothWays = true): void {
    this.cuts.delete(`${from}>${to}`);
    if (bothWays) this.cuts.delete(`${to}>${from}`);
  }

  /** Nobody in `a` hears anybody in `b` and vice versa. */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) this.cut(x, y);
  }

  /** Remove every cut and the loss. */
  heal(): void {
    this.cuts.clear();
    this.lossRate = 0;
  }

  /** @internal Addresses a multicast datagram from `from` goes to. */
  segmentMembers(from: MemoryTransport): string[] {
    const out: string[] = [];
    for (const [addr, t] of this.members) {
      if (t !== from && t.isMulticast && t.segment === from.segment) out.push(addr);
    }
    return out;
  }

  /** @internal */
  transmit(from: string, to: string, port: number, buf: Buffer): Fate {
    let fate: Fate;
    const target = this.members.get(to);
    if (this.cuts.has(`${from}>${to}`)) fate = 'cut';
    else if (this.lossRate > 0 && this.random() < this.lossRate) fate = 'lost';
    else if (target === undefined || target.port !== port) fate = 'no-listener';
    else fate = 'delivered';
    this.wire.push({ from, to, bytes: buf.length, fate });
    if (this.wire.length > this.logLimit) this.wire.splice(0, this.wire.length - this.logLimit);
    if (fate === 'delivered' && target !== undefined) {
      const copy = Buffer.from(buf);
      queueMicrotask(() => {
        target.receive(copy, from);
      });
    }
    return fate;
  }
}

export class MemoryTransport implements Transport {
  private readonly counters = emptyStats();
  private readonly handlers = new HandlerSet(() => {
    this.counters.handlerErrors += 1;
  });
  private closed = false;
  readonly address: string;
  readonly port: number;
  readonly segment: string;
  readonly isMulticast: boolean;
  private readonly max: number;
  private readonly peers: readonly string[];
  private readonly peerSet: ReadonlySet<string> | undefined;

  /** @internal use MemoryNetwork.attach */
  constructor(
    private readonly network: MemoryNetwork,
    options: MemoryAttachOptions,
  ) {
    this.address = options.address;
    this.port = options.port ?? DEFAULT_ADVERT_PORT;
    this.segment = options.segment ?? 'default';
    this.isMulticast = (options.mode ?? 'multicast') === 'multicast';
    this.max = options.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
    this.peers = options.peers ?? [];
    this.peerSet = options.checkSource === true ? new Set(this.peers) : undefined;
  }

  send(buf: Buffer, to?: Destination): Promise<SendResult> {
    if (this.closed) return Promise.reject(closedError());
    if (buf.length > this.max) return Promise.reject(oversize(buf.length, this.max));
    const port = to?.port ?? this.port;
    const targets =
      to !== undefined
        ? [to.address]
        : this.isMulticast
          ? this.network.segmentMembers(this)
          : [...this.peers];
    let sent = 0;
    for (const t of targets) {
      // Like UDP: a datagram that leaves is "sent" whether or not anyone gets it.
      this.network.transmit(this.address, t, port, buf);
      sent += 1;
      this.counters.sent += 1;
    }
    return Promise.resolve({ sent, failed: [] });
  }

  /** @internal */
  receive(buf: Buffer, from: string): void {
    if (this.closed) return;
    if (buf.length > this.max) {
      this.counters.dropped.oversize += 1;
      return;
    }
    if (from === this.address) {
      this.counters.dropped.self += 1;
      return;
    }
    if (this.peerSet !== undefined && !this.peerSet.has(from)) {
      this.counters.dropped.notPeer += 1;
      return;
    }
    this.counters.received += 1;
    const peer: PeerAddress = {
      address: from,
      port: this.port,
      family: from.includes(':') ? 'IPv6' : 'IPv4',
    };
    this.handlers.deliver(buf, peer);
  }

  onMessage(handler: MessageHandler): () => void {
    return this.handlers.add(handler);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.handlers.clear();
      this.network.detach(this.address);
    }
    return Promise.resolve();
  }

  stats(): TransportStats {
    return copyStats(this.counters);
  }
}
