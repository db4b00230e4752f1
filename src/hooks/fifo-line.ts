/**
 * The notify FIFO's line format, as keepalived writes it (vrrp_notify.c, ipwrapper.c), so that
 * existing FIFO readers parse lvsd's lines unchanged:
 *
 *   INSTANCE "VI_1" MASTER 100          a VRRP instance's new state and effective priority
 *   INSTANCE "VI_1" MASTER_PRIORITY 90  its effective priority changed (BACKUP_PRIORITY in backup)
 *   GROUP "G1" BACKUP 0                 a sync group's new state (priority is always 0)
 *   VS [198.18.0.10]:tcp:80 UP          a virtual server's quorum
 *   RS [198.18.1.11]:tcp:80 [198.18.0.10]:tcp:80 DOWN   a real server, then its virtual server
 *
 * Pure: names in, lines out.
 */
import type { Protocol, ServiceKey, VirtualServerConfig } from '../config/types.js';

export type KeepalivedState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

/** lvsd's VRRP state names (src/vrrp/fsm.ts) → keepalived's; INIT has no notify. */
export function keepalivedState(state: string): KeepalivedState | undefined {
  switch (state) {
    case 'master':
      return 'MASTER';
    case 'backup':
      return 'BACKUP';
    case 'fault':
      return 'FAULT';
    case 'stopped':
      return 'STOP';
    default:
      return undefined;
  }
}

export function vrrpStateLine(
  type: 'INSTANCE' | 'GROUP',
  name: string,
  state: KeepalivedState,
  priority: number,
): string {
  return `${type} "${name}" ${state} ${type === 'GROUP' ? 0 : priority}\n`;
}

export function vrrpPriorityLine(name: string, master: boolean, priority: number): string {
  return `INSTANCE "${name}" ${master ? 'MASTER_PRIORITY' : 'BACKUP_PRIORITY'} ${priority}\n`;
}

/** keepalived's inet_sockaddrtotrio: `[ADDR]:PROTO:PORT` (brackets for IPv4 too). */
function trio(address: string, protocol: Protocol | 'none', port: number): string {
  return `[${address}]:${protocol}:${port}`;
}

/** The protocol keepalived attaches to a virtual server: its service type, `none` if unset. */
function protocolOf(services: readonly ServiceKey[]): Protocol | 'none' {
  for (const s of services) if (s.kind === 'service') return s.protocol;
  return 'none';
}

/**
 * keepalived's FMT_VS: a `virtual_server group` is `[NAME]:0` (the group's own address is
 * unset), a fwmark is `FWM N`, an address is the trio.
 */
export function keepalivedVsName(vs: Pick<VirtualServerConfig, 'name' | 'services'>): string {
  if (vs.name.startsWith('group:')) return `[${vs.name.slice('group:'.length)}]:0`;
  const first = vs.services[0];
  if (first === undefined) return vs.name;
  if (first.kind === 'fwmark') return `FWM ${first.fwmark}`;
  return trio(first.address, first.protocol, first.port);
}

/** keepalived's FMT_RS: the real server's address and port with its virtual server's protocol. */
export function keepalivedRsName(
  vs: Pick<VirtualServerConfig, 'services'>,
  rs: { readonly address: string; readonly port: number },
): string {
  return trio(rs.address, protocolOf(vs.services), rs.port);
}

export function vsLine(vsName: string, up: boolean): string {
  return `VS ${vsName} ${up ? 'UP' : 'DOWN'}\n`;
}

export function rsLine(rsName: string, vsName: string, up: boolean): string {
  return `RS ${rsName} ${vsName} ${up ? 'UP' : 'DOWN'}\n`;
}
