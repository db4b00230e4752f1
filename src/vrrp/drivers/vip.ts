/**
 * The VIP port: the addresses a VRRP instance moves (keepalived's `virtual_ipaddress` and
 * `virtual_ipaddress_excluded`), put on and taken off an interface. Narrow on purpose: list,
 * add, remove, has. `add` of an address that is there and `remove` of one that is not are not
 * errors (a takeover or a release may be repeated); each says whether it changed anything.
 *
 * Two implementations: `vip-iproute.ts` (`ip addr` through execa) and `vip-memory.ts` (a twin
 * that keeps state per device and fails the way `ip` does).
 */
import { LvsdError } from '../../lib/errors.js';

export type AddressFamily = 4 | 6;

/** keepalived's `scope` words (`ip addr` accepts the same, or a number). */
export type AddressScope = 'global' | 'site' | 'link' | 'host' | 'nowhere';

/** One `virtual_ipaddress` line: `ADDR[/LEN] [brd A] [dev IF] [scope S] [label L] [peer P[/LEN]] [noprefixroute] [-nodad]`. */
export interface VipAddress {
  /** IPv4 dotted quad or IPv6 text; compared in canonical form. */
  readonly address: string;
  /** keepalived's default is the host prefix: 32 for IPv4, 128 for IPv6. */
  readonly prefixLength: number;
  /** Always explicit: the driver never guesses an interface. */
  readonly dev: string;
  readonly broadcast?: string;
  readonly scope?: AddressScope;
  /** IPv4 only (an `ip addr` label must start with the device name, e.g. `eth0:vip`). */
  readonly label?: string;
  /** Point-to-point peer, `ADDR` or `ADDR/LEN`. */
  readonly peer?: string;
  readonly noPrefixRoute?: boolean;
  /**
   * IPv6: keepalived adds VIPs with `nodad` (usable at once, no duplicate-address detection)
   * unless the line says `-nodad`; `dad: true` is that `-nodad`.
   */
  readonly dad?: boolean;
}

/** An address as the kernel reports it on a device. */
export interface AssignedAddress {
  readonly dev: string;
  readonly family: AddressFamily;
  readonly address: string;
  readonly prefixLength: number;
  readonly scope: string;
  readonly label?: string;
  readonly broadcast?: string;
  readonly peer?: string;
  /** Kernel flags as `ip -j` names them: secondary, nodad, noprefixroute, tentative, dadfailed, … */
  readonly flags: readonly string[];
}

export interface ChangeResult {
  /** false: it was already so (added address present / removed address absent). */
  readonly changed: boolean;
}

export interface VipDriver {
  /** Every address on `dev` (IPv4 and IPv6, including ones lvsd did not add). */
  list(dev: string): Promise<readonly AssignedAddress[]>;
  add(vip: VipAddress): Promise<ChangeResult>;
  remove(vip: VipAddress): Promise<ChangeResult>;
  hasAddress(vip: VipAddress): Promise<boolean>;
}

export const VIP_ERROR_CODES = {
  /** The interface does not exist (`Cannot find device "X"`). */
  noDevice: 'VIP_NO_DEVICE',
  /** The address text cannot be an IPv4 or IPv6 address, or the prefix is out of range. */
  badAddress: 'VIP_BAD_ADDRESS',
  /** `ip -j` printed something that is not the JSON it documents. */
  parse: 'VIP_PARSE',
} as const;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function familyOf(address: string): AddressFamily | undefined {
  if (IPV4.test(address)) return 4;
  if (address.includes(':') && canonicalIpv6(address) !== undefined) return 6;
  return undefined;
}

/** IPv6 in the compressed lower-case form `ip` prints (RFC 5952), or undefined if invalid. */
function canonicalIpv6(address: string): string | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(address)) return undefined;
  try {
    const host = new URL(`http://[${address}]/`).hostname;
    return host.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** The canonical text of an address (what `ip` prints), or undefined if it is not one. */
export function canonicalAddress(address: string): string | undefined {
  if (IPV4.test(address)) return address;
  return canonicalIpv6(address);
}

/**
 * Checks a VipAddress and returns it with the address in canonical form; throws a coded error
 * naming the field otherwise. Drivers call it first, so both fail alike.
 */
export function normalizeVip(vip: VipAddress): VipAddress & { readonly family: AddressFamily } {
  const address = canonicalAddress(vip.address);
  const family = familyOf(vip.address);
  if (address === undefined || family === undefined) {
    throw new LvsdError(
      VIP_ERROR_CODES.badAddress,
      `virtual address ${JSON.stringify(vip.address)} is not an IPv4 or IPv6 address`,
    );
  }
  const max = family === 4 ? 32 : 128;
  if (!Number.isInteger(vip.prefixLength) || vip.prefixLength < 0 || vip.prefixLength > max) {
    throw new LvsdError(
      VIP_ERROR_CODES.badAddress,
      `prefix length of ${address} must be 0..${max}, got ${String(vip.prefixLength)}`,
    );
  }
  if (vip.dev === '' || /[\s/]/.test(vip.dev) || vip.dev.length > 15) {
    throw new LvsdError(
      VIP_ERROR_CODES.badAddress,
      `interface name ${JSON.stringify(vip.dev)} of ${address} is not a valid device name`,
    );
  }
  if (vip.label !== undefined && (family !== 4 || !vip.label.startsWith(vip.dev))) {
    throw new LvsdError(
      VIP_ERROR_CODES.badAddress,
      `label ${JSON.stringify(vip.label)} of ${address}: labels are IPv4 only and start with the device name (${vip.dev})`,
    );
  }
  return { ...vip, address, family };
}

/** `ADDR/LEN` for messages and keys. */
export function vipText(vip: Pick<VipAddress, 'address' | 'prefixLength' | 'dev'>): string {
  return `${vip.address}/${vip.prefixLength} dev ${vip.dev}`;
}

/**
 * Whether an assigned address is this VIP: same address and prefix length (the kernel keys IPv4
 * addresses by both; `ip addr del` needs both to match), and the same peer when one is set.
 */
export function sameAddress(assigned: AssignedAddress, vip: VipAddress): boolean {
  const address = canonicalAddress(vip.address);
  if (assigned.address !== address || assigned.prefixLength !== vip.prefixLength) return false;
  if (vip.peer === undefined) return assigned.peer === undefined;
  return assigned.peer === vip.peer.split('/')[0];
}

/**
 * Takes every VIP in `vips` off the interfaces that still hold one (a director entering BACKUP,
 * or stopping). Idempotent; returns the ones it actually removed, so the caller can log
 * "released a stale VIP". When to call it is the state machine's choice (ruling 14: a director
 * that starts holding the VIP and hears no better master keeps it).
 */
export async function releaseVips(
  driver: VipDriver,
  vips: readonly VipAddress[],
): Promise<VipAddress[]> {
  const removed: VipAddress[] = [];
  for (const vip of vips) {
    if ((await driver.remove(vip)).changed) removed.push(vip);
  }
  return removed;
}

/** Puts every VIP on (a takeover); returns the ones that were not there before. */
export async function claimVips(
  driver: VipDriver,
  vips: readonly VipAddress[],
): Promise<VipAddress[]> {
  const added: VipAddress[] = [];
  for (const vip of vips) {
    if ((await driver.add(vip)).changed) added.push(vip);
  }
  return added;
}
