/**
 * virtual_server → VirtualServerConfig: keepalived's defaults and "most specific wins"
 * inheritance (check_data.c alloc_vs/alloc_rs/validate_check_config), plus the cross-checks
 * keepalived makes and the ones it should make (address families, duplicates).
 */
import type {
  Checker,
  DiagnosticSink,
  LvsdBlock,
  RealServer,
  SourcePosition,
  VirtualServer,
  VirtualServerGroup,
} from '../keepalived-config/index.js';
import { fwmarkName, groupName, realServerName, serviceName } from './names.js';
import type { ScriptPolicy } from './scripts.js';
import type {
  CheckConfig,
  HttpCheckConfig,
  TcpCheckConfig,
  Family,
  Forwarding,
  HealthPolicy,
  Protocol,
  RealServerConfig,
  ServiceKey,
  Tunnel,
  VirtualServerConfig,
} from './types.js';

const DEFAULT_DELAY_LOOP_MS = 60_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_BODY = 1024 * 1024;
const DEFAULT_STATUS: readonly (readonly [number, number])[] = [[200, 299]];

/** Shared by every real server whose checkers lvsd all runs (nothing writes to the list). */
const NO_UNSUPPORTED: readonly string[] = Object.freeze([]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type CheckCommon = Omit<TcpCheckConfig, 'kind' | 'send' | 'expect'>;

export interface VsContext {
  readonly sink: DiagnosticSink;
  readonly scripts: ScriptPolicy;
  readonly groups: ReadonlyMap<string, VirtualServerGroup>;
  readonly lvsd: LvsdBlock | undefined;
  readonly differences: Set<string>;
}

export interface BuiltVirtualServers {
  /** Empty when built with keep = false. */
  readonly servers: VirtualServerConfig[];
  /** How many virtual servers and real servers were built (kept or not). */
  readonly virtualServers: number;
  readonly realServers: number;
}

/**
 * Builds every virtual server, with all its diagnostics. With keep = false each one is dropped
 * as soon as it is built and counted: `lvsd check-config` reports the diagnostics and the counts
 * only, and a server dropped at once dies in the young generation instead of being copied into
 * the old one (on 10,000 real servers, 8 MB the collector no longer copies twice).
 */
export function buildVirtualServers(
  list: readonly VirtualServer[],
  ctx: VsContext,
  keep = true,
): BuiltVirtualServers {
  const out: VirtualServerConfig[] = [];
  let realServers = 0;
  let count = 0;
  const seen = new Map<string, string>();
  for (const vs of list) {
    const built = buildVirtualServer(vs, ctx);
    if (!built) continue;
    const prev = seen.get(built.name);
    if (prev) {
      ctx.sink.warning(
        'duplicate-name',
        `virtual server ${built.name} is defined twice (first at ${prev}); the second is ignored`,
        vs.at,
      );
      continue;
    }
    seen.set(built.name, built.at);
    count++;
    realServers += built.realServers.length;
    if (keep) out.push(built);
  }
  return { servers: out, virtualServers: count, realServers };
}

function forwardingOf(kind: 'NAT' | 'DR' | 'TUN' | undefined): Forwarding | undefined {
  return kind === undefined ? undefined : kind === 'NAT' ? 'nat' : kind === 'DR' ? 'dr' : 'tun';
}

function tunnelOf(t: VirtualServer['tunnel']): Tunnel | undefined {
  if (!t) return undefined;
  const checksum = t.nocsum ? 'nocsum' : t.csum ? 'csum' : t.remcsum ? 'remcsum' : undefined;
  return {
    type: t.type,
    ...(t.port === undefined ? {} : { port: t.port }),
    ...(checksum ? { checksum } : {}),
  };
}

function buildVirtualServer(vs: VirtualServer, ctx: VsContext): VirtualServerConfig | undefined {
  const { sink } = ctx;
  const key = vs.key;
  let protocol: Protocol | undefined = vs.protocol
    ? (vs.protocol.toLowerCase() as Protocol)
    : undefined;
  let name: string;
  let services: ServiceKey[] = [];
  let family: Family | undefined;
  let port: number | undefined;
  const label = describeKey(vs);

  if (key.kind === 'fwmark') {
    if (vs.protocol)
      sink.warning(
        'value-adjusted',
        `virtual server ${label}: protocol is ignored for a fwmark service`,
        vs.at,
        'remove the protocol line',
      );
    family = 4;
    name = fwmarkName(key.fwmark);
    services = [{ kind: 'fwmark', fwmark: key.fwmark, family: 4 }];
  } else {
    if (!protocol) {
      protocol = 'tcp';
      sink.warning(
        'default-applied',
        `virtual server ${label}: no protocol set; lvsd uses TCP (keepalived would default to UDP)`,
        vs.at,
        'add protocol TCP (or UDP, SCTP)',
      );
      ctx.differences.add('a virtual server without protocol is TCP (keepalived: UDP)');
    }
    if (key.kind === 'address') {
      family = key.family;
      port = key.port;
      if (port === undefined) {
        if (vs.persistenceTimeoutS === undefined) {
          sink.warning(
            'default-applied',
            `virtual server ${label}: no port is allowed only with persistence; persistence_timeout 360 is switched on`,
            vs.at,
            'add a port, or persistence_timeout N',
          );
        }
        port = 0;
      }
      name = serviceName(protocol, key.address, key.family, port);
      services = [{ kind: 'service', protocol, address: key.address, family: key.family, port }];
    } else {
      name = groupName(key.group);
      const group = ctx.groups.get(key.group);
      if (!group) {
        sink.warning(
          'unknown-reference',
          `virtual server ${label}: virtual_server_group ${key.group} is not defined; the virtual server is ignored`,
          vs.at,
        );
        return undefined;
      }
      services = expandGroup(group, protocol, sink);
      family = services[0]?.family;
    }
  }

  const scheduler = vs.lbAlgo ?? 'wlc';
  if (!vs.lbAlgo)
    sink.warning(
      'default-applied',
      `virtual server ${label}: no scheduler set; wlc is used`,
      vs.at,
      'add lb_algo wlc (or rr, wrr, lc, …)',
    );
  const forwarding = forwardingOf(vs.lbKind) ?? 'nat';
  if (!vs.lbKind)
    sink.warning(
      'default-applied',
      `virtual server ${label}: no forwarding method set; NAT is used`,
      vs.at,
      'add lb_kind NAT (or DR, TUN)',
    );

  const vsDefaults = {
    retry: vs.retry,
    delayBeforeRetryMs: vs.delayBeforeRetryMs,
    delayLoopMs: vs.delayLoopMs,
    warmupMs: vs.warmupMs,
    connectTimeoutMs: vs.connectTimeoutMs,
    alpha: vs.alpha,
  };
  const realServers: RealServerConfig[] = [];
  const seenRs = new Map<string, SourcePosition>();
  for (const rs of vs.realServers) {
    if (family !== undefined && rs.family !== family && key.kind !== 'fwmark') {
      sink.warning(
        'family-mismatch',
        `real server ${rs.address} is IPv${rs.family} but virtual server ${label} is IPv${family}; the real server is ignored`,
        rs.at,
        'IPVS forwards within one address family: use an address of the same family',
      );
      continue;
    }
    let rsPort = rs.port ?? port ?? 0;
    const rsForwarding = forwardingOf(rs.lbKind) ?? forwarding;
    if (
      rs.port !== undefined &&
      port !== undefined &&
      port !== 0 &&
      rs.port !== port &&
      rsForwarding !== 'nat'
    ) {
      sink.warning(
        'value-adjusted',
        `real server ${rs.address} port ${rs.port} differs from virtual server port ${port}; under ${rsForwarding.toUpperCase()} it is set to ${port}`,
        rs.at,
        'only NAT can map ports',
      );
      rsPort = port;
    }
    const rsName = realServerName(rs.address, rs.family, rsPort);
    const dup = seenRs.get(rsName);
    if (dup) {
      sink.warning(
        'duplicate-real-server',
        `virtual server ${label}: real server ${rsName} is duplicated (first at ${where(dup)}); the second is removed`,
        rs.at,
      );
      continue;
    }
    seenRs.set(rsName, rs.at);
    const built = buildRealServer(rs, rsName, rsPort, rsForwarding, vs, name, vsDefaults, ctx);
    if (built) realServers.push(built);
  }

  if (realServers.length === 0) {
    sink.warning(
      'no-real-servers',
      `virtual server ${label} has no real servers; it is ignored`,
      vs.at,
      'add a real_server block, or remove the virtual server',
    );
    return undefined;
  }

  const totalWeight = realServers.reduce((s, r) => s + r.weight, 0);
  let quorum = vs.quorum ?? 1;
  let hysteresis = vs.hysteresis ?? 0;
  if (vs.quorum !== undefined && quorum > totalWeight) {
    sink.warning(
      'value-adjusted',
      `virtual server ${label}: quorum ${quorum} is more than the total weight ${totalWeight}; reduced to ${totalWeight}`,
      vs.at,
    );
    quorum = Math.max(totalWeight, 1);
  }
  if (vs.hysteresis !== undefined && hysteresis >= quorum) {
    sink.warning(
      'value-adjusted',
      `virtual server ${label}: hysteresis ${hysteresis} must be below quorum ${quorum}; reduced to ${quorum - 1}`,
      vs.at,
    );
    hysteresis = quorum - 1;
  }
  const quorumUp = vs.quorumUp && ctx.scripts.resolve(vs.quorumUp, 'check-notify');
  const quorumDown = vs.quorumDown && ctx.scripts.resolve(vs.quorumDown, 'check-notify');
  for (const s of [quorumUp, quorumDown])
    if (s?.missing) notifyMissing(ctx, s.script.argv[0] ?? '', vs.at);

  const persistenceTimeoutS =
    vs.persistenceTimeoutS ?? (key.kind === 'address' && key.port === undefined ? 360 : undefined);
  const sorry = vs.sorryServer;
  // Without sorry_server_lvs_method the sorry server is forwarded as the virtual server is.
  const sorryForwarding = forwardingOf(vs.sorryServerLbKind) ?? forwarding;
  const sorryTunnel =
    sorryForwarding === 'tun'
      ? tunnelOf(vs.sorryServerLbKind ? vs.sorryServerTunnel : vs.tunnel)
      : undefined;
  return {
    name,
    services,
    scheduler,
    schedulerFlags: vs.schedulerFlags,
    onePacketScheduling: vs.opsScheduling ?? false,
    ...(persistenceTimeoutS === undefined
      ? {}
      : {
          persistence: {
            timeoutS: persistenceTimeoutS,
            ...(vs.persistenceGranularity ? { granularity: vs.persistenceGranularity } : {}),
          },
        }),
    forwarding,
    quorum,
    hysteresis,
    ...(quorumUp ? { quorumUp: quorumUp.script } : {}),
    ...(quorumDown ? { quorumDown: quorumDown.script } : {}),
    ...(sorry
      ? {
          sorryServer: {
            address: sorry.address,
            family: sorry.family,
            port: sorry.port ?? port ?? 0,
            forwarding: sorryForwarding,
            inhibit: vs.sorryServerInhibit ?? false,
            ...(sorryTunnel ? { tunnel: sorryTunnel } : {}),
          },
        }
      : {}),
    omega: vs.omega ?? false,
    realServers,
    at: where(vs.at),
  };
}

function describeKey(vs: VirtualServer): string {
  const k = vs.key;
  if (k.kind === 'fwmark') return `fwmark ${k.fwmark}`;
  if (k.kind === 'group') return `group ${k.group}`;
  return k.port === undefined
    ? k.address
    : k.family === 6
      ? `[${k.address}]:${k.port}`
      : `${k.address}:${k.port}`;
}

function expandGroup(
  g: VirtualServerGroup,
  protocol: Protocol,
  sink: DiagnosticSink,
): ServiceKey[] {
  const out: ServiceKey[] = [];
  for (const e of g.entries) {
    if (e.kind === 'fwmark' && e.fwmark !== undefined) {
      out.push({ kind: 'fwmark', fwmark: e.fwmark, family: 4 });
      continue;
    }
    if (!e.address || !e.family) continue;
    const port = e.port ?? 0;
    if (e.rangeEnd === undefined) {
      out.push({ kind: 'service', protocol, address: e.address, family: e.family, port });
      continue;
    }
    const sep = e.family === 4 ? '.' : ':';
    const idx = e.address.lastIndexOf(sep);
    const base = e.address.slice(0, idx + 1);
    const radix = e.family === 4 ? 10 : 16;
    const first = parseInt(e.address.slice(idx + 1), radix);
    const last = parseInt(e.rangeEnd, radix);
    if (!(last >= first)) {
      sink.warning(
        'bad-address',
        `virtual_server_group ${g.name}: range ends (${e.rangeEnd}) before it starts`,
        e.at,
      );
      continue;
    }
    for (let n = first; n <= last; n++) {
      out.push({
        kind: 'service',
        protocol,
        address: base + n.toString(radix),
        family: e.family,
        port,
      });
    }
  }
  return out;
}

interface Inherited {
  retry?: number | undefined;
  delayBeforeRetryMs?: number | undefined;
  delayLoopMs?: number | undefined;
  warmupMs?: number | undefined;
  connectTimeoutMs?: number | undefined;
  alpha?: boolean | undefined;
}

/** keepalived's "most specific wins": a setting of the inner block overrides the outer's. */
function inherit(inner: Inherited, outer: Inherited): Inherited {
  return {
    retry: inner.retry ?? outer.retry,
    delayBeforeRetryMs: inner.delayBeforeRetryMs ?? outer.delayBeforeRetryMs,
    delayLoopMs: inner.delayLoopMs ?? outer.delayLoopMs,
    warmupMs: inner.warmupMs ?? outer.warmupMs,
    connectTimeoutMs: inner.connectTimeoutMs ?? outer.connectTimeoutMs,
    alpha: inner.alpha ?? outer.alpha,
  };
}

function buildRealServer(
  rs: RealServer,
  name: string,
  port: number,
  forwarding: Forwarding,
  vs: VirtualServer,
  vsName: string,
  vsDefaults: Inherited,
  ctx: VsContext,
): RealServerConfig | undefined {
  const opts = serverOptions(ctx.lvsd, vsName, name);
  const rsLevel = inherit(rs, vsDefaults);
  const rise = rs.rise ?? opts.rise ?? vs.rise;
  const fall = rs.fall ?? opts.fall ?? vs.fall;
  const slowStartMs = rs.slowStartMs ?? opts.slowStartMs ?? vs.slowStartMs ?? 0;

  const checks: CheckConfig[] = [];
  let unsupported: string[] | undefined;
  rs.checkers.forEach((c, i) => {
    if (
      c.kind !== 'HTTP_GET' &&
      c.kind !== 'SSL_GET' &&
      c.kind !== 'TCP_CHECK' &&
      c.kind !== 'MISC_CHECK'
    ) {
      (unsupported ??= []).push(c.kind);
      return;
    }
    const built = buildCheck(
      c,
      i,
      rs,
      port,
      vs,
      vsName,
      name,
      rsLevel,
      { rise, fall, slowStartMs },
      ctx,
    );
    if (built) checks.push(built);
  });

  const remove =
    rs.removeOnFailure ??
    opts.removeOnFailure ??
    vs.removeOnFailure ??
    (ctx.lvsd?.onFailure === 'remove' ? true : undefined);
  const inhibit = rs.inhibitOnFailure ?? vs.inhibitOnFailure;
  if (remove === undefined && inhibit !== true) {
    ctx.differences.add(
      "a failed real server gets weight 0 and stays in the table (keepalived removes it unless inhibit_on_failure); set remove_on_failure for keepalived's behaviour",
    );
  }
  const notifyUp = rs.notifyUp && ctx.scripts.resolve(rs.notifyUp, 'check-notify');
  const notifyDown = rs.notifyDown && ctx.scripts.resolve(rs.notifyDown, 'check-notify');
  for (const s of [notifyUp, notifyDown])
    if (s?.missing) notifyMissing(ctx, s.script.argv[0] ?? '', rs.at);
  const tunnel = tunnelOf(rs.tunnel ?? vs.tunnel);
  const out: Mutable<RealServerConfig> = {
    name,
    address: rs.address,
    family: rs.family,
    port,
    weight: rs.weight ?? vs.weight ?? 1,
    forwarding,
    onFailure: remove === true ? 'remove' : 'weight0',
    checks: exact(checks),
    unsupportedChecks: unsupported ?? NO_UNSUPPORTED,
    health: healthPolicy('TCP_CHECK', rsLevel, { rise, fall, slowStartMs }),
    at: where(rs.at),
  };
  if (forwarding === 'tun' && tunnel) out.tunnel = tunnel;
  if (rs.uthreshold !== undefined) out.upperThreshold = rs.uthreshold;
  if (rs.lthreshold !== undefined) out.lowerThreshold = rs.lthreshold;
  if (notifyUp) out.notifyUp = notifyUp.script;
  if (notifyDown) out.notifyDown = notifyDown.script;
  return out;
}

function serverOptions(
  lvsd: LvsdBlock | undefined,
  vsName: string,
  rsName: string,
): { rise?: number; fall?: number; slowStartMs?: number; removeOnFailure?: boolean } {
  const out: { rise?: number; fall?: number; slowStartMs?: number; removeOnFailure?: boolean } = {};
  if (!lvsd) return out;
  // Options for the whole virtual server first, then the real server's own (more specific).
  for (const pass of [false, true]) {
    for (const o of lvsd.servers) {
      if (o.virtualServer !== vsName || (o.realServer !== undefined) !== pass) continue;
      if (pass && o.realServer !== rsName) continue;
      if (o.rise !== undefined) out.rise = o.rise;
      if (o.fall !== undefined) out.fall = o.fall;
      if (o.slowStartMs !== undefined) out.slowStartMs = o.slowStartMs;
      if (o.removeOnFailure !== undefined) out.removeOnFailure = o.removeOnFailure;
    }
  }
  return out;
}

function healthPolicy(
  kind: Checker['kind'],
  level: Inherited,
  extra: { rise: number | undefined; fall: number | undefined; slowStartMs: number },
): HealthPolicy {
  const retry = level.retry ?? (kind === 'MISC_CHECK' ? 0 : 1);
  const delayLoopMs = level.delayLoopMs ?? DEFAULT_DELAY_LOOP_MS;
  // Assignments, not conditional spreads: this runs per check, and the spreads' temporary
  // objects were a third of check-config's time on 10,000 real servers.
  const h: Mutable<HealthPolicy> = {
    retry,
    delayBeforeRetryMs:
      level.delayBeforeRetryMs ?? (kind === 'HTTP_GET' || kind === 'SSL_GET' ? 3000 : 1000),
    delayLoopMs,
    warmupMs: level.warmupMs ?? delayLoopMs,
    alpha: level.alpha ?? false,
    slowStartMs: extra.slowStartMs,
  };
  if (extra.rise !== undefined) h.rise = extra.rise;
  if (extra.fall !== undefined) h.fall = extra.fall;
  return h;
}

function buildCheck(
  c: Extract<Checker, { kind: 'HTTP_GET' | 'SSL_GET' | 'TCP_CHECK' | 'MISC_CHECK' }>,
  index: number,
  rs: RealServer,
  port: number,
  vs: VirtualServer,
  vsName: string,
  rsName: string,
  rsLevel: Inherited,
  extra: { rise: number | undefined; fall: number | undefined; slowStartMs: number },
  ctx: VsContext,
): CheckConfig | undefined {
  const level = inherit(c, rsLevel);
  const health = healthPolicy(c.kind, level, {
    rise: c.rise ?? extra.rise,
    fall: c.fall ?? extra.fall,
    slowStartMs: extra.slowStartMs,
  });
  const address = c.connectIp ?? rs.address;
  const port2 = c.connectPort ?? port;
  if (port2 === 0 && c.kind !== 'MISC_CHECK') {
    ctx.sink.warning(
      'missing-required',
      `${c.kind} for real server ${rsName} has no port to connect to`,
      c.at,
      'add connect_port N, or give the real server a port',
    );
    return undefined;
  }
  const id = [vsName, rsName, index === 0 ? c.kind : `${c.kind}#${index}`].join('/');
  const family = address.includes(':') ? 6 : 4;
  const connectTimeoutMs = level.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const logAllFailures = c.logAllFailures ?? false;
  const at = where(c.at);
  // Without bind options (nearly every check), an HTTP check is one object literal in its final
  // key order: one hidden class, no property array grown by adding its six fields afterwards.
  // With them, the fields go between the common ones and the kind's (the same order either way,
  // so the --dump JSON does not depend on the path taken). TCP and MISC checks add one or three
  // fields to the common ones, which costs little.
  const plain =
    c.bindto === undefined &&
    c.bindPort === undefined &&
    c.bindIf === undefined &&
    c.fwmark === undefined;
  const common = (): Mutable<CheckCommon> => {
    const o: Mutable<CheckCommon> = {
      id,
      address,
      family,
      port: port2,
      connectTimeoutMs,
      health,
      logAllFailures,
      at,
    };
    if (c.bindto !== undefined) o.bindto = c.bindto;
    if (c.bindPort !== undefined) o.bindPort = c.bindPort;
    if (c.bindIf !== undefined) o.bindIf = c.bindIf;
    if (c.fwmark !== undefined) o.fwmark = c.fwmark;
    return o;
  };
  if (c.kind === 'TCP_CHECK') {
    const t: Mutable<TcpCheckConfig> = Object.assign(common(), { kind: 'tcp' as const });
    if (c.send !== undefined) t.send = c.send;
    if (c.expect !== undefined) t.expect = c.expect;
    return t;
  }
  if (c.kind === 'MISC_CHECK') {
    if (!c.script) return undefined;
    const r = ctx.scripts.resolve(c.script, 'check', c.user);
    if (!r) return undefined;
    if (r.missing) notifyMissing(ctx, c.script.argv[0] ?? '', c.script.at);
    return Object.assign(common(), {
      kind: 'misc' as const,
      script: r.script,
      timeoutMs: c.timeoutMs ?? health.delayLoopMs,
      dynamic: c.dynamic,
    });
  }
  const hostDefault = c.virtualhost ?? rs.virtualhost ?? vs.virtualhost;
  const urls = c.urls.map((u) => {
    const vh = u.virtualhost ?? hostDefault;
    const url: Mutable<HttpCheckConfig['urls'][number]> = {
      path: u.path ?? '/',
      statusCodes: u.statusCodes.length > 0 ? u.statusCodes : DEFAULT_STATUS,
    };
    if (u.digest !== undefined) url.digest = u.digest;
    if (vh !== undefined) url.virtualhost = vh;
    return url;
  });
  const kind = c.kind === 'SSL_GET' ? ('https' as const) : ('http' as const);
  const maxBodyBytes = c.maxBodyBytes ?? ctx.lvsd?.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const tlsVerify = c.tlsVerify ?? false;
  const fastRecovery = c.fastRecovery ?? false;
  const httpVersion = c.httpProtocol === '1.1' ? ('1.1' as const) : ('1.0' as const);
  const http: Mutable<HttpCheckConfig> = plain
    ? {
        id,
        address,
        family,
        port: port2,
        connectTimeoutMs,
        health,
        logAllFailures,
        at,
        kind,
        urls,
        maxBodyBytes,
        tlsVerify,
        fastRecovery,
        httpVersion,
      }
    : Object.assign(common(), { kind, urls, maxBodyBytes, tlsVerify, fastRecovery, httpVersion });
  if (c.enableSni && hostDefault !== undefined) http.sni = hostDefault;
  return http;
}

/**
 * FILE:LINE:COL, as scripts.ts positionText() writes it, but joined into one flat string: the
 * config keeps one per real server and per check, and a template literal's chain of cons strings
 * is three times the size (see names.ts).
 */
function where(at: SourcePosition): string {
  return [at.file, at.line, at.col].join(':');
}

/** A copy without the spare room push() leaves (see keepalived-config/checkers.ts exact()). */
function exact<T>(list: T[]): T[] {
  return list.length === 0 ? [] : list.slice();
}

function notifyMissing(ctx: VsContext, command: string, at: VirtualServer['at']): void {
  ctx.sink.notice(
    'script-missing',
    `script ${command} does not exist (yet); it will fail when run`,
    at,
    'install it before starting lvsd',
  );
}
