/** keepalived model → frozen lvsd Config. Pure: host facts come through a port. */
import {
  DiagnosticSink,
  exitStatus,
  parseKeepalivedConfig,
  type Diagnostic,
  type ExitClass,
  type KeepalivedModel,
  type SourceReader,
} from '../keepalived-config/index.js';
import type { HostFacts } from './host.js';
import { ScriptPolicy } from './scripts.js';
import type { Config, DaemonSettings } from './types.js';
import { buildVirtualServers } from './virtual-servers.js';
import { buildMaintenance } from './maintenance.js';
import { buildNotifyFifos } from './notify-fifos.js';
import { buildReplication } from './replication.js';
import { buildVrrp, checkStaticAddresses } from './vrrp.js';

export const defaultDaemonSettings: DaemonSettings = {
  controlSocket: '/run/lvsd/lvsd.sock',
  controlSocketReadOnly: '/run/lvsd/lvsd-ro.sock',
  stateDir: '/var/lib/lvsd',
  metricsAddress: '127.0.0.1:9405',
  timingProfile: 'keepalived',
  checkConcurrency: 256,
  webhooks: [],
  maintenance: [],
  restartGraceMs: 10_000,
};

export interface BuildOptions {
  readonly host: HostFacts;
  /** Used for router_id when global_defs has none (keepalived: the host name). */
  readonly hostname: string;
}

/** What a configuration holds, as check-config's summary counts it. */
export interface ConfigCounts {
  readonly virtualServers: number;
  readonly realServers: number;
  readonly vrrpInstances: number;
}

export function buildConfig(
  model: KeepalivedModel,
  options: BuildOptions,
  sink: DiagnosticSink,
): Config {
  return build(model, options, sink, true).config;
}

/**
 * buildConfig, and the counts. With keepServers false the virtual servers are built (every
 * diagnostic is the same) but not kept: the config's list is empty and only the counts tell of
 * them (see buildVirtualServers).
 */
function build(
  model: KeepalivedModel,
  options: BuildOptions,
  sink: DiagnosticSink,
  keepServers: boolean,
): { config: Config; counts: ConfigCounts } {
  const g = model.globalDefs;
  const scripts = new ScriptPolicy(
    options.host,
    sink,
    g.enableScriptSecurity,
    g.scriptUser
      ? { user: g.scriptUser.user, ...(g.scriptUser.group ? { group: g.scriptUser.group } : {}) }
      : undefined,
  );
  const differences = new Set<string>();
  const groups = new Map(model.virtualServerGroups.map((x) => [x.name, x]));
  const vrrp = buildVrrp(model, { sink, host: options.host, scripts, lvsd: model.lvsd });
  const built = buildVirtualServers(
    model.virtualServers,
    { sink, scripts, groups, lvsd: model.lvsd, differences },
    keepServers,
  );
  const virtualServers = built.servers;
  checkStaticAddresses(
    model,
    { sink, host: options.host, scripts, lvsd: model.lvsd },
    g.accepted['default_interface']?.[0] ?? 'eth0',
  );
  const lsd = g.lvsSyncDaemon;
  if (lsd && options.host.interfaceExists(lsd.interface) === false) {
    sink.warning(
      'interface-missing',
      `interface ${lsd.interface} for lvs_sync_daemon doesn't exist on this host`,
      lsd.at,
    );
  }
  const l = model.lvsd;
  for (const o of l?.servers ?? []) {
    const vs = virtualServers.find((v) => v.name === o.virtualServer);
    if (!vs) {
      sink.warning(
        'unknown-reference',
        `lvsd server options: no virtual server named ${o.virtualServer}`,
        o.at,
        `names look like ${virtualServers[0]?.name ?? 'tcp:198.18.0.10:80'}`,
      );
    } else if (o.realServer !== undefined && !vs.realServers.some((r) => r.name === o.realServer)) {
      sink.warning(
        'unknown-reference',
        `lvsd server options: ${o.virtualServer} has no real server ${o.realServer}`,
        o.at,
        `its real servers are ${vs.realServers.map((r) => r.name).join(', ')}`,
      );
    }
  }
  const replication = buildReplication(l, vrrp.instances, sink);
  const maintenance = buildMaintenance(l, virtualServers, sink);
  const daemon: DaemonSettings = {
    controlSocket: l?.controlSocket ?? defaultDaemonSettings.controlSocket,
    controlSocketReadOnly: l?.controlSocketReadOnly ?? defaultDaemonSettings.controlSocketReadOnly,
    ...(l?.controlGroup ? { controlGroup: l.controlGroup } : {}),
    ...(l?.readGroup ? { readGroup: l.readGroup } : {}),
    stateDir: l?.stateDir ?? defaultDaemonSettings.stateDir,
    metricsAddress: l?.metricsAddress ?? defaultDaemonSettings.metricsAddress,
    ...(l?.ipvsDriver ? { ipvsDriver: l.ipvsDriver } : {}),
    timingProfile: l?.timingProfile ?? 'keepalived',
    ...(l?.keyFile ? { keyFile: l.keyFile } : {}),
    checkConcurrency: l?.checkConcurrency ?? defaultDaemonSettings.checkConcurrency,
    ...(replication ? { replication } : {}),
    maintenance,
    restartGraceMs: l?.restartGraceMs ?? defaultDaemonSettings.restartGraceMs,
    webhooks: (l?.webhooks ?? []).flatMap((w) =>
      w.url
        ? [
            {
              name: w.name,
              url: w.url,
              ...(w.secretFile ? { secretFile: w.secretFile } : {}),
              timeoutMs: w.timeoutMs ?? 5000,
              events: w.events,
            },
          ]
        : [],
    ),
  };
  const config: Config = Object.freeze({
    routerId: g.routerId ?? options.hostname,
    scriptSecurity: g.enableScriptSecurity,
    virtualServers,
    vrrpScripts: vrrp.scripts,
    vrrpInstances: vrrp.instances,
    vrrpSyncGroups: vrrp.syncGroups,
    ...(lsd
      ? {
          lvsSyncDaemon: {
            interface: lsd.interface,
            ...(lsd.instance ? { instance: lsd.instance } : {}),
            ...(lsd.id === undefined ? {} : { id: lsd.id }),
            ...(lsd.port === undefined ? {} : { port: lsd.port }),
            ...(lsd.ttl === undefined ? {} : { ttl: lsd.ttl }),
            ...(lsd.group ? { group: lsd.group } : {}),
            ...(lsd.maxlen === undefined ? {} : { maxlen: lsd.maxlen }),
          },
        }
      : {}),
    daemon,
    notifyFifos: buildNotifyFifos(g, scripts),
    differences: [...differences],
  });
  return {
    config,
    counts: {
      virtualServers: built.virtualServers,
      realServers: built.realServers,
      vrrpInstances: vrrp.instances.length,
    },
  };
}

