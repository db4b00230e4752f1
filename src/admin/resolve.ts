/**
 * Server names as operators type them (ruling 9) → the configured servers, pure.
 *
 * A virtual server is `[tcp:|udp:|sctp:]ADDR:PORT`, `fwm:N` or `group:NAME`; IPv6 as
 * `[ADDR]:PORT`; a real server is `ADDR:PORT`. Addresses are compared in canonical form, so
 * `[2001:DB8:0::1]:80` finds `tcp:[2001:db8::1]:80`. Without a protocol the name matches any
 * protocol; when that is more than one virtual server the answer is AMBIGUOUS with the
 * candidates. An unknown name is NOT_FOUND with the closest names configured.
 */
import { editDistance } from '../lib/edit-distance.js';
import type { Config, Protocol, RealServerConfig, VirtualServerConfig } from '../config/types.js';
import { parseEndpoint, type Endpoint } from '../ipvs/address.js';

export interface ResolveError {
  readonly code: 'NOT_FOUND' | 'AMBIGUOUS' | 'BAD_NAME';
  readonly message: string;
  readonly hint?: string;
  readonly candidates?: readonly string[];
}

export type Resolved<T> = { ok: true; value: T } | { ok: false; error: ResolveError };

export type VsQuery =
  | { readonly kind: 'service'; readonly protocol?: Protocol; readonly endpoint: Endpoint }
  | { readonly kind: 'fwmark'; readonly fwmark: number }
  | { readonly kind: 'group'; readonly group: string };

const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];
const MAX_CANDIDATES = 8;

/** Parses a virtual server name; undefined when it is not one. */
export function parseVsName(text: string): VsQuery | undefined {
  const t = text.trim();
  const fwm = /^fwm:(0|[1-9]\d{0,9})$/i.exec(t);
  if (fwm) {
    const fwmark = Number(fwm[1]);
    return fwmark <= 0xffffffff ? { kind: 'fwmark', fwmark } : undefined;
  }
  const group = /^group:(.+)$/i.exec(t);
  if (group) return { kind: 'group', group: group[1] ?? '' };
  const prefixed = /^(tcp|udp|sctp):(.+)$/i.exec(t);
  const protocol = prefixed ? ((prefixed[1] ?? '').toLowerCase() as Protocol) : undefined;
  const endpoint = parseEndpoint(prefixed ? (prefixed[2] ?? '') : t);
  if (!endpoint) return undefined;
  return protocol ? { kind: 'service', protocol, endpoint } : { kind: 'service', endpoint };
}

/** The canonical text of a parsed virtual server name (`tcp:[2001:db8::1]:80`). */
export function formatVsQuery(q: VsQuery): string {
  switch (q.kind) {
    case 'fwmark':
      return `fwm:${q.fwmark}`;
    case 'group':
      return `group:${q.group}`;
    case 'service':
      return `${q.protocol ? `${q.protocol}:` : ''}${endpointText(q.endpoint)}`;
  }
}

export function resolveVirtualServer(config: Config, input: string): Resolved<VirtualServerConfig> {
  const q = parseVsName(input);
  if (!q) {
    return fail('BAD_NAME', `'${input}' is not a virtual server name`, {
      hint: 'write [tcp:|udp:|sctp:]ADDR:PORT, fwm:N or group:NAME (IPv6 as [ADDR]:PORT)',
    });
  }
  const all = config.virtualServers;
  const matches = all.filter((vs) => matchesVs(vs, q));
  if (matches.length === 1 && matches[0]) return { ok: true, value: matches[0] };
  if (matches.length > 1) {
    return fail(
      'AMBIGUOUS',
      `'${input}' names ${matches.length} virtual servers: ${matches.map((v) => v.name).join(', ')}`,
      { hint: 'add the protocol: tcp:, udp: or sctp:', candidates: matches.map((v) => v.name) },
    );
  }
  // A member of a virtual_server_group is addressed through its group.
  if (q.kind === 'service') {
    const groups = all.filter(
      (vs) => vs.name.startsWith('group:') && vs.services.some((s) => serviceMatches(s, q)),
    );
    if (groups.length > 0) {
      return fail(
        'NOT_FOUND',
        `'${input}' is part of ${groups.map((g) => g.name).join(', ')}: name the group`,
        { candidates: groups.map((g) => g.name) },
      );
    }
  }
  const candidates = closeVs(all, q, input);
  return fail('NOT_FOUND', `no virtual server '${formatVsQuery(q)}' in the configuration`, {
    ...(candidates.length > 0
      ? { hint: `did you mean ${candidates.join(', ')}?`, candidates }
      : { hint: 'lvsd status lists the configured virtual servers' }),
  });
}

