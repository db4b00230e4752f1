/**
 * ipvsadm's save format, pure: parse `ipvsadm -Sn` into a Table, render ops as `ipvsadm -R`
 * lines. Formats are those recorded from ipvsadm 1.31 on kernel 6.1 (shared/ipvs-vm/README.md).
 * Parsing never throws: each line it does not understand becomes an issue with its line number,
 * and a table is returned only when there are none (a half-read table must never drive deletes).
 */
import { canonicalIpv4Mask, formatEndpoint, parseEndpoint } from './address.js';
import type { Op } from './op.js';
import {
  SCHEDULERS,
  destinationKey,
  serviceKey,
  sortedEntries,
  type Destination,
  type DestinationKey,
  type Forwarding,
  type Persistence,
  type Protocol,
  type SchedFlag,
  type Scheduler,
  type Service,
  type ServiceId,
  type ServiceKey,
  type Table,
  type TunnelChecksum,
} from './table.js';

export interface TextIssue {
  /** 1-based. */
  readonly line: number;
  readonly text: string;
  readonly message: string;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly TextIssue[] };

/** Bounds on hostile input: a real line is < 200 characters. */
export const MAX_LINE_LENGTH = 4096;
export const MAX_ISSUES = 50;

const PROTOCOL_SWITCH: Record<Protocol, string> = { tcp: '-t', udp: '-u', sctp: '--sctp-service' };
const SWITCH_PROTOCOL: Readonly<Record<string, Protocol>> = {
  '-t': 'tcp',
  '-u': 'udp',
  '--sctp-service': 'sctp',
};
const CHECKSUMS: readonly TunnelChecksum[] = ['nocsum', 'csum', 'remcsum'];
const UINT = /^(?:0|[1-9]\d{0,9})$/;

// ---------------------------------------------------------------- rendering

function flagName(scheduler: Scheduler, flag: SchedFlag): string {
  if ((scheduler === 'sh' || scheduler === 'mh') && flag !== 3) {
    return `${scheduler}-${flag === 1 ? 'fallback' : 'port'}`;
  }
  return `flag-${flag}`;
}

function serviceSpec(id: ServiceId): string {
  if (id.kind === 'fwmark') return `-f ${id.fwmark}${id.family === 'inet6' ? ' -6' : ''}`;
  return `${PROTOCOL_SWITCH[id.protocol]} ${formatEndpoint(id.address, id.port)}`;
}

function serviceOptions(s: Service): string {
  let out = `-s ${s.scheduler}`;
  if (s.schedFlags.length > 0) {
    out += ` -b ${s.schedFlags.map((f) => flagName(s.scheduler, f)).join(',')}`;
  }
  if (s.persistence !== undefined) {
    out += ` -p ${s.persistence.timeout}`;
    if (s.persistence.netmask !== undefined) out += ` -M ${s.persistence.netmask}`;
  }
  if (s.persistenceEngine !== undefined) out += ` --pe ${s.persistenceEngine}`;
  if (s.onePacket) out += ' -o';
  return out;
}

function forwardingOptions(f: Forwarding): string {
  return f.method === 'masq' ? '-m' : f.method === 'route' ? '-g' : '-i';
}

function tunnelOptions(f: Forwarding): string {
  if (f.method !== 'tunnel') return '';
  const t = f.tunnel;
  if (t.type === 'ipip') return ' --tun-type ipip';
  const port = t.type === 'gue' ? ` --tun-port ${t.port}` : '';
  return ` --tun-type ${t.type}${port} --tun-${t.checksum}`;
}

/**
 * `-r RS -m -w W [-x U] [-y L] [--tun-...]`. The forwarding flag, the weight, the thresholds and
 * the tunnel options are always all given: `-e` resets each one that is missing (README "Traps";
 * thresholds and tun-type reset too, measured in the VM).
 */
function destinationOptions(d: Destination, withThresholds: boolean): string {
  let out = `-r ${formatEndpoint(d.address, d.port)} ${forwardingOptions(d.forwarding)} -w ${d.weight}`;
  if (withThresholds && d.upperThreshold !== 0) out += ` -x ${d.upperThreshold}`;
  if (withThresholds && d.lowerThreshold !== 0) out += ` -y ${d.lowerThreshold}`;
  return out + tunnelOptions(d.forwarding);
}