export interface LoadOptions {
  readonly source: SourceReader;
  readonly host: HostFacts;
  readonly configId: string;
  readonly hostname: string;
  /**
   * False: only the diagnostics and the counts are wanted (check-config without --dump). Every
   * check is made as usual, but the config and model are not returned, and the virtual servers
   * are dropped as they are built, which spares the garbage collector most of its work on a
   * large file. Default true.
   */
  readonly keepConfig?: boolean;
}

export interface LoadResult {
  /** Undefined when the file could not be read at all, or when loaded with keepConfig false. */
  readonly config?: Config;
  readonly model?: KeepalivedModel;
  /** What the configuration holds (zero when it could not be read), kept or not. */
  readonly counts: ConfigCounts;
  readonly diagnostics: readonly Diagnostic[];
  readonly files: readonly string[];
  /** keepalived -t's exit status for these diagnostics. */
  readonly exitStatus: ExitClass;
  /** True when lvsd must refuse to run this file (a fatal problem, whatever else was found). */
  readonly cannotRun: boolean;
}

/** Parse + validate in one call; never throws for bad input. */
export function loadConfig(file: string, options: LoadOptions): LoadResult {
  const parsed = parseKeepalivedConfig(file, {
    source: options.source,
    configId: options.configId,
  });
  const sink = new DiagnosticSink();
  for (const d of parsed.diagnostics) sink.add(d);
  const unreadable = parsed.files.length === 0;
  const keep = options.keepConfig ?? true;
  const l = parsed.model.lvsd;
  // The lvsd block's server options and maintenance windows are checked against the built
  // virtual servers: with any of them, the servers are kept for that even when not returned.
  const keepServers = keep || (l?.servers.length ?? 0) > 0 || (l?.maintenance.length ?? 0) > 0;
  const built = unreadable ? undefined : build(parsed.model, options, sink, keepServers);
  const diagnostics = sink.items;
  return {
    ...(built && keep ? { config: built.config, model: parsed.model } : {}),
    counts: built?.counts ?? { virtualServers: 0, realServers: 0, vrrpInstances: 0 },
    diagnostics,
    files: parsed.files,
    exitStatus: exitStatus(diagnostics),
    cannotRun: unreadable || diagnostics.some((d) => d.exitClass === 4),
  };
}