export function resolveRealServer(
  vs: VirtualServerConfig,
  input: string,
): Resolved<RealServerConfig> {
  const endpoint = parseEndpoint(input.trim());
  if (!endpoint) {
    return fail('BAD_NAME', `'${input}' is not a real server name`, {
      hint: 'write ADDR:PORT (IPv6 as [ADDR]:PORT)',
    });
  }
  const hit = vs.realServers.find((rs) => sameEndpoint(rsEndpoint(rs), endpoint));
  if (hit) return { ok: true, value: hit };
  const near = vs.realServers.filter((rs) => {
    const e = rsEndpoint(rs);
    return e.address === endpoint.address || e.port === endpoint.port;
  });
  const list = (near.length > 0 ? near : vs.realServers)
    .slice(0, MAX_CANDIDATES)
    .map((r) => r.name);
  return fail('NOT_FOUND', `no real server ${endpointText(endpoint)} in ${vs.name}`, {
    ...(list.length > 0
      ? { hint: `${vs.name} has ${list.join(', ')}`, candidates: list }
      : { hint: `${vs.name} has no real servers` }),
  });
}

/** Both names at once: the virtual server first, then its real server. */
export function resolveServer(
  config: Config,
  vsInput: string,
  rsInput: string,
): Resolved<{ vs: VirtualServerConfig; rs: RealServerConfig }> {
  const vs = resolveVirtualServer(config, vsInput);
  if (!vs.ok) return vs;
  const rs = resolveRealServer(vs.value, rsInput);
  if (!rs.ok) return rs;
  return { ok: true, value: { vs: vs.value, rs: rs.value } };
}

function matchesVs(vs: VirtualServerConfig, q: VsQuery): boolean {
  const own = parseVsName(vs.name);
  if (!own) return vs.name === formatVsQuery(q);
  if (q.kind === 'group') return own.kind === 'group' && own.group === q.group;
  if (q.kind === 'fwmark') return own.kind === 'fwmark' && own.fwmark === q.fwmark;
  return (
    own.kind === 'service' &&
    sameEndpoint(own.endpoint, q.endpoint) &&
    (q.protocol === undefined || q.protocol === own.protocol)
  );
}

function serviceMatches(
  s: VirtualServerConfig['services'][number],
  q: Extract<VsQuery, { kind: 'service' }>,
): boolean {
  if (s.kind !== 'service') return false;
  const e = parseEndpoint(s.family === 6 ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`);
  return (
    e !== undefined &&
    sameEndpoint(e, q.endpoint) &&
    (q.protocol === undefined || q.protocol === s.protocol)
  );
}

/** Names that are probably what the operator meant: same address, same port, or a typo away. */
function closeVs(all: readonly VirtualServerConfig[], q: VsQuery, input: string): string[] {
  const scored: { name: string; score: number }[] = [];
  for (const vs of all) {
    const own = parseVsName(vs.name);
    let score = Infinity;
    const d = editDistance(vs.name.toLowerCase(), input.trim().toLowerCase());
    if (own?.kind === 'service' && q.kind === 'service') {
      // Same address and port (another protocol) first, then same address, then same port.
      if (sameEndpoint(own.endpoint, q.endpoint)) score = 0.5;
      else if (own.endpoint.address === q.endpoint.address) score = 1 + d / 1000;
      else if (own.endpoint.port === q.endpoint.port) score = 2 + d / 1000;
    }
    if (own?.kind === q.kind && q.kind !== 'service') score = Math.min(score, 2 + d / 1000);
    if (d <= 3) score = Math.min(score, 1 + d / 10);
    if (score !== Infinity) scored.push({ name: vs.name, score });
  }
  return scored
    .sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : 1))
    .slice(0, MAX_CANDIDATES)
    .map((s) => s.name);
}

function rsEndpoint(rs: RealServerConfig): Endpoint {
  return (
    parseEndpoint(rs.name) ?? {
      address: rs.address,
      port: rs.port,
    }
  );
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.address === b.address && a.port === b.port;
}

function endpointText(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

function fail(
  code: ResolveError['code'],
  message: string,
  extra: { hint?: string; candidates?: readonly string[] } = {},
): { ok: false; error: ResolveError } {
  return { ok: false, error: { code, message, ...extra } };
}

export { PROTOCOLS };
