/**
 * ipvsadm's list formats, pure: `-Ln` (Forward Weight ActiveConn InActConn),
 * `-Ln --thresholds` (Uthreshold Lthreshold ActiveConn InActConn), `-Ln --stats [--exact]` and
 * `-Ln --rate [--exact]`, as recorded in shared/ipvs-vm/README.md. The kind is read from the
 * header. Like the save parser it never throws and reports issues by line number.
 */
import { formatEndpoint, parseEndpoint } from './address.js';
import {
  MAX_ISSUES,
  MAX_LINE_LENGTH,
  splitLines,
  type ParseResult,
  type TextIssue,
} from './ipvsadm-text.js';
import {
  destinationKey,
  serviceKey,
  type DestinationKey,
  type Protocol,
  type ServiceId,
  type ServiceKey,
} from './table.js';

export type ListingKind = 'connections' | 'thresholds' | 'stats' | 'rate';

/** `--stats`: totals since the service was created (folded in by the kernel every 2 s). */
export interface TrafficStats {
  readonly conns: number;
  readonly inPackets: number;
  readonly outPackets: number;
  readonly inBytes: number;
  readonly outBytes: number;
}

/** `--rate`: per-second estimates. */
export interface TrafficRates {
  readonly cps: number;
  readonly inPps: number;
  readonly outPps: number;
  readonly inBps: number;
  readonly outBps: number;
}

export interface ListedDestination {
  readonly key: DestinationKey;
  readonly address: string;
  readonly port: number;
  /** `Masq`, `Route`, `Tunnel`, `Local` (connections listing only). */
  readonly forward?: string;
  readonly weight?: number;
  readonly upperThreshold?: number;
  readonly lowerThreshold?: number;
  readonly activeConns?: number;
  readonly inactiveConns?: number;
  readonly stats?: TrafficStats;
  readonly rates?: TrafficRates;
}

export interface ListedService {
  readonly key: ServiceKey;
  readonly id: ServiceId;
  /** Scheduler and flags text after the address (`wlc persistent 300`), when listed. */
  readonly detail?: string;
  readonly stats?: TrafficStats;
  readonly rates?: TrafficRates;
  readonly destinations: readonly ListedDestination[];
}

export interface Listing {
  readonly kind: ListingKind;
  readonly services: readonly ListedService[];
}

const HEADERS: readonly { kind: ListingKind; pattern: RegExp }[] = [
  {
    kind: 'thresholds',
    pattern: /^Prot LocalAddress:Port\s+Uthreshold Lthreshold ActiveConn InActConn\s*$/,
  },
  {
    kind: 'stats',
    pattern: /^Prot LocalAddress:Port\s+Conns\s+InPkts\s+OutPkts\s+InBytes\s+OutBytes\s*$/,
  },
  { kind: 'rate', pattern: /^Prot LocalAddress:Port\s+CPS\s+InPPS\s+OutPPS\s+InBPS\s+OutBPS\s*$/ },
  { kind: 'connections', pattern: /^Prot LocalAddress:Port Scheduler Flags\s*$/ },
];
const DEST_HEADERS: Readonly<Record<ListingKind, RegExp>> = {
  connections: /^ {2}-> RemoteAddress:Port\s+Forward Weight ActiveConn InActConn\s*$/,
  thresholds: /^ {2}-> RemoteAddress:Port\s*$/,
  stats: /^ {2}-> RemoteAddress:Port\s*$/,
  rate: /^ {2}-> RemoteAddress:Port\s*$/,
};
const PROTOCOLS: Readonly<Record<string, Protocol>> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };
const FORWARDS = new Set(['Masq', 'Route', 'Tunnel', 'Local', 'Bypass']);

class LineError extends Error {}
function fail(message: string): never {
  throw new LineError(message);
}

/**
 * A counter. Without `--exact` ipvsadm abbreviates values of 10^8 and more (`%8lluK`, M, G, T);
 * those are read back scaled (approximate). Values above 2^53 lose precision as numbers.
 */
function parseCount(text: string): number {
  const m = /^(\d{1,20})([KMGT]?)$/.exec(text);
  if (m === null) fail(`not a counter: ${JSON.stringify(text)}`);
  const scale = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * scale;
}

