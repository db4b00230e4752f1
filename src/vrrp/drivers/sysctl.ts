/**
 * Kernel settings a master depends on. An LVS-NAT director forwards between the client side and
 * the real servers, so `net.ipv4.ip_forward` must be 1 on the MASTER: with it off, IPVS still
 * rewrites the destination of the first packet, but the replies from the real servers (which
 * route through the DIP) are not forwarded back and every connection hangs. keepalived does
 * not check it; lvsd warns when it becomes MASTER of an instance that carries NAT traffic.
 *
 * Reading is netns-aware: in the process's own namespace from /proc/sys, else through
 * `ip netns exec NAME cat /proc/sys/...` (ip netns exec enters the namespace, so /proc/sys/net
 * shows that namespace's values).
 */
import { readFile } from 'node:fs/promises';
import { LvsdError } from '../../lib/errors.js';
import { DRIVER_ERROR_CODES, commandFailed, runTool, type ToolOptions } from './run.js';

export const SYSCTL_ERROR_CODES = {
  /** The key does not exist (a typo, or the module that provides it is not loaded). */
  unknownKey: 'SYSCTL_UNKNOWN_KEY',
} as const;

/** `net.ipv4.ip_forward` → `/proc/sys/net/ipv4/ip_forward` (dots become slashes). */
export function sysctlPath(key: string): string {
  if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_-]+)+$/.test(key)) {
    throw new LvsdError(SYSCTL_ERROR_CODES.unknownKey, `not a sysctl key: ${JSON.stringify(key)}`);
  }
  return `/proc/sys/${key.split('.').join('/')}`;
}

/** Reads one sysctl value (trimmed text). */
export async function readSysctl(key: string, options: ToolOptions = {}): Promise<string> {
  const path = sysctlPath(key);
  if (options.netns === undefined) {
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'ENOENT') {
        throw new LvsdError(SYSCTL_ERROR_CODES.unknownKey, `no sysctl ${key} (${path})`);
      }
      throw new LvsdError(DRIVER_ERROR_CODES.commandFailed, `cannot read ${path}`, undefined, {
        cause: e,
      });
    }
  }
  const out = await runTool(options, 'cat', [path]);
  if (out.exitCode !== 0) {
    if (/No such file or directory/.test(out.stderr)) {
      throw new LvsdError(
        SYSCTL_ERROR_CODES.unknownKey,
        `no sysctl ${key} in network namespace ${options.netns}`,
      );
    }
    throw commandFailed(out);
  }
  return out.stdout.trim();
}

export interface ForwardingContext {
  /** The VRRP instance (or sync group) that became MASTER, for the message. */
  readonly instance: string;
  /** Whether any virtual server it carries uses NAT (`lb_kind NAT`, keepalived's default). */
  readonly nat: boolean;
}

export const IP_FORWARD_WARNING_CODE = 'VRRP_IP_FORWARD_OFF';

/**
 * The warning text for a NAT master whose `net.ipv4.ip_forward` is not 1, or undefined when
 * all is well (forwarding on, or no NAT). Pure: the value comes from readSysctl.
 */
export function ipForwardWarning(value: string, ctx: ForwardingContext): string | undefined {
  if (!ctx.nat || value.trim() === '1') return undefined;
  return (
    `${ctx.instance} is MASTER for LVS-NAT virtual servers but net.ipv4.ip_forward is ` +
    `${JSON.stringify(value.trim())} (not 1): replies from the real servers will not be forwarded ` +
    `back to clients. Fix: sysctl -w net.ipv4.ip_forward=1 (and persist it in /etc/sysctl.d/)`
  );
}

/** Reads net.ipv4.ip_forward where `options` says and returns the warning, if any. */
export async function checkIpForward(
  ctx: ForwardingContext,
  options: ToolOptions = {},
): Promise<{ code: typeof IP_FORWARD_WARNING_CODE; message: string } | undefined> {
  const message = ipForwardWarning(await readSysctl('net.ipv4.ip_forward', options), ctx);
  return message === undefined ? undefined : { code: IP_FORWARD_WARNING_CODE, message };
}
