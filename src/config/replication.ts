/**
 * Admin-state replication settings (lvsd block): which directors get this one's drains and
 * maintenance windows. Ruling 11: without a key_file it does not run. Peers default to the
 * VRRP unicast_peer addresses, so a unicast pair needs nothing more than the key.
 */
import type { DiagnosticSink, LvsdBlock } from '../keepalived-config/index.js';
import { canonicalAddress } from '../ipvs/address.js';
import type { DaemonSettings, VrrpInstanceConfig } from './types.js';

/** Not assigned by IANA, next to the advert port (61112). */
export const DEFAULT_REPLICATION_PORT = 61113;

export function buildReplication(
  l: LvsdBlock | undefined,
  instances: readonly VrrpInstanceConfig[],
  sink: DiagnosticSink,
): DaemonSettings['replication'] {
  const peers: string[] = [];
  for (const p of l?.replicationPeers ?? []) {
    const a = canonicalAddress(p.address);
    if (a === undefined)
      sink.warning(
        'lvsd-block',
        `replication_peer '${p.address}' is not an IPv4 or IPv6 address`,
        p.at,
        'give the other director’s address, e.g. replication_peer 198.18.0.2',
      );
    else if (!peers.includes(a)) peers.push(a);
  }
  const explicit = peers.length > 0;
  if (!explicit)
    for (const i of instances)
      for (const u of i.unicastPeers) {
        const a = canonicalAddress(u);
        if (a !== undefined && !peers.includes(a)) peers.push(a);
      }
  let listen: string | undefined;
  if (l?.replicationListen !== undefined) {
    listen = canonicalAddress(l.replicationListen);
    if (listen === undefined)
      sink.warning(
        'lvsd-block',
        `replication_listen '${l.replicationListen}' is not an address`,
        l.at,
      );
  }
  if (peers.length === 0) return undefined;
  if (!l?.keyFile) {
    if (explicit)
      sink.warning(
        'lvsd-block',
        'replication_peer is set but there is no key_file: admin state is not replicated without a key',
        l?.replicationPeers[0]?.at ?? l?.at,
        'add key_file FILE to the lvsd block (the same key on both directors)',
      );
    return undefined;
  }
  return {
    peers,
    port: l.replicationPort ?? DEFAULT_REPLICATION_PORT,
    ...(listen === undefined ? {} : { listen }),
  };
}
