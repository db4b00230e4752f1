/**
 * IP address parsing and canonical text, pure. IPVS keys must compare equal when the addresses
 * are equal, so every address in a table is held in the text ipvsadm itself prints: glibc's
 * inet_ntop (RFC 5952 style: lower case, longest zero run compressed, never a single zero
 * group, IPv4-mapped and IPv4-compatible addresses in dotted form). Zone ids are refused: IPVS
 * has no use for link-local scopes.
 */

export type Family = 'inet' | 'inet6';

export interface ParsedAddress {
  readonly family: Family;
  /** 4 or 16 bytes, network order. */
  readonly bytes: readonly number[];
  /** The canonical text (without brackets). */
  readonly text: string;
}

const IPV4_PART = /^(?:0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4Bytes(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    // Leading zeros are refused, as inet_pton refuses them (they read as octal elsewhere).
    if (!IPV4_PART.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes.push(value);
  }
  return bytes;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (const [index, part] of parts.entries()) {
    if (index === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4Bytes(part);
      if (v4 === undefined) return undefined;
      groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else if (HEX_GROUP.test(part)) {
      groups.push(Number.parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

function parseIpv6Words(text: string): number[] | undefined {
  if (text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? '');
  if (head === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const tail = parseGroups(halves[1] ?? '');
  if (tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  // "::" stands for at least one zero group.
  if (missing < 1) return undefined;
  return [...head, ...Array.from({ length: missing }, () => 0), ...tail];
}

function formatIpv6(words: readonly number[]): string {
  // Find the longest run of zero words (first one wins a tie), as glibc does.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) bestStart = -1;
  const embedsIpv4 =
    bestStart === 0 && (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff));
  let out = '';
  for (let i = 0; i < 8; i += 1) {
    if (i === bestStart) {
      out += '::';
      i += bestLength - 1;
      continue;
    }
    if (embedsIpv4 && i === 6) {
      const hi = words[6] ?? 0;
      const lo = words[7] ?? 0;
      if (!out.endsWith(':')) out += ':';
      out += `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
      break;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += (words[i] ?? 0).toString(16);
  }
  return out;
}

/** Parses an IPv4 or IPv6 address (no brackets, no port); undefined when it is not one. */
export function parseAddress(text: string): ParsedAddress | undefined {
  if (text.includes(':')) {
    const words = parseIpv6Words(text);
    if (words === undefined) return undefined;
    const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
    return { family: 'inet6', bytes, text: formatIpv6(words) };
  }
  const bytes = parseIpv4Bytes(text);
  if (bytes === undefined) return undefined;
  return { family: 'inet', bytes, text: bytes.join('.') };
}

/** The canonical text of an address, or undefined when `text` is not an address. */
export function canonicalAddress(text: string): string | undefined {
  return parseAddress(text)?.text;
}

export function addressFamily(canonical: string): Family {
  return canonical.includes(':') ? 'inet6' : 'inet';
}

/** `198.18.0.10:80` or `[2001:db8::1]:80`. */
export function formatEndpoint(address: string, port: number): string {
  return addressFamily(address) === 'inet6' ? `[${address}]:${port}` : `${address}:${port}`;
}

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

const DECIMAL = /^(?:0|[1-9]\d{0,4})$/;

/** Parses `ADDR:PORT` / `[ADDR6]:PORT` into a canonical address and a port (0..65535). */
export function parseEndpoint(text: string): Endpoint | undefined {
  let host: string;
  let port: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    port = text.slice(close + 2);
    if (!host.includes(':')) return undefined;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = text.slice(0, colon);
    port = text.slice(colon + 1);
    if (host.includes(':')) return undefined;
  }
  if (!DECIMAL.test(port) || Number(port) > 65535) return undefined;
  const address = parseAddress(host);
  if (address === undefined) return undefined;
  return { address: address.text, port: Number(port) };
}

/** Orders addresses as ipvsadm sorts them: IPv4 before IPv6, then by bytes. */
export function compareAddresses(a: string, b: string): number {
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  if (pa === undefined || pb === undefined) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.family !== pb.family) return pa.family === 'inet' ? -1 : 1;
  for (let i = 0; i < pa.bytes.length; i += 1) {
    const d = (pa.bytes[i] ?? 0) - (pb.bytes[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** A dotted IPv4 netmask (any 32-bit value: the kernel does not insist on contiguous masks). */
export function canonicalIpv4Mask(text: string): string | undefined {
  const bytes = parseIpv4Bytes(text);
  return bytes === undefined ? undefined : bytes.join('.');
}
