/**
 * The real VIP driver: `ip addr` from iproute2 through execa (no shell), always with an
 * explicit `dev`. Reads with `ip -j addr show dev X` (JSON). `add`/`remove` treat "already
 * there" / "not there" as success, recognised by the exact messages `ip` prints for EEXIST and
 * EADDRNOTAVAIL: iproute2 ≥ 5.x with a kernel that sends extended acks prints
 * `Error: ipv4: Address already assigned.` / `Error: ipv4: Address not found.` (ipv6: lower-case
 * "address"), older ones `RTNETLINK answers: File exists` / `RTNETLINK answers: Cannot assign
 * requested address`. Anything else is an error with the command and its stderr.
 */
import { LvsdError } from '../../lib/errors.js';
import { commandFailed, runIp, type ToolOptions } from './run.js';
import {
  VIP_ERROR_CODES,
  normalizeVip,
  sameAddress,
  type AddressFamily,
  type AssignedAddress,
  type ChangeResult,
  type VipAddress,
  type VipDriver,
} from './vip.js';

export type IprouteVipOptions = ToolOptions;

const EXISTS = /^(RTNETLINK answers: File exists|Error: ipv[46]: [Aa]ddress already assigned\.)$/m;
const NOT_THERE =
  /^(RTNETLINK answers: Cannot assign requested address|Error: ipv[46]: [Aa]ddress not found\.)$/m;
const NO_DEVICE = /^(Cannot find device "(.*)"|Device "(.*)" does not exist\.)$/m;

function noDevice(dev: string, netns: string | undefined): LvsdError {
  const where = netns === undefined ? '' : ` in network namespace ${netns}`;
  return new LvsdError(
    VIP_ERROR_CODES.noDevice,
    `interface ${dev} does not exist${where}`,
    'check `interface` / `dev` in virtual_ipaddress',
  );
}

/** `ADDR/LEN [peer P] [broadcast B]` and the flags after `dev`, as keepalived's line has them. */
export function addArgs(vip: VipAddress): string[] {
  const v = normalizeVip(vip);
  const args = ['addr', 'add'];
  if (v.peer === undefined) args.push(`${v.address}/${v.prefixLength}`);
  else args.push(v.address, 'peer', v.peer.includes('/') ? v.peer : `${v.peer}/${v.prefixLength}`);
  if (v.broadcast !== undefined) args.push('broadcast', v.broadcast);
  args.push('dev', v.dev);
  if (v.label !== undefined) args.push('label', v.label);
  if (v.scope !== undefined) args.push('scope', v.scope);
  if (v.noPrefixRoute === true) args.push('noprefixroute');
  if (v.family === 6 && v.dad !== true) args.push('nodad');
  return args;
}

/** Only what the kernel matches on: address, prefix, peer (a label would have to match too). */
export function delArgs(vip: VipAddress): string[] {
  const v = normalizeVip(vip);
  const args = ['addr', 'del'];
  if (v.peer === undefined) args.push(`${v.address}/${v.prefixLength}`);
  else args.push(v.address, 'peer', v.peer.includes('/') ? v.peer : `${v.peer}/${v.prefixLength}`);
  args.push('dev', v.dev);
  return args;
}

interface JsonAddrInfo {
  family?: unknown;
  local?: unknown;
  address?: unknown;
  prefixlen?: unknown;
  scope?: unknown;
  label?: unknown;
  broadcast?: unknown;
  [flag: string]: unknown;
}

const NOT_FLAGS = new Set([
  'family',
  'local',
  'address',
  'prefixlen',
  'scope',
  'label',
  'broadcast',
  'valid_life_time',
  'preferred_life_time',
  'anycast',
]);

/** Parses `ip -j addr show dev X`; throws VIP_PARSE on anything else. */
export function parseAddrJson(text: string, dev: string): AssignedAddress[] {
  let links: unknown;
  try {
    links = JSON.parse(text);
  } catch (cause) {
    throw new LvsdError(VIP_ERROR_CODES.parse, `ip -j addr show dev ${dev}: not JSON`, undefined, {
      cause,
    });
  }
  if (!Array.isArray(links)) {
    throw new LvsdError(VIP_ERROR_CODES.parse, `ip -j addr show dev ${dev}: not a JSON array`);
  }
  const out: AssignedAddress[] = [];
  for (const link of links as unknown[]) {
    const infos = (link as { addr_info?: unknown }).addr_info;
    if (!Array.isArray(infos)) continue;
    for (const raw of infos as JsonAddrInfo[]) {
      const family: AddressFamily | undefined =
        raw.family === 'inet' ? 4 : raw.family === 'inet6' ? 6 : undefined;
      if (family === undefined) continue;
      if (typeof raw.local !== 'string' || typeof raw.prefixlen !== 'number') {
        throw new LvsdError(
          VIP_ERROR_CODES.parse,
          `ip -j addr show dev ${dev}: address entry without local/prefixlen`,
        );
      }
      const flags = Object.keys(raw).filter((k) => !NOT_FLAGS.has(k) && raw[k] === true);
      out.push({
        dev,
        family,
        address: raw.local,
        prefixLength: raw.prefixlen,
        scope:
          typeof raw.scope === 'string'
            ? raw.scope
            : typeof raw.scope === 'number'
              ? String(raw.scope)
              : 'global',
        ...(typeof raw.label === 'string' ? { label: raw.label } : {}),
        ...(typeof raw.broadcast === 'string' ? { broadcast: raw.broadcast } : {}),
        ...(typeof raw.address === 'string' && raw.address !== raw.local
          ? { peer: raw.address }
          : {}),
        flags,
      });
    }
  }
  return out;
}

export class IprouteVipDriver implements VipDriver {
  constructor(private readonly options: IprouteVipOptions = {}) {}

  async list(dev: string): Promise<readonly AssignedAddress[]> {
    const out = await runIp(this.options, ['-j', 'addr', 'show', 'dev', dev]);
    if (NO_DEVICE.test(out.stderr)) throw noDevice(dev, this.options.netns);
    if (out.exitCode !== 0) throw commandFailed(out);
    return parseAddrJson(out.stdout, dev);
  }

  async add(vip: VipAddress): Promise<ChangeResult> {
    const out = await runIp(this.options, addArgs(vip));
    if (out.exitCode === 0) return { changed: true };
    if (EXISTS.test(out.stderr)) return { changed: false };
    if (NO_DEVICE.test(out.stderr)) throw noDevice(vip.dev, this.options.netns);
    throw commandFailed(out);
  }

  async remove(vip: VipAddress): Promise<ChangeResult> {
    const out = await runIp(this.options, delArgs(vip));
    if (out.exitCode === 0) return { changed: true };
    if (NOT_THERE.test(out.stderr)) return { changed: false };
    if (NO_DEVICE.test(out.stderr)) throw noDevice(vip.dev, this.options.netns);
    throw commandFailed(out);
  }

  async hasAddress(vip: VipAddress): Promise<boolean> {
    const v = normalizeVip(vip);
    return (await this.list(v.dev)).some((a) => sameAddress(a, v));
  }
}