/** One `ipvsadm -R` line (always numeric, never a comment: `#` stops a restore). */
export function renderOp(op: Op): string {
  switch (op.kind) {
    case 'add-service':
      return `-A ${serviceSpec(op.service.id)} ${serviceOptions(op.service)}`;
    case 'edit-service':
      return `-E ${serviceSpec(op.service.id)} ${serviceOptions(op.service)}`;
    case 'delete-service':
      return `-D ${serviceSpec(op.serviceId)}`;
    case 'add-destination':
      return `-a ${serviceSpec(op.serviceId)} ${destinationOptions(op.destination, true)}`;
    case 'edit-destination':
      return `-e ${serviceSpec(op.serviceId)} ${destinationOptions(op.destination, true)}`;
    case 'delete-destination':
      return `-d ${serviceSpec(op.serviceId)} -r ${formatEndpoint(op.destination.address, op.destination.port)}`;
  }
}

/** The whole `ipvsadm -R` input for `ops`, one line each, newline-terminated. */
export function renderBatch(ops: readonly Op[]): string {
  return ops.map((op) => `${renderOp(op)}\n`).join('');
}

/**
 * The table as `ipvsadm -Sn` prints it (same order, same options). `-Sn` omits thresholds;
 * `{ thresholds: true }` adds `-x`/`-y`, which makes valid `-R` input that restores them too.
 */
export function renderSave(table: Table, options: { thresholds?: boolean } = {}): string {
  let out = '';
  for (const { service, destinations } of sortedEntries(table)) {
    out += `-A ${serviceSpec(service.id)} ${serviceOptions(service)}\n`;
    for (const d of destinations) {
      out += `-a ${serviceSpec(service.id)} ${destinationOptions(d, options.thresholds === true)}\n`;
    }
  }
  return out;
}

// ---------------------------------------------------------------- parsing

class LineError extends Error {}

function fail(message: string): never {
  throw new LineError(message);
}

/** Reads the tokens of one line; every accessor fails with a message ipvsadm users recognise. */
class Tokens {
  private index = 0;
  constructor(private readonly tokens: readonly string[]) {}
  next(): string | undefined {
    const t = this.tokens[this.index];
    this.index += 1;
    return t;
  }
  value(option: string): string {
    const v = this.next();
    if (v === undefined) fail(`option ${option} needs a value`);
    return v;
  }
  peekIsValue(): boolean {
    const t = this.tokens[this.index];
    return t !== undefined && !t.startsWith('-');
  }
}

