/**
 * Address bytes ⇄ text for the advert codec, pure. Decoded addresses come back in one canonical
 * text, the one glibc's inet_ntop prints (lower case, the longest run of two or more zero groups
 * compressed, the first on a tie; IPv4-mapped and IPv4-compatible addresses in dotted form), so
 * the shell can compare them with the configured virtual addresses as strings. Zone ids
 * (`fe80::1%eth0`) are refused: a virtual address has none.
 */

const IPV4_PART = /^(?:0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The 4 bytes of a dotted IPv4 address, or undefined when the text is not one. */
export function ipv4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    // Leading zeros are refused, as inet_pton refuses them (elsewhere they read as octal).
    if (!IPV4_PART.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    out[i] = value;
  }
  return out;
}

function groupsOf(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = ipv4Bytes(part);
      if (!v4) return undefined;
      groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** The 16 bytes of an IPv6 address in any RFC 4291 text form, or undefined. */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  if (text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  // An embedded IPv4 address may only end the address.
  if (halves.length === 2 && (halves[0] ?? '').includes('.')) return undefined;
  const given = head.length + tail.length;
  if (halves.length === 2 ? given > 7 : given !== 8) return undefined;
  const groups = [...head, ...Array<number>(8 - given).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (const [i, g] of groups.entries()) {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  }
  return out;
}

export function formatIpv4(b: Uint8Array, at = 0): string {
  return `${b[at] ?? 0}.${b[at + 1] ?? 0}.${b[at + 2] ?? 0}.${b[at + 3] ?? 0}`;
}

export function formatIpv6(b: Uint8Array, at = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[at + 2 * i] ?? 0) << 8) | (b[at + 2 * i + 1] ?? 0));
  // The longest run of zero words (first on a tie), compressed only when two or more long.
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      cur = cur.base === -1 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
      if (cur.len > best.len) best = cur;
    } else {
      cur = { base: -1, len: 0 };
    }
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  const embedded = best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff));
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += '::';
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    if (i === 6 && embedded) {
      out += formatIpv4(b, at + 12);
      break;
    }
    out += (words[i] ?? 0).toString(16);
  }
  return out;
}

/** The canonical text of an address of the given family, or undefined when it is not one. */
export function canonicalAddress(text: string, family: 4 | 6): string | undefined {
  const bytes = family === 4 ? ipv4Bytes(text) : ipv6Bytes(text);
  if (!bytes) return undefined;
  return family === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
}
