/**
 * vrrp_instance / vrrp_script / vrrp_sync_group → their configs, with keepalived's defaults
 * (vrrp.c vrrp_complete_instance, chk_min_cfg) and cross-checks, and the host checks for the
 * interfaces they name. An instance whose interface does not exist is reported and not run.
 */
import type {
  DiagnosticSink,
  IpAddressSpec,
  KeepalivedModel,
  LvsdBlock,
  NotifyScripts,
  SourcePosition,
  VrrpInstance,
  VrrpScript,
} from '../keepalived-config/index.js';
import type { HostFacts } from './host.js';
import { positionText, type ScriptPolicy } from './scripts.js';
import type {
  NotifyConfig,
  TrackConfig,
  VirtualAddress,
  VrrpInstanceConfig,
  VrrpScriptConfig,
  VrrpSyncGroupConfig,
} from './types.js';

/**
 * The `timing fast` advert interval. Master-down is 3 intervals + skew (≤ 1 interval): a
 * crashed master is replaced after 240–320 ms, which leaves room under the 400 ms outage goal
 * for adding the VIP and the first gratuitous ARP, while a backup still tolerates an event-loop
 * pause of 200 ms on a loaded master before it takes over by mistake.
 */
export const FAST_ADVERT_INT_MS = 80;

export interface VrrpContext {
  readonly sink: DiagnosticSink;
  readonly host: HostFacts;
  readonly scripts: ScriptPolicy;
  readonly lvsd: LvsdBlock | undefined;
}

export interface VrrpResult {
  instances: VrrpInstanceConfig[];
  scripts: VrrpScriptConfig[];
  syncGroups: VrrpSyncGroupConfig[];
}

/** keepalived's `<BOOL>`: absent → undefined, a bare keyword → true, else the word's value. */
function flag(args: readonly string[] | undefined): boolean | undefined {
  if (args === undefined) return undefined;
  const w = args[0]?.toLowerCase();
  return w === undefined || !['off', 'no', 'false', '0'].includes(w);
}