function parseUint(text: string, what: string, min: number, max: number): number {
  if (!UINT.test(text) || Number(text) < min || Number(text) > max) {
    fail(`invalid ${what} ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** ipvsadm prints fwmarks with %d: marks above 2^31-1 come out negative. */
function parseFwmark(text: string): number {
  if (/^-[1-9]\d{0,9}$/.test(text) && Number(text) >= -2147483648) {
    return Number(text) + 4294967296;
  }
  return parseUint(text, 'fwmark', 1, 4294967295);
}

function parseSchedFlags(text: string | undefined, scheduler: Scheduler): SchedFlag[] {
  // `-s sh -b flag-3` is printed as `-b ` with nothing after it: read as no readable flags.
  if (text === undefined || text === '') return [];
  const flags = new Set<SchedFlag>();
  for (const name of text.split(',')) {
    const m = /^(?:(sh|mh)-(fallback|port)|flag-([123]))$/.exec(name);
    if (m === null) fail(`invalid scheduler flag ${JSON.stringify(name)}`);
    if (m[1] !== undefined && m[1] !== scheduler) {
      fail(`incompatible scheduler flag ${JSON.stringify(name)}`);
    }
    flags.add(m[3] !== undefined ? (Number(m[3]) as SchedFlag) : m[2] === 'fallback' ? 1 : 2);
  }
  return [...flags].sort((a, b) => a - b);
}

function parseServiceId(tokens: Tokens, first: string): ServiceId {
  const protocol = SWITCH_PROTOCOL[first];
  if (protocol !== undefined) {
    const text = tokens.value(first);
    const ep = parseEndpoint(text);
    if (ep === undefined) fail(`illegal virtual server address[:port] ${JSON.stringify(text)}`);
    return { kind: 'address', protocol, address: ep.address, port: ep.port };
  }
  if (first === '-f') {
    const fwmark = parseFwmark(tokens.value('-f'));
    return { kind: 'fwmark', fwmark, family: 'inet' };
  }
  fail(`expected -t, -u, --sctp-service or -f, found ${JSON.stringify(first)}`);
}

/** `-f N` may be followed by `-6` (before or after other options, as ipvsadm allows). */
function withFamily6(id: ServiceId): ServiceId {
  if (id.kind !== 'fwmark') fail('-6 applies to fwmark services only');
  return { ...id, family: 'inet6' };
}

function parseServiceLine(tokens: Tokens): Service {
  let id = parseServiceId(tokens, tokens.value('-A'));
  let scheduler: Scheduler | undefined;
  let flagsText: string | undefined;
  let timeout: number | undefined;
  let netmask: string | undefined;
  let engine: string | undefined;
  let onePacket = false;
  for (let t = tokens.next(); t !== undefined; t = tokens.next()) {
    if (t === '-6') id = withFamily6(id);
    else if (t === '-s') {
      const name = tokens.value('-s');
      if (!(SCHEDULERS as readonly string[]).includes(name)) {
        fail(`unknown scheduler ${JSON.stringify(name)}`);
      }
      scheduler = name as Scheduler;
    } else if (t === '-b') flagsText = tokens.peekIsValue() ? tokens.value('-b') : '';
    else if (t === '-p') timeout = parseUint(tokens.value('-p'), 'persistence timeout', 1, 2678400);
    else if (t === '-M') netmask = tokens.value('-M');
    else if (t === '--pe') engine = tokens.value('--pe');
    else if (t === '-o') onePacket = true;
    else fail(`unexpected ${JSON.stringify(t)}`);
  }
  if (scheduler === undefined) fail('service without a scheduler (-s)');
  let persistence: Persistence | undefined;
  if (timeout !== undefined) {
    const mask = netmask === undefined ? undefined : parseMask(id, netmask);
    persistence = { timeout, ...(mask === undefined ? {} : { netmask: mask }) };
  } else if (netmask !== undefined) fail('-M without -p');
  return {
    id,
    scheduler,
    schedFlags: parseSchedFlags(flagsText, scheduler),
    ...(persistence === undefined ? {} : { persistence }),
    ...(engine === undefined ? {} : { persistenceEngine: engine }),
    onePacket,
  };
}

function parseMask(id: ServiceId, text: string): string | undefined {
  const v6 = id.kind === 'fwmark' ? id.family === 'inet6' : id.address.includes(':');
  if (v6) {
    const prefix = parseUint(text, 'ipv6 netmask', 1, 128);
    // The host mask is the default and the model spells it as absent.
    return prefix === 128 ? undefined : String(prefix);
  }
  const mask = canonicalIpv4Mask(text);
  if (mask === undefined) fail(`invalid netmask ${JSON.stringify(text)}`);
  return mask === '255.255.255.255' ? undefined : mask;
}

function parseDestinationLine(tokens: Tokens): { id: ServiceId; destination: Destination } {
  let id = parseServiceId(tokens, tokens.value('-a'));
  let endpoint: { address: string; port: number } | undefined;
  let method: 'masq' | 'route' | 'tunnel' | undefined;
  let weight: number | undefined;
  let upper = 0;
  let lower = 0;
  let tunType: string | undefined;
  let tunPort: number | undefined;
  let checksum: TunnelChecksum | undefined;
  for (let t = tokens.next(); t !== undefined; t = tokens.next()) {
    if (t === '-6') id = withFamily6(id);
    else if (t === '-r') {
      const text = tokens.value('-r');
      endpoint = parseEndpoint(text);
      if (endpoint === undefined)
        fail(`illegal real server address[:port] ${JSON.stringify(text)}`);
    } else if (t === '-m' || t === '-g' || t === '-i') {
      if (method !== undefined) fail('more than one forwarding method');
      method = t === '-m' ? 'masq' : t === '-g' ? 'route' : 'tunnel';
    } else if (t === '-w') weight = parseUint(tokens.value('-w'), 'weight', 0, 2147483647);
    else if (t === '-x') upper = parseUint(tokens.value('-x'), 'u_threshold', 0, 2147483647);
    else if (t === '-y') lower = parseUint(tokens.value('-y'), 'l_threshold', 0, 2147483647);
    else if (t === '--tun-type') tunType = tokens.value('--tun-type');
    else if (t === '--tun-port')
      tunPort = parseUint(tokens.value('--tun-port'), 'tunnel port', 1, 65535);
    else if (t.startsWith('--tun-') && CHECKSUMS.includes(t.slice(6) as TunnelChecksum)) {
      checksum = t.slice(6) as TunnelChecksum;
    } else fail(`unexpected ${JSON.stringify(t)}`);
  }
  if (endpoint === undefined) fail('real server without -r');
  if (weight === undefined) fail('real server without -w');
  return {
    id,
    destination: {
      ...endpoint,
      forwarding: buildForwarding(method ?? 'route', tunType, tunPort, checksum),
      weight,
      upperThreshold: upper,
      lowerThreshold: lower,
    },
  };
}

function buildForwarding(
  method: 'masq' | 'route' | 'tunnel',
  type: string | undefined,
  port: number | undefined,
  checksum: TunnelChecksum | undefined,
): Forwarding {
  if (method !== 'tunnel') {
    if (type !== undefined || port !== undefined || checksum !== undefined) {
      fail('Tunnel options conflict with forward method');
    }
    return { method };
  }
  if (type === undefined || type === 'ipip') {
    if (port !== undefined || checksum !== undefined) fail('tunnel options on an ipip tunnel');
    return { method, tunnel: { type: 'ipip' } };
  }
  if (type === 'gue') {
    if (port === undefined)
      fail("You need to supply the 'tun-port' option for the 'gue' tunnel type");
    return { method, tunnel: { type, port, checksum: checksum ?? 'nocsum' } };
  }
  if (type === 'gre') {
    if (port !== undefined || checksum === 'remcsum') fail('invalid options for a gre tunnel');
    return { method, tunnel: { type, checksum: checksum ?? 'nocsum' } };
  }
  fail(`unknown tunnel type ${JSON.stringify(type)}`);
}

/** Splits output into lines, dropping one final newline; bounded in line length. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Parses `ipvsadm -Sn` (or `renderSave` output) into a Table. */
export function parseSave(text: string): ParseResult<Table> {
  const issues: TextIssue[] = [];
  const services = new Map<
    ServiceKey,
    { service: Service; destinations: Map<DestinationKey, Destination> }
  >();
  const lines = splitLines(text);
  for (const [index, raw] of lines.entries()) {
    if (issues.length >= MAX_ISSUES) break;
    const line = raw.trim();
    if (line === '') continue;
    const issue = (message: string): void => {
      issues.push({ line: index + 1, text: raw.slice(0, 200), message });
    };
    if (raw.length > MAX_LINE_LENGTH) {
      issue(`line longer than ${MAX_LINE_LENGTH} characters`);
      continue;
    }
    try {
      const tokens = new Tokens(line.split(/\s+/));
      const command = tokens.next();
      if (command === '-A') {
        const service = parseServiceLine(tokens);
        const key = serviceKey(service.id);
        if (services.has(key)) fail(`service ${key} listed twice`);
        services.set(key, { service, destinations: new Map() });
      } else if (command === '-a') {
        const { id, destination } = parseDestinationLine(tokens);
        const entry = services.get(serviceKey(id));
        if (entry === undefined) fail(`real server of ${serviceKey(id)} before its service`);
        const dkey = destinationKey(destination);
        if (entry.destinations.has(dkey)) fail(`real server ${dkey} listed twice`);
        entry.destinations.set(dkey, destination);
      } else {
        fail(`expected -A or -a, found ${JSON.stringify(command)}`);
      }
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      issue(error.message);
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: { services } };
}
