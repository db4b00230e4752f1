/**
 * Advert sockets shared by instances. Several instances on one interface (multicast) or one
 * `unicast_src_ip` must share one UDP socket — a second unicast bind of the same address and
 * port fails — so sockets are pooled by endpoint and datagrams routed to the instance by the
 * VRID in the header. A datagram for no instance here is counted and dropped, never parsed
 * further; the instance's receive path (wire/receive.ts) does the rest of the checks.
 *
 * Linux delivers a multicast datagram to every socket bound to the group and port, whichever
 * interface joined it (IP_MULTICAST_ALL, which Node cannot turn off): the eth0 socket hears the
 * eth1 segment's adverts too. Such a datagram, whose VRID belongs to another socket of this
 * pool, is that socket's business and is ignored here without a count; an instance also checks
 * that the sender is on its own link.
 */
import type { PeerAddress, SendResult, Transport } from './drivers/transport.js';
import type { UdpTransportOptions } from './drivers/transport-udp.js';
import { peekHeader } from './wire/advert.js';

export type OpenTransport = (options: UdpTransportOptions) => Promise<Transport>;

export type RouteHandler = (buf: Buffer, from: PeerAddress) => void;

/** Why a datagram reached no instance. */
export type UnroutedReason = 'malformed' | 'wrong-vrid';

export interface AdvertLink {
  /** To the multicast group, or to each of `peers` (unicast). Never throws. */
  send(buf: Buffer): Promise<SendResult>;
  /** Detaches the instance; the socket closes with its last user. */
  detach(): Promise<void>;
}

interface Pooled {
  readonly transport: Transport;
  readonly routes: Map<number, RouteHandler>;
}

/** The pool key: one socket per endpoint (mode, family, interface or source, port). */
export function endpointKey(o: UdpTransportOptions): string {
  return o.mode === 'multicast'
    ? `m/${o.family}/${o.interfaceName}/${o.interfaceAddress ?? ''}/${o.group ?? ''}/${o.port ?? ''}`
    : `u/${o.sourceAddress}/${o.port ?? ''}`;
}

export class AdvertSockets {
  private readonly pool = new Map<string, Promise<Pooled>>();
  /** VRIDs per multicast socket key, for routedElsewhere (sync: the message path is sync). */
  private readonly vrids = new Map<string, Set<number>>();

  constructor(
    private readonly open: OpenTransport,
    private readonly onUnrouted: (
      reason: UnroutedReason,
      from: string,
      socket: UdpTransportOptions,
    ) => void,
  ) {}

  /** Routes adverts for `vrid` on this endpoint to `handler`; rejects if the socket cannot open. */
  async attach(
    options: UdpTransportOptions,
    vrid: number,
    handler: RouteHandler,
  ): Promise<AdvertLink> {
    const key = endpointKey(options);
    let pending = this.pool.get(key);
    if (!pending) {
      pending = this.open(options).then((transport) => {
        const routes = new Map<number, RouteHandler>();
        transport.onMessage((buf, from) => {
          const header = peekHeader(buf);
          const route = header === null ? undefined : routes.get(header.vrid);
          if (route) route(buf, from);
          else if (header === null) this.onUnrouted('malformed', from.address, options);
          else if (!this.routedElsewhere(key, header.vrid))
            this.onUnrouted('wrong-vrid', from.address, options);
        });
        return { transport, routes };
      });
      this.pool.set(key, pending);
      pending.catch(() => {
        if (this.pool.get(key) === pending) this.pool.delete(key);
      });
    }
    const pooled = await pending;
    if (pooled.routes.has(vrid)) throw new Error(`VRID ${vrid} is used twice on ${key}`); // config checks prevent it
    pooled.routes.set(vrid, handler);
    let mine = this.vrids.get(key);
    if (!mine) this.vrids.set(key, (mine = new Set()));
    mine.add(vrid);
    const peers = options.mode === 'unicast' ? options.peers : null;
    let attached = true;
    return {
      send: async (buf) => {
        try {
          if (peers === null) return await pooled.transport.send(buf);
          const results = await Promise.all(
            peers.map((p) => pooled.transport.send(buf, { address: p })),
          );
          return {
            sent: results.reduce((n, r) => n + r.sent, 0),
            failed: results.flatMap((r) => r.failed),
          };
        } catch (e) {
          // Closed under us (stop) or an advert too large for the socket: count, go on.
          const code = e instanceof Error && 'code' in e ? String(e.code) : String(e);
          return { sent: 0, failed: [{ to: peers?.join(',') ?? 'group', code }] };
        }
      },
      detach: async () => {
        if (!attached) return;
        attached = false;
        pooled.routes.delete(vrid);
        this.vrids.get(key)?.delete(vrid);
        if (pooled.routes.size === 0) {
          this.pool.delete(key);
          this.vrids.delete(key);
          await pooled.transport.close();
        }
      },
    };
  }

  /** Another multicast socket of the same family carries `vrid`. */
  private routedElsewhere(key: string, vrid: number): boolean {
    const family = key.slice(0, 4); // "m/4/" or "m/6/"
    if (!key.startsWith('m/')) return false;
    for (const [k, set] of this.vrids)
      if (k !== key && k.startsWith(family) && set.has(vrid)) return true;
    return false;
  }

  /** Closes every socket (the daemon's stop, after the instances sent their last advert). */
  async close(): Promise<void> {
    const all = [...this.pool.values()];
    this.pool.clear();
    for (const p of all) {
      const pooled = await p.catch(() => undefined);
      await pooled?.transport.close();
    }
  }
}
