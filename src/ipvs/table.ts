/**
 * A typed model of an IPVS table, pure. It holds exactly what ipvsadm can set and read back
 * (`-Sn` plus the thresholds of `-Ln --thresholds`), keyed by stable strings, with every address
 * in canonical form so that equal tables compare equal.
 */
import { LvsdError } from '../lib/errors.js';
import {
  addressFamily,
  canonicalAddress,
  compareAddresses,
  formatEndpoint,
  type Family,
} from './address.js';

export type { Family } from './address.js';

/** Every scheduler ipvsadm 1.31 knows. The 6.1 kernel has no `twos` (added in 6.2). */
export const SCHEDULERS = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'sed',
  'nq',
  'fo',
  'ovf',
  'mh',
  'twos',
] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

export type Protocol = 'tcp' | 'udp' | 'sctp';

/**
 * Scheduler flags are three bits in the kernel (IP_VS_SVC_F_SCHED1..3); ipvsadm names them by
 * scheduler: for sh 1 = sh-fallback, 2 = sh-port; for mh 1 = mh-fallback, 2 = mh-port; for the
 * others flag-1..flag-3. The model keeps the bits, so a scheduler change keeps their meaning.
 */
export type SchedFlag = 1 | 2 | 3;

export type ServiceId =
  | {
      readonly kind: 'address';
      readonly protocol: Protocol;
      readonly address: string;
      readonly port: number;
    }
  | { readonly kind: 'fwmark'; readonly fwmark: number; readonly family: Family };

export interface Persistence {
  /** Seconds, 1..2678400. */
  readonly timeout: number;
  /** Dotted mask (IPv4) or prefix length as decimal text (IPv6); absent = host mask. */
  readonly netmask?: string;
}

export interface Service {
  readonly id: ServiceId;
  readonly scheduler: Scheduler;
  /** Sorted, no duplicates. */
  readonly schedFlags: readonly SchedFlag[];
  readonly persistence?: Persistence;
  /** `--pe NAME` (the kernel knows `sip`); ipvsadm keeps it even without persistence. */
  readonly persistenceEngine?: string;
  /** `-o`: one-packet scheduling (UDP). */
  readonly onePacket: boolean;
}

export type TunnelChecksum = 'nocsum' | 'csum' | 'remcsum';
export type Tunnel =
  | { readonly type: 'ipip' }
  | { readonly type: 'gue'; readonly port: number; readonly checksum: TunnelChecksum }
  | { readonly type: 'gre'; readonly checksum: 'nocsum' | 'csum' };

/** masq = NAT (`-m`), route = gatewaying/DR (`-g`), tunnel = ipip/gue/gre (`-i`). */
export type Forwarding =
  | { readonly method: 'masq' }
  | { readonly method: 'route' }
  | { readonly method: 'tunnel'; readonly tunnel: Tunnel };

export const MASQ: Forwarding = { method: 'masq' };
export const ROUTE: Forwarding = { method: 'route' };
export const IPIP: Forwarding = { method: 'tunnel', tunnel: { type: 'ipip' } };

export interface DestinationAddress {
  readonly address: string;
  readonly port: number;
}

export interface Destination extends DestinationAddress {
  readonly forwarding: Forwarding;
  /** 0..2147483647; 0 = no new connections. */
  readonly weight: number;
  /** `-x`, 0 = none. */
  readonly upperThreshold: number;
  /** `-y`, 0 = none. */
  readonly lowerThreshold: number;
}

/** `tcp:198.18.0.10:80`, `udp:[2001:db8::1]:53`, `fwm:1`, `fwm6:1`. */
export type ServiceKey = string;
/** `198.18.1.11:80`, `[2001:db8::11]:80`. */
export type DestinationKey = string;

export interface ServiceEntry {
  readonly service: Service;
  readonly destinations: ReadonlyMap<DestinationKey, Destination>;
}

export interface Table {
  readonly services: ReadonlyMap<ServiceKey, ServiceEntry>;
}

export const EMPTY_TABLE: Table = { services: new Map() };

export function serviceKey(id: ServiceId): ServiceKey {
  if (id.kind === 'fwmark') return `${id.family === 'inet6' ? 'fwm6' : 'fwm'}:${id.fwmark}`;
  return `${id.protocol}:${formatEndpoint(id.address, id.port)}`;
}

export function destinationKey(d: DestinationAddress): DestinationKey {
  return formatEndpoint(d.address, d.port);
}

export function serviceFamily(id: ServiceId): Family {
  return id.kind === 'fwmark' ? id.family : addressFamily(id.address);
}

function mustCanonical(address: string, what: string): string {
  const canonical = canonicalAddress(address);
  if (canonical === undefined) {
    throw new LvsdError('IPVS_INVALID', `${what}: not an IP address: ${JSON.stringify(address)}`);
  }
  return canonical;
}

export interface ServiceInit {
  readonly scheduler?: Scheduler;
  readonly schedFlags?: readonly SchedFlag[];
  readonly persistence?: Persistence;
  readonly persistenceEngine?: string;
  readonly onePacket?: boolean;
}

/** A service with ipvsadm's defaults (wlc, no flags, no persistence); canonicalises the VIP. */
export function makeService(
  id: { protocol: Protocol; address: string; port: number } | { fwmark: number; family?: Family },
  init: ServiceInit = {},
): Service {
  const sid: ServiceId =
    'fwmark' in id
      ? { kind: 'fwmark', fwmark: id.fwmark, family: id.family ?? 'inet' }
      : {
          kind: 'address',
          protocol: id.protocol,
          address: mustCanonical(id.address, 'virtual server'),
          port: id.port,
        };
  const flags = [...new Set(init.schedFlags ?? [])].sort((a, b) => a - b);
  return {
    id: sid,
    scheduler: init.scheduler ?? 'wlc',
    schedFlags: flags,
    ...(init.persistence === undefined ? {} : { persistence: init.persistence }),
    ...(init.persistenceEngine === undefined ? {} : { persistenceEngine: init.persistenceEngine }),
    onePacket: init.onePacket ?? false,
  };
}