function parseInt32(text: string): number {
  if (!/^(?:0|[1-9]\d{0,9})$/.test(text) || Number(text) > 4294967295) {
    fail(`not a number: ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function fiveCounts(tokens: readonly string[]): number[] {
  if (tokens.length !== 5) fail(`expected 5 counters, found ${tokens.length}`);
  return tokens.map(parseCount);
}

function asStats(c: readonly number[]): TrafficStats {
  const [conns = 0, inPackets = 0, outPackets = 0, inBytes = 0, outBytes = 0] = c;
  return { conns, inPackets, outPackets, inBytes, outBytes };
}

function asRates(c: readonly number[]): TrafficRates {
  const [cps = 0, inPps = 0, outPps = 0, inBps = 0, outBps = 0] = c;
  return { cps, inPps, outPps, inBps, outBps };
}

interface MutableService {
  key: ServiceKey;
  id: ServiceId;
  detail?: string;
  stats?: TrafficStats;
  rates?: TrafficRates;
  destinations: ListedDestination[];
}

function parseServiceRow(kind: ListingKind, line: string): MutableService {
  const tokens = line.trim().split(/\s+/);
  const [prot, first] = tokens;
  let id: ServiceId;
  let rest: string[];
  if (prot === 'FWM') {
    const text = first ?? '';
    // %d: fwmarks above 2^31-1 print negative.
    if (!/^-?[1-9]\d{0,9}$/.test(text)) fail(`bad fwmark ${JSON.stringify(text)}`);
    const n = Number(text);
    const fwmark = n < 0 ? n + 4294967296 : n;
    const v6 = tokens[2] === 'IPv6';
    id = { kind: 'fwmark', fwmark, family: v6 ? 'inet6' : 'inet' };
    rest = tokens.slice(v6 ? 3 : 2);
  } else {
    const protocol = prot === undefined ? undefined : PROTOCOLS[prot];
    if (protocol === undefined) fail(`unknown protocol ${JSON.stringify(prot)}`);
    const ep = parseEndpoint(first ?? '');
    if (ep === undefined) fail(`bad virtual server ${JSON.stringify(first)}`);
    id = { kind: 'address', protocol, address: ep.address, port: ep.port };
    rest = tokens.slice(2);
  }
  const service: MutableService = { key: serviceKey(id), id, destinations: [] };
  if (kind === 'stats') service.stats = asStats(fiveCounts(rest));
  else if (kind === 'rate') service.rates = asRates(fiveCounts(rest));
  else {
    if (rest.length === 0) fail('service row without a scheduler');
    service.detail = rest.join(' ');
  }
  return service;
}

function parseDestinationRow(kind: ListingKind, line: string): ListedDestination {
  const tokens = line.trim().split(/\s+/).slice(1);
  const ep = parseEndpoint(tokens[0] ?? '');
  if (ep === undefined) fail(`bad real server ${JSON.stringify(tokens[0])}`);
  const cols = tokens.slice(1);
  const base = { key: destinationKey(ep), address: ep.address, port: ep.port };
  if (kind === 'stats') return { ...base, stats: asStats(fiveCounts(cols)) };
  if (kind === 'rate') return { ...base, rates: asRates(fiveCounts(cols)) };
  if (cols.length !== 4) fail(`expected 4 columns, found ${cols.length}`);
  const [a = '', b = '', c = '', d = ''] = cols;
  if (kind === 'thresholds') {
    return {
      ...base,
      upperThreshold: parseInt32(a),
      lowerThreshold: parseInt32(b),
      activeConns: parseInt32(c),
      inactiveConns: parseInt32(d),
    };
  }
  if (!FORWARDS.has(a)) fail(`unknown forwarding ${JSON.stringify(a)}`);
  return {
    ...base,
    forward: a,
    weight: parseInt32(b),
    activeConns: parseInt32(c),
    inactiveConns: parseInt32(d),
  };
}

/** Parses the output of `ipvsadm -Ln` and its `--thresholds`, `--stats`, `--rate` forms. */
export function parseListing(text: string): ParseResult<Listing> {
  const issues: TextIssue[] = [];
  const lines = splitLines(text);
  let kind: ListingKind | undefined;
  let sawDestHeader = false;
  const services: MutableService[] = [];
  for (const [index, raw] of lines.entries()) {
    if (issues.length >= MAX_ISSUES) break;
    try {
      if (raw.length > MAX_LINE_LENGTH) fail(`line longer than ${MAX_LINE_LENGTH} characters`);
      if (raw.trim() === '') continue;
      if (kind === undefined) {
        // The version line is absent from `-Ln -t VIP:PORT`.
        if (index === 0 && /^IP Virtual Server version \S+ \(size=\d+\)$/.test(raw)) continue;
        kind = HEADERS.find((h) => h.pattern.test(raw))?.kind;
        if (kind === undefined) fail('not an ipvsadm -Ln header');
        continue;
      }
      if (!sawDestHeader) {
        if (!DEST_HEADERS[kind].test(raw)) fail('expected the "  -> RemoteAddress:Port" header');
        sawDestHeader = true;
        continue;
      }
      if (raw.startsWith('  -> ')) {
        const service = services.at(-1);
        if (service === undefined) fail('real server row before any service');
        service.destinations.push(parseDestinationRow(kind, raw));
      } else {
        services.push(parseServiceRow(kind, raw));
      }
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      issues.push({ line: index + 1, text: raw.slice(0, 200), message: error.message });
    }
  }
  if (issues.length === 0 && (kind === undefined || !sawDestHeader)) {
    issues.push({ line: lines.length, text: '', message: 'incomplete ipvsadm -Ln header' });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: { kind: kind ?? 'connections', services } };
}

/** `TCP  198.18.0.10:80`-style label for messages. */
export function listedLabel(s: ListedService): string {
  return s.id.kind === 'fwmark' ? `FWM ${s.id.fwmark}` : formatEndpoint(s.id.address, s.id.port);
}