export function buildVrrp(model: KeepalivedModel, ctx: VrrpContext): VrrpResult {
  const { sink, host } = ctx;
  const scriptDefs = new Map<string, VrrpScript>();
  for (const s of model.vrrpScripts) scriptDefs.set(s.name, s);
  const resolvedScripts = new Map<string, VrrpScriptConfig | null>();
  const instances: VrrpInstanceConfig[] = [];
  const memberOf = new Map<string, string>();
  for (const g of model.vrrpSyncGroups) for (const m of g.members) memberOf.set(m.name, g.name);
  const groupTracking = new Map(
    model.vrrpSyncGroups.map((g) => [g.name, g.syncGroupTrackingWeight]),
  );

  const byKey = new Map<string, string>();
  for (const vi of model.vrrpInstances) {
    const where = `(${vi.name})`;
    if (vi.virtualRouterId === undefined) {
      sink.warning(
        'missing-required',
        `${where} the virtual router id must be set`,
        vi.at,
        'add virtual_router_id N (1-255), the same on both directors',
      );
      continue;
    }
    const unicast = vi.unicastPeers.length > 0;
    if (vi.interface === undefined && !unicast) {
      sink.warning(
        'missing-required',
        `${where} no interface set`,
        vi.at,
        'add interface IFACE (the one the adverts go out of)',
      );
      continue;
    }
    if (vi.interface !== undefined && host.interfaceExists(vi.interface) === false) {
      sink.warning(
        'interface-missing',
        `interface ${vi.interface} for vrrp_instance ${vi.name} doesn't exist on this host; the instance will not run`,
        vi.interfaceAt ?? vi.at,
        'check the name with: ip link',
      );
      continue;
    }
    const family = vi.virtualIpaddress[0]?.family ?? (vi.unicastSrcIp?.includes(':') ? 6 : 4);
    const key = `${vi.virtualRouterId}/${family}/${vi.interface ?? ''}`;
    const other = byKey.get(key);
    if (other) {
      sink.warning(
        'duplicate-vrid',
        `${other} and ${vi.name} both use VRID ${vi.virtualRouterId} with IPv${family} on interface ${vi.interface ?? '(unicast)'}`,
        vi.at,
        'give each instance on one interface its own virtual_router_id',
      );
    } else byKey.set(key, vi.name);

    let state = vi.state ?? (vi.priority === 255 ? 'MASTER' : 'BACKUP');
    const priority = vi.priority ?? (vi.state === 'MASTER' ? 255 : 100);
    let preempt = !vi.nopreempt;
    if (vi.nopreempt && state === 'MASTER' && priority < 255) {
      sink.warning(
        'value-adjusted',
        `${where} nopreempt needs state BACKUP; nopreempt is cleared`,
        vi.at,
        'use state BACKUP on both directors with nopreempt',
      );
      preempt = true;
    } else if (vi.nopreempt && priority === 255) {
      sink.warning(
        'value-adjusted',
        `${where} nopreempt is refused for the address owner (priority 255)`,
        vi.at,
      );
      preempt = true;
    }
    let preemptDelayMs = vi.preemptDelayMs ?? 0;
    if (preemptDelayMs > 0 && (state === 'MASTER' || !preempt)) {
      sink.warning(
        'value-adjusted',
        `${where} preempt_delay is ignored with state MASTER or nopreempt`,
        vi.at,
      );
      preemptDelayMs = 0;
    }
    const fast = vi.advertIntMs === undefined && ctx.lvsd?.timingProfile === 'fast';
    // Ruling 13: an omitted advert_int is keepalived's 1 s, unless the lvsd block asks for the
    // fast profile. lvsd's own adverts carry milliseconds, so the VRRPv2 rounding does not apply.
    const version = vi.version ?? model.globalDefs.vrrpVersion ?? (fast ? 3 : 2);
    let advertIntMs = vi.advertIntMs ?? (fast ? FAST_ADVERT_INT_MS : 1000);
    if (version === 2 && advertIntMs % 1000 !== 0) {
      const rounded = Math.max(1000, Math.round(advertIntMs / 1000) * 1000);
      sink.warning(
        'value-adjusted',
        `${where} VRRPv2 advert_int must be whole seconds; ${advertIntMs / 1000} is rounded to ${rounded / 1000}`,
        vi.at,
        'use version 3 for sub-second adverts',
      );
      advertIntMs = rounded;
    } else if (version === 3 && advertIntMs % 10 !== 0) {
      advertIntMs = Math.round(advertIntMs / 10) * 10;
    }

    const auth = authOf(vi, family, state, priority, ctx);
    if (auth.demote) state = 'BACKUP';

    const trackInterfaces: TrackConfig[] = [];
    for (const t of vi.trackInterface) {
      if (host.interfaceExists(t.name) === false) {
        sink.warning(
          'interface-missing',
          `tracked interface ${t.name} doesn't exist on this host`,
          t.at,
        );
        continue;
      }
      trackInterfaces.push({ name: t.name, weight: t.weight ?? 0, reverse: t.reverse });
    }
    const group = memberOf.get(vi.name);
    const weightedAllowed = group === undefined || groupTracking.get(group) === true;
    const trackScripts: TrackConfig[] = [];
    for (const t of vi.trackScript) {
      const def = scriptDefs.get(t.name);
      const resolved = def ? resolveVrrpScript(def, resolvedScripts, ctx) : null;
      if (!resolved) {
        sink.warning(
          'unknown-reference',
          `${where} track script ${t.name} not found, ignoring`,
          t.at,
          def ? undefined : 'define it with vrrp_script NAME { script "..." }',
        );
        continue;
      }
      const weight = t.weight ?? resolved.weight;
      if (weight !== 0 && !weightedAllowed) {
        sink.warning(
          'value-adjusted',
          `${where} is in sync group ${group ?? ''}: weighted track script ${t.name} is not used`,
          t.at,
          'add sync_group_tracking_weight to the vrrp_sync_group to use weights',
        );
        continue;
      }
      trackScripts.push({ name: t.name, weight, reverse: t.reverse || resolved.weightReverse });
    }
    if (!weightedAllowed) {
      for (const t of trackInterfaces) {
        if (t.weight === 0) continue;
        sink.warning(
          'value-adjusted',
          `${where} is in sync group ${group ?? ''}: tracked interface ${t.name} loses its weight (down means FAULT)`,
          vi.at,
          'add sync_group_tracking_weight to the vrrp_sync_group to use weights',
        );
      }
    }
    const addresses = (list: readonly IpAddressSpec[]): VirtualAddress[] =>
      list.flatMap((a) => {
        const dev = a.dev ?? vi.interface;
        if (dev === undefined) {
          sink.warning(
            'missing-required',
            `${where} address ${a.address} has no dev and the instance has no interface`,
            a.at,
          );
          return [];
        }
        if (a.dev !== undefined && host.interfaceExists(a.dev) === false) {
          sink.warning(
            'interface-missing',
            `interface ${a.dev} for ip address ${a.address} doesn't exist on this host`,
            a.at,
          );
          return [];
        }
        return [
          {
            address: a.address,
            family: a.family,
            prefix: a.prefix ?? (a.family === 4 ? 32 : 128),
            dev,
            ...(a.broadcast ? { broadcast: a.broadcast } : {}),
            ...(a.scope ? { scope: a.scope } : {}),
            ...(a.label ? { label: a.label } : {}),
          },
        ];
      });
    for (const r of vi.virtualRoutes) {
      if (r.dev !== undefined && host.interfaceExists(r.dev) === false)
        sink.warning(
          'interface-missing',
          `interface ${r.dev} for route ${r.text} doesn't exist on this host`,
          r.at,
        );
    }
    instances.push({
      name: vi.name,
      ...(vi.interface === undefined ? {} : { interface: vi.interface }),
      virtualRouterId: vi.virtualRouterId,
      family,
      initialState: state,
      priority,
      advertIntMs,
      version,
      preempt,
      preemptDelayMs,
      auth: auth.auth,
      ...(vi.unicastSrcIp === undefined ? {} : { unicastSrcIp: vi.unicastSrcIp }),
      unicastPeers: vi.unicastPeers.map((p) => p.address),
      virtualAddresses: addresses(vi.virtualIpaddress),
      excludedAddresses: addresses(vi.virtualIpaddressExcluded),
      trackInterfaces,
      trackScripts,
      garpMasterDelayMs: vi.garpMasterDelayMs ?? 5000,
      garpMasterRepeat: vi.garpMasterRepeat ?? 5,
      notify: notifyOf(vi.notify, ctx),
      notifyPriorityChanges:
        flag(vi.accepted['notify_priority_changes']) ??
        flag(model.globalDefs.accepted['vrrp_notify_priority_changes']) ??
        false,
      ...(group === undefined ? {} : { syncGroup: group }),
      at: positionText(vi.at),
    });
  }

  const known = new Set(model.vrrpInstances.map((v) => v.name));
  const syncGroups: VrrpSyncGroupConfig[] = [];
  for (const g of model.vrrpSyncGroups) {
    const members: string[] = [];
    for (const m of g.members) {
      if (!known.has(m.name))
        sink.warning(
          'unknown-reference',
          `vrrp_sync_group ${g.name}: vrrp_instance ${m.name} is not defined`,
          m.at,
        );
      else if (instances.some((i) => i.name === m.name)) members.push(m.name);
    }
    if (g.members.length === 0)
      sink.warning(
        'missing-required',
        `vrrp_sync_group ${g.name} has no members`,
        g.at,
        'add group { VI_1 VI_2 }',
      );
    syncGroups.push({
      name: g.name,
      members,
      notify: members.length > 0 ? notifyOf(g.notify, ctx) : {},
      trackingWeight: g.syncGroupTrackingWeight,
      at: positionText(g.at),
    });
  }
  const scripts = [...resolvedScripts.values()].filter((s): s is VrrpScriptConfig => s !== null);
  return { instances, scripts, syncGroups };
}

