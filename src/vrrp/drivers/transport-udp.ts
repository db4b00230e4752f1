/**
 * Adverts over UDP with node:dgram.
 *
 * Multicast (default, like keepalived): the socket binds the group and port (224.0.0.18 or
 * ff02::12, port 61112) so it receives only datagrams sent to the group, joins the group on one
 * interface (IPv4: by the interface's address, IP_ADD_MEMBERSHIP; IPv6: by name, `::%eth0`,
 * which libuv turns into the interface index), sends out of that interface
 * (IP_MULTICAST_IF / IPV6_MULTICAST_IF), with TTL / hop limit 255, and with multicast loopback
 * off so a director does not hear its own adverts (datagrams from its own interface address
 * are dropped as `self` too, should one arrive). `reuseAddr` lets several instances share the
 * group and port; the codec sorts adverts by VRID.
 *
 * Unicast (`unicast_src_ip` + `unicast_peer`): binds unicast_src_ip:port, sends each advert to
 * every peer. With `checkSource` (keepalived's `check_unicast_src`) datagrams from other
 * addresses are dropped and counted.
 */
import dgram from 'node:dgram';
import { LvsdError } from '../../lib/errors.js';
import {
  DEFAULT_ADVERT_PORT,
  DEFAULT_MAX_DATAGRAM_BYTES,
  DEFAULT_TTL,
  HandlerSet,
  TRANSPORT_ERROR_CODES,
  VRRP_GROUP_V4,
  VRRP_GROUP_V6,
  checkPort,
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
import { canonicalAddress, familyOf } from './vip.js';

interface CommonOptions {
  /** Default DEFAULT_ADVERT_PORT (61112). */
  readonly port?: number;
  /** Multicast TTL / hop limit, or unicast TTL (default 255). */
  readonly ttl?: number;
  /** Default DEFAULT_MAX_DATAGRAM_BYTES (1472). */
  readonly maxDatagramBytes?: number;
}

export interface MulticastOptions extends CommonOptions {
  readonly mode: 'multicast';
  readonly family: 4 | 6;
  /** The interface's name (required for IPv6; used in messages for IPv4). */
  readonly interfaceName: string;
  /** IPv4: an address on the interface (keepalived's `mcast_src_ip`, else its primary one). */
  readonly interfaceAddress?: string;
  /** Default 224.0.0.18 / ff02::12 (keepalived's `vrrp_mcast_group4/6`). */
  readonly group?: string;
}

export interface UnicastOptions extends CommonOptions {
  readonly mode: 'unicast';
  /** keepalived's `unicast_src_ip`: bound, and the source of every advert. */
  readonly sourceAddress: string;
  /** keepalived's `unicast_peer { … }`, same family as sourceAddress. */
  readonly peers: readonly string[];
  /** Drop datagrams from addresses that are not peers (keepalived's `check_unicast_src`). */
  readonly checkSource?: boolean;
}

export type UdpTransportOptions = MulticastOptions | UnicastOptions;

function optionsError(message: string): LvsdError {
  return new LvsdError(TRANSPORT_ERROR_CODES.options, message);
}

/** The address without an IPv6 zone (`fe80::1%eth0` → `fe80::1`), canonical. */
function bare(address: string): string {
  const noZone = address.split('%')[0] ?? address;
  return canonicalAddress(noZone) ?? noZone;
}

export class UdpTransport implements Transport {
  private readonly counters = emptyStats();
  private readonly handlers = new HandlerSet(() => {
    this.counters.handlerErrors += 1;
  });
  private closed = false;
  private readonly port: number;
  private readonly max: number;
  private readonly defaultTargets: readonly string[];
  private readonly selfAddresses: ReadonlySet<string>;
  private readonly peerSet: ReadonlySet<string> | undefined;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly options: UdpTransportOptions,
  ) {
    this.port = options.port ?? DEFAULT_ADVERT_PORT;
    this.max = options.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
    if (options.mode === 'multicast') {
      const group = options.group ?? (options.family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6);
      this.defaultTargets = [options.family === 6 ? `${group}%${options.interfaceName}` : group];
      this.selfAddresses = new Set(
        options.interfaceAddress === undefined ? [] : [bare(options.interfaceAddress)],
      );
      this.peerSet = undefined;
    } else {
      this.defaultTargets = options.peers.map(bare);
      this.selfAddresses = new Set([bare(options.sourceAddress)]);
      this.peerSet = options.checkSource === true ? new Set(options.peers.map(bare)) : undefined;
    }
    socket.on('message', (msg, rinfo) => {
      this.receive(msg, rinfo);
    });
    socket.on('error', () => {
      this.counters.socketErrors += 1;
    });
  }

  /** Opens, binds and (multicast) joins; rejects with TRANSPORT_OPEN / TRANSPORT_OPTIONS. */
  static async open(options: UdpTransportOptions): Promise<UdpTransport> {
    const port = checkPort(options.port ?? DEFAULT_ADVERT_PORT);
    const ttl = options.ttl ?? DEFAULT_TTL;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) {
      throw optionsError(`ttl must be 1..255, got ${String(ttl)}`);
    }
    const max = options.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
    if (!Number.isInteger(max) || max < 1 || max > 65507) {
      throw optionsError(`maxDatagramBytes must be 1..65507, got ${String(max)}`);
    }
    let family: 4 | 6;
    let bindAddress: string;
    if (options.mode === 'multicast') {
      family = options.family;
      const group = options.group ?? (family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6);
      if (familyOf(group) !== family) throw optionsError(`group ${group} is not IPv${family}`);
      if (family === 4) {
        if (options.interfaceAddress === undefined || familyOf(options.interfaceAddress) !== 4) {
          throw optionsError(
            `IPv4 multicast on ${options.interfaceName} needs interfaceAddress, an IPv4 address on it`,
          );
        }
      }
      if (!/^[^\s%/]{1,15}$/.test(options.interfaceName)) {
        throw optionsError(`bad interface name ${JSON.stringify(options.interfaceName)}`);
      }
      bindAddress = family === 6 ? `${group}%${options.interfaceName}` : group;
    } else {
      const f = familyOf(options.sourceAddress);
      if (f === undefined)
        throw optionsError(`unicast_src_ip ${options.sourceAddress} is not an address`);
      family = f;
      if (options.peers.length === 0) throw optionsError('unicast mode needs at least one peer');
      for (const p of options.peers) {
        if (familyOf(p) !== family) {
          throw optionsError(`unicast_peer ${p} is not IPv${family} like ${options.sourceAddress}`);
        }
      }
      bindAddress = options.sourceAddress;
    }
    const socket = dgram.createSocket({
      type: family === 4 ? 'udp4' : 'udp6',
      reuseAddr: options.mode === 'multicast',
      ...(family === 6 ? { ipv6Only: true } : {}),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: Error): void => {
          reject(e);
        };
        socket.once('error', onError);
        socket.bind({ address: bindAddress, port, exclusive: false }, () => {
          socket.off('error', onError);
          resolve();
        });
      });
      if (options.mode === 'multicast') {
        const group = options.group ?? (family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6);
        const iface =
          family === 4 ? (options.interfaceAddress ?? '') : `::%${options.interfaceName}`;
        socket.addMembership(group, iface);
        socket.setMulticastInterface(iface);
        socket.setMulticastTTL(ttl);
        socket.setMulticastLoopback(false);
      } else {
        socket.setTTL(ttl);
      }
    } catch (e) {
      socket.close();
      const where =
        options.mode === 'multicast'
          ? `multicast ${bindAddress} port ${port} on ${options.interfaceName}`
          : `unicast ${bindAddress} port ${port}`;
      throw new LvsdError(
        TRANSPORT_ERROR_CODES.open,
        `cannot open advert socket (${where}): ${e instanceof Error ? e.message : String(e)}`,
        options.mode === 'unicast'
          ? 'unicast_src_ip must be an address of this host'
          : 'check the interface and its address',
        { cause: e },
      );
    }
    return new UdpTransport(socket, options);
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    if (msg.length > this.max) {
      this.counters.dropped.oversize += 1;
      return;
    }
    const from = bare(rinfo.address);
    if (this.selfAddresses.has(from)) {
      this.counters.dropped.self += 1;
      return;
    }
    if (this.peerSet !== undefined && !this.peerSet.has(from)) {
      this.counters.dropped.notPeer += 1;
      return;
    }
    this.counters.received += 1;
    const peer: PeerAddress = {
      address: rinfo.address,
      port: rinfo.port,
      family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4',
    };
    this.handlers.deliver(msg, peer);
  }

  async send(buf: Buffer, to?: Destination): Promise<SendResult> {
    if (this.closed) throw closedError();
    if (buf.length > this.max) throw oversize(buf.length, this.max);
    const port = to?.port === undefined ? this.port : checkPort(to.port);
    const targets = to === undefined ? this.defaultTargets : [to.address];
    const failed: { to: string; code: string }[] = [];
    let sent = 0;
    await Promise.all(
      targets.map(
        (address) =>
          new Promise<void>((resolve) => {
            try {
              this.socket.send(buf, port, address, (err) => {
                if (err === null || err === undefined) {
                  sent += 1;
                  this.counters.sent += 1;
                } else {
                  failed.push({
                    to: address,
                    code: (err as { code?: string }).code ?? err.message,
                  });
                  this.counters.sendErrors += 1;
                }
                resolve();
              });
            } catch (err) {
              failed.push({
                to: address,
                code: (err as { code?: string }).code ?? String(err),
              });
              this.counters.sendErrors += 1;
              resolve();
            }
          }),
      ),
    );
    return { sent, failed };
  }

  onMessage(handler: MessageHandler): () => void {
    return this.handlers.add(handler);
  }

  /** The bound address and port (port 0 in tests picks a free one). */
  address(): { address: string; port: number } {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.handlers.clear();
    return new Promise((resolve) => {
      this.socket.close(() => {
        resolve();
      });
    });
  }

  stats(): TransportStats {
    return copyStats(this.counters);
  }

  /** The mode and target list, for logs. */
  describe(): string {
    return this.options.mode === 'multicast'
      ? `multicast ${this.defaultTargets.join(',')} port ${this.port}`
      : `unicast to ${this.defaultTargets.join(',')} port ${this.port}`;
  }
}