/** A destination with ipvsadm's `-a` defaults (DR, weight 1); canonicalises the address. */
export function makeDestination(
  d: DestinationAddress & Partial<Omit<Destination, 'address' | 'port'>>,
): Destination {
  return {
    address: mustCanonical(d.address, 'real server'),
    port: d.port,
    forwarding: d.forwarding ?? ROUTE,
    weight: d.weight ?? 1,
    upperThreshold: d.upperThreshold ?? 0,
    lowerThreshold: d.lowerThreshold ?? 0,
  };
}

export function serviceIdEquals(a: ServiceId, b: ServiceId): boolean {
  return serviceKey(a) === serviceKey(b);
}

export function serviceEquals(a: Service, b: Service): boolean {
  return (
    serviceIdEquals(a.id, b.id) &&
    a.scheduler === b.scheduler &&
    a.schedFlags.length === b.schedFlags.length &&
    a.schedFlags.every((f, i) => b.schedFlags[i] === f) &&
    a.persistence?.timeout === b.persistence?.timeout &&
    a.persistence?.netmask === b.persistence?.netmask &&
    a.persistenceEngine === b.persistenceEngine &&
    a.onePacket === b.onePacket
  );
}

export function forwardingEquals(a: Forwarding, b: Forwarding): boolean {
  if (a.method !== 'tunnel' || b.method !== 'tunnel') return a.method === b.method;
  const [ta, tb] = [a.tunnel, b.tunnel];
  if (ta.type === 'ipip' || tb.type === 'ipip') return ta.type === tb.type;
  if (ta.type === 'gue')
    return tb.type === 'gue' && ta.port === tb.port && ta.checksum === tb.checksum;
  return tb.type === 'gre' && ta.checksum === tb.checksum;
}

export function destinationEquals(a: Destination, b: Destination): boolean {
  return (
    a.address === b.address &&
    a.port === b.port &&
    forwardingEquals(a.forwarding, b.forwarding) &&
    a.weight === b.weight &&
    a.upperThreshold === b.upperThreshold &&
    a.lowerThreshold === b.lowerThreshold
  );
}

export function tableEquals(a: Table, b: Table): boolean {
  if (a.services.size !== b.services.size) return false;
  for (const [key, ea] of a.services) {
    const eb = b.services.get(key);
    if (eb === undefined || !serviceEquals(ea.service, eb.service)) return false;
    if (ea.destinations.size !== eb.destinations.size) return false;
    for (const [dkey, da] of ea.destinations) {
      const db = eb.destinations.get(dkey);
      if (db === undefined || !destinationEquals(da, db)) return false;
    }
  }
  return true;
}

const PROTOCOL_NUMBER: Record<Protocol, number> = { tcp: 6, udp: 17, sctp: 132 };

/** ipvsadm's order: fwmark (0 first), family (IPv4 first), protocol, address, port. */
export function compareServiceIds(a: ServiceId, b: ServiceId): number {
  const fa = a.kind === 'fwmark' ? a.fwmark : 0;
  const fb = b.kind === 'fwmark' ? b.fwmark : 0;
  // ipvsadm compares fwmarks as (int)(a - b): marks of 2^31 and more sort before all others.
  const byMark = (fa - fb) | 0;
  if (byMark !== 0) return byMark;
  const famA = serviceFamily(a);
  const famB = serviceFamily(b);
  if (famA !== famB) return famA === 'inet' ? -1 : 1;
  if (a.kind !== 'address' || b.kind !== 'address') return 0;
  const p = PROTOCOL_NUMBER[a.protocol] - PROTOCOL_NUMBER[b.protocol];
  if (p !== 0) return p;
  return compareAddresses(a.address, b.address) || a.port - b.port;
}

export function compareDestinations(a: DestinationAddress, b: DestinationAddress): number {
  return compareAddresses(a.address, b.address) || a.port - b.port;
}

/** Services in ipvsadm's order, each with its destinations in ipvsadm's order. */
export function sortedEntries(table: Table): { service: Service; destinations: Destination[] }[] {
  return [...table.services.values()]
    .sort((x, y) => compareServiceIds(x.service.id, y.service.id))
    .map((e) => ({
      service: e.service,
      destinations: [...e.destinations.values()].sort(compareDestinations),
    }));
}

/** Builds a table from a list; duplicate keys are refused with the key named. */
export function buildTable(
  entries: readonly { service: Service; destinations?: readonly Destination[] }[],
): Table {
  const services = new Map<ServiceKey, ServiceEntry>();
  for (const entry of entries) {
    const key = serviceKey(entry.service.id);
    if (services.has(key)) throw new LvsdError('IPVS_INVALID', `duplicate virtual server ${key}`);
    const destinations = new Map<DestinationKey, Destination>();
    for (const d of entry.destinations ?? []) {
      const dkey = destinationKey(d);
      if (destinations.has(dkey)) {
        throw new LvsdError('IPVS_INVALID', `duplicate real server ${dkey} in ${key}`);
      }
      destinations.set(dkey, d);
    }
    services.set(key, { service: entry.service, destinations });
  }
  return { services };
}

/** A copy of `table` with `entry` set (or removed when undefined). Leaves `table` untouched. */
export function withEntry(table: Table, key: ServiceKey, entry: ServiceEntry | undefined): Table {
  const services = new Map(table.services);
  if (entry === undefined) services.delete(key);
  else services.set(key, entry);
  return { services };
}