function authOf(
  vi: VrrpInstance,
  family: 4 | 6,
  state: 'MASTER' | 'BACKUP',
  priority: number,
  ctx: VrrpContext,
): { auth: VrrpInstanceConfig['auth']; demote: boolean } {
  const { sink } = ctx;
  const where = `(${vi.name})`;
  if (ctx.lvsd?.keyFile)
    return { auth: { kind: 'key-file', path: ctx.lvsd.keyFile }, demote: false };
  const a = vi.authentication;
  if (!a) {
    sink.notice(
      'weak-auth',
      `${where} adverts are not authenticated: anyone on the segment can take the VIPs`,
      vi.at,
      'set key_file in the lvsd block for HMAC-SHA256 adverts',
    );
    return { auth: { kind: 'none' }, demote: false };
  }
  let pass = a.pass ?? '';
  if (pass.length > 8) {
    sink.warning(
      'value-adjusted',
      `${where} auth_pass is longer than 8 characters; it is truncated to ${pass.slice(0, 8).length}`,
      a.at,
    );
    pass = pass.slice(0, 8);
  }
  if (a.type === 'AH') {
    if (family === 6) {
      sink.warning(
        'value-adjusted',
        `${where} AH authentication is not possible with IPv6; authentication is off`,
        a.at,
      );
      return { auth: { kind: 'none' }, demote: false };
    }
    const demote = state === 'MASTER' && priority < 255;
    if (demote)
      sink.warning(
        'value-adjusted',
        `${where} initial state MASTER is incompatible with AH authentication; starting as BACKUP`,
        a.at,
      );
    sink.notice(
      'weak-auth',
      `${where} the key is derived from auth_pass, which is weak`,
      a.at,
      'set key_file in the lvsd block for a strong key',
    );
    return { auth: { kind: 'ah', pass }, demote };
  }
  sink.notice(
    'weak-auth',
    `${where} the key is derived from auth_pass, which is weak`,
    a.at,
    'set key_file in the lvsd block for a strong key',
  );
  return { auth: { kind: 'pass', pass }, demote: false };
}

