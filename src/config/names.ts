/**
 * Server names as operators write them (ruling 9): a virtual server is `tcp:ADDR:PORT`,
 * `udp:…`, `sctp:…`, `fwm:N` or `group:NAME`, IPv6 in brackets; a real server is `ADDR:PORT`.
 * Metric labels, event subjects, the CLI and the lvsd block all use these names.
 */
import type { Family, Protocol } from './types.js';

// Names are made with join(), not template literals: a template builds a chain of cons strings
// (about 160 bytes for a name), join() one flat string (about 50). A config keeps one name per
// real server and per virtual server, and on 10,000 real servers the chains were a fifth of the
// config's memory, all of it copied by the young-generation collector.

export function hostPort(address: string, family: Family, port: number): string {
  return family === 6 ? ['[', address, ']:', port].join('') : [address, port].join(':');
}

export function serviceName(
  protocol: Protocol,
  address: string,
  family: Family,
  port: number,
): string {
  return family === 6
    ? [protocol, ':[', address, ']:', port].join('')
    : [protocol, address, port].join(':');
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
