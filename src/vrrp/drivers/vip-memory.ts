/**
 * The in-memory VIP twin. Keeps addresses per device and behaves like `ip addr` on Linux:
 * - a device must exist (`addDevice`), else the same VIP_NO_DEVICE error the real driver raises;
 * - IPv4 addresses are keyed by (address, prefix length): the same address with another prefix
 *   is a second address, as in the kernel; IPv6 by address alone (adding it again with another
 *   prefix is "already assigned");
 * - removing needs address and prefix (and peer) to match, else it is "not there" (no change);
 * - the first IPv4 address of a subnet is primary, later ones are `secondary`.
 * Tests can inject one failure per operation with `failNext`.
 */
import { LvsdError } from '../../lib/errors.js';
import {
  VIP_ERROR_CODES,
  normalizeVip,
  sameAddress,
  type AssignedAddress,
  type ChangeResult,
  type VipAddress,
  type VipDriver,
} from './vip.js';

type Op = 'list' | 'add' | 'remove';

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function sameSubnet(a: string, b: string, prefix: number): boolean {
  if (prefix === 0) return true;
  const shift = 32 - prefix;
  return Math.floor(ipv4ToInt(a) / 2 ** shift) === Math.floor(ipv4ToInt(b) / 2 ** shift);
}

export class MemoryVipDriver implements VipDriver {
  private readonly devices = new Map<string, AssignedAddress[]>();
  private readonly failures = new Map<Op, Error>();
  /** Every successful change, in order: `+198.18.0.10/32 dev eth0`, `-…`. */
  readonly log: string[] = [];

  constructor(devices: readonly string[] = []) {
    for (const d of devices) this.addDevice(d);
  }

  addDevice(dev: string): void {
    if (!this.devices.has(dev)) this.devices.set(dev, []);
  }

  /** Like `ip link del`: the device and its addresses go. */
  removeDevice(dev: string): void {
    this.devices.delete(dev);
  }

  /** The next call of `op` rejects with `error` (once). */
  failNext(op: Op, error: Error): void {
    this.failures.set(op, error);
  }

  private takeFailure(op: Op): void {
    const e = this.failures.get(op);
    if (e !== undefined) {
      this.failures.delete(op);
      throw e;
    }
  }

  private device(dev: string): AssignedAddress[] {
    const addrs = this.devices.get(dev);
    if (addrs === undefined) {
      throw new LvsdError(
        VIP_ERROR_CODES.noDevice,
        `interface ${dev} does not exist`,
        'check `interface` / `dev` in virtual_ipaddress',
      );
    }
    return addrs;
  }

  list(dev: string): Promise<readonly AssignedAddress[]> {
    return Promise.resolve().then(() => {
      this.takeFailure('list');
      return this.device(dev).map((a) => ({ ...a, flags: [...a.flags] }));
    });
  }

  add(vip: VipAddress): Promise<ChangeResult> {
    return Promise.resolve().then(() => {
      const v = normalizeVip(vip);
      this.takeFailure('add');
      const addrs = this.device(v.dev);
      const exists = addrs.some((a) =>
        v.family === 6
          ? a.family === 6 && a.address === v.address
          : a.family === 4 && a.address === v.address && a.prefixLength === v.prefixLength,
      );
      if (exists) return { changed: false };
      const secondary =
        v.family === 4 &&
        v.peer === undefined &&
        addrs.some(
          (a) =>
            a.family === 4 &&
            a.prefixLength === v.prefixLength &&
            sameSubnet(a.address, v.address, v.prefixLength),
        );
      const flags: string[] = [];
      if (secondary) flags.push('secondary');
      if (v.family === 6 && v.dad !== true) flags.push('nodad');
      if (v.noPrefixRoute === true) flags.push('noprefixroute');
      addrs.push({
        dev: v.dev,
        family: v.family,
        address: v.address,
        prefixLength: v.prefixLength,
        scope: v.scope ?? 'global',
        ...(v.family === 4 ? { label: v.label ?? v.dev } : {}),
        ...(v.broadcast === undefined ? {} : { broadcast: v.broadcast }),
        ...(v.peer === undefined ? {} : { peer: v.peer.split('/')[0] ?? v.peer }),
        flags,
      });
      this.log.push(`+${v.address}/${v.prefixLength} dev ${v.dev}`);
      return { changed: true };
    });
  }

  remove(vip: VipAddress): Promise<ChangeResult> {
    return Promise.resolve().then(() => {
      const v = normalizeVip(vip);
      this.takeFailure('remove');
      const addrs = this.device(v.dev);
      const i = addrs.findIndex((a) => sameAddress(a, v));
      if (i < 0) return { changed: false };
      addrs.splice(i, 1);
      this.log.push(`-${v.address}/${v.prefixLength} dev ${v.dev}`);
      return { changed: true };
    });
  }

  async hasAddress(vip: VipAddress): Promise<boolean> {
    const v = normalizeVip(vip);
    return (await this.list(v.dev)).some((a) => sameAddress(a, v));
  }
}
