/** IP address checks without I/O (node:net is off limits in the pure package). */

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return V4.test(s);
}

/** Canonical (RFC 5952) form of an IPv6 address, or undefined if it is not one. */
export function canonicalIPv6(s: string): string | undefined {
  if (!s.includes(':') || /[^0-9a-fA-F:.]/.test(s)) return undefined;
  try {
    const host = new URL(`http://[${s}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return undefined;
  }
}

export function addressFamily(s: string): 4 | 6 | undefined {
  if (isIPv4(s)) return 4;
  if (canonicalIPv6(s) !== undefined) return 6;
  return undefined;
}

/** Parses `ADDR[/LEN]`. */
export function parsePrefix(
  s: string,
): { address: string; family: 4 | 6; prefix?: number } | undefined {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const family = addressFamily(addr);
  if (!family) return undefined;
  if (slash < 0) return { address: addr, family };
  const len = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len)) return undefined;
  const prefix = Number(len);
  if (prefix > (family === 4 ? 32 : 128)) return undefined;
  return { address: addr, family, prefix };
}
