/**
 * The link port: an interface's addresses (the VRRP tie-break and advert source) and whether
 * its link is usable (track_interface, and an instance's own interface). Reads are synchronous
 * and cheap — os.networkInterfaces() and one small sysfs file — so tracking can poll them.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { ipv4Bytes, ipv6Bytes } from '../wire/address.js';
import { canonicalAddress } from './vip.js';

export interface LinkPort {
  /** The addresses of `family` on `dev` in kernel order; [] when `dev` does not exist. */
  addresses(dev: string, family: 4 | 6): readonly string[];
  /**
   * Whether `address` (a datagram's source, IPv6 possibly with a zone) is on `dev`'s link: in
   * one of its subnets, or IPv6 link-local scoped to it.
   */
  onLink(dev: string, address: string): boolean;
  /** Up and running (as keepalived checks: IFF_UP and IFF_RUNNING); false when it does not exist. */
  linkUp(dev: string): boolean;
}

const IFF_UP = 0x1;
const SAFE_NAME = /^[^\s/%]{1,15}$/;

/** How long the interface list is reused: onLink runs for every advert received. */
const INTERFACES_TTL_MS = 1_000;

/** The host's interfaces, seen from this process's network namespace. */
export class SystemLinks implements LinkPort {
  private cached: { at: number; value: ReturnType<typeof networkInterfaces> } | undefined;

  /** os.networkInterfaces() costs a getifaddrs() and an object per address: not per packet. */
  private interfaces(): ReturnType<typeof networkInterfaces> {
    const now = performance.now();
    if (!this.cached || now - this.cached.at > INTERFACES_TTL_MS)
      this.cached = { at: now, value: networkInterfaces() };
    return this.cached.value;
  }

  addresses(dev: string, family: 4 | 6): readonly string[] {
    // Fresh: called when an instance starts, and a VIP just added must not be taken for ours.
    this.cached = undefined;
    const list = this.interfaces()[dev] ?? [];
    const want = family === 4 ? 'IPv4' : 'IPv6';
    return list
      .filter((a) => a.family === want)
      .map((a) => canonicalAddress(a.address.split('%')[0] ?? a.address) ?? a.address);
  }

  onLink(dev: string, address: string): boolean {
    const [bare = '', zone] = address.split('%');
    if (zone !== undefined && bare.toLowerCase().startsWith('fe80:')) return zone === dev;
    return (this.interfaces()[dev] ?? []).some((a) => a.cidr !== null && inSubnet(bare, a.cidr));
  }

  linkUp(dev: string): boolean {
    if (!SAFE_NAME.test(dev)) return false;
    try {
      // sysfs `flags` never shows IFF_RUNNING; `operstate` is the kernel's RFC 2863 view of
      // it: `up` when up and running, `unknown` for drivers without carrier (lo, dummy, tun).
      const state = readFileSync(`/sys/class/net/${dev}/operstate`, 'latin1').trim();
      if (state === 'up') return true;
      if (state !== 'unknown') return false;
      const flags = parseInt(readFileSync(`/sys/class/net/${dev}/flags`, 'latin1').trim(), 16);
      return (flags & IFF_UP) !== 0;
    } catch {
      return false;
    }
  }
}

/** `address` lies in `cidr` (same family; an unparsable one never does). */
export function inSubnet(address: string, cidr: string): boolean {
  const [net = '', len = ''] = cidr.split('/');
  const v6 = net.includes(':');
  const a = v6 ? ipv6Bytes(address) : ipv4Bytes(address);
  const n = v6 ? ipv6Bytes(net) : ipv4Bytes(net);
  const bits = Number(len);
  if (!a || !n || !Number.isInteger(bits) || bits < 0 || bits > a.length * 8) return false;
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> (i % 8);
    if (((a[i >> 3] ?? 0) & mask) !== ((n[i >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

/** A twin for tests: interfaces and their state are set by hand. */
export class MemoryLinks implements LinkPort {
  private readonly links = new Map<string, { up: boolean; addresses: string[] }>();

  set(dev: string, addresses: readonly string[], up = true): this {
    this.links.set(dev, { up, addresses: [...addresses] });
    return this;
  }

  setUp(dev: string, up: boolean): void {
    const l = this.links.get(dev);
    if (l) l.up = up;
  }

  addresses(dev: string, family: 4 | 6): readonly string[] {
    return (this.links.get(dev)?.addresses ?? [])
      .filter((a) => a.includes(':') === (family === 6))
      .map((a) => a.split('/')[0] ?? a);
  }

  /** Addresses are given as `ADDR/LEN`; a bare address is its own /32 or /128. */
  onLink(dev: string, address: string): boolean {
    const bare = address.split('%')[0] ?? address;
    return (this.links.get(dev)?.addresses ?? []).some((a) =>
      inSubnet(bare, a.includes('/') ? a : `${a}/${a.includes(':') ? 128 : 32}`),
    );
  }

  linkUp(dev: string): boolean {
    return this.links.get(dev)?.up ?? false;
  }
}