function resolveVrrpScript(
  def: VrrpScript,
  cache: Map<string, VrrpScriptConfig | null>,
  ctx: VrrpContext,
): VrrpScriptConfig | null {
  const hit = cache.get(def.name);
  if (hit !== undefined) return hit;
  let out: VrrpScriptConfig | null = null;
  const spec = def.script;
  const r = spec ? ctx.scripts.resolve(spec, 'vrrp-track', def.user) : undefined;
  if (spec && r?.missing) {
    const argv0 = spec.argv[0] ?? '';
    if (argv0.startsWith('/') || !argv0.includes('/')) {
      ctx.sink.warning(
        'script-missing',
        `disabling track script ${def.name}: ${argv0} not found or not executable`,
        spec.at,
        'install the script, or remove the track_script line',
      );
    } else {
      ctx.sink.notice(
        'script-missing',
        `track script ${def.name}: ${argv0} does not exist here`,
        spec.at,
      );
    }
  } else if (r) {
    const intervalMs = def.intervalMs ?? 1000;
    out = {
      name: def.name,
      script: r.script,
      intervalMs,
      timeoutMs: def.timeoutMs && def.timeoutMs > 0 ? def.timeoutMs : intervalMs,
      weight: def.weight ?? 0,
      weightReverse: def.weightReverse,
      rise: def.rise ?? 1,
      fall: def.fall ?? 1,
      initFail: def.initFail,
      at: positionText(def.at),
    };
  }
  cache.set(def.name, out);
  return out;
}

function notifyOf(n: NotifyScripts, ctx: VrrpContext): NotifyConfig {
  const out: { -readonly [K in keyof NotifyConfig]: NotifyConfig[K] } = {};
  for (const key of ['master', 'backup', 'fault', 'stop', 'deleted', 'generic'] as const) {
    const spec = n[key];
    if (!spec) continue;
    const r = ctx.scripts.resolve(spec, 'vrrp-notify');
    if (!r) continue;
    if (r.missing)
      ctx.sink.notice(
        'script-missing',
        `notify script ${spec.argv[0] ?? ''} does not exist (yet)`,
        spec.at,
      );
    out[key] = r.script;
  }
  return out;
}

export function checkStaticAddresses(
  model: KeepalivedModel,
  ctx: VrrpContext,
  defaultInterface: string,
): void {
  for (const a of model.staticIpaddress) {
    const dev = a.dev ?? defaultInterface;
    const exists = ctx.host.interfaceExists(dev);
    if (exists !== false) continue;
    if (a.dev === undefined) {
      ctx.sink.fatal(
        'no-default-route',
        `static address ${a.address} has no dev and the default interface ${dev} doesn't exist`,
        a.at,
        'add dev IFACE, or set default_interface in global_defs',
      );
    } else {
      ctx.sink.warning(
        'interface-missing',
        `interface ${dev} for ip address ${a.address} doesn't exist on this host`,
        a.at,
      );
    }
  }
  for (const r of model.staticRoutes) {
    if (r.dev !== undefined && ctx.host.interfaceExists(r.dev) === false) {
      ctx.sink.warning(
        'interface-missing',
        `interface ${r.dev} for route ${r.text} doesn't exist on this host`,
        r.at,
      );
    }
  }
}

export type { SourcePosition };
