/**
 * Server names as operators write them (ruling 9): a virtual server is `tcp:ADDR:PORT`,
 * `udp:…`, `sctp:…`, `fwm:N` or `group:NAME`, IPv6 in brackets; a real server is `ADDR:PORT`.
 * Metric labels, event subjects, the CLI and the lvsd block all use these names.
 */
import type { Family, Protocol } from './types.js';

export function hostPort(address: string, family: Family, port: number): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

export function serviceName(
  protocol: Protocol,
  address: string,
  family: Family,
  port: number,
): string {
  return `${protocol}:${hostPort(address, family, port)}`;
}

export function fwmarkName(mark: number): string {
  return `fwm:${mark}`;
}

export function groupName(name: string): string {
  return `group:${name}`;
}

export function realServerName(address: string, family: Family, port: number): string {
  return hostPort(address, family, port);
}
