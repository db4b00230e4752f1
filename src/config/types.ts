/**
 * The validated lvsd configuration: keepalived's defaults and inheritance applied, names
 * resolved, cross-checks done. The rest of lvsd sees only this (never raw keepalived words).
 * Times are milliseconds. Everything is readonly by type; only the root is frozen at run time
 * (freezing every object cost 20 ms per 10,000 real servers at start-up).
 */
export type Protocol = 'tcp' | 'udp' | 'sctp';
export type Forwarding = 'nat' | 'dr' | 'tun';
export type Family = 4 | 6;

export interface Script {
  readonly argv: readonly string[];
  /** The user (and group) it runs as after keepalived's rules (script-specific, script_user, default). */
  readonly user: string;
  readonly group?: string;
  readonly at: string;
}

export interface Tunnel {
  readonly type: 'ipip' | 'gue' | 'gre';
  readonly port?: number;
  readonly checksum?: 'nocsum' | 'csum' | 'remcsum';
}

export type ServiceKey =
  | {
      readonly kind: 'service';
      readonly protocol: Protocol;
      readonly address: string;
      readonly family: Family;
      readonly port: number;
    }
  | { readonly kind: 'fwmark'; readonly fwmark: number; readonly family: Family };

export interface HealthPolicy {
  /** keepalived's retry: failures tolerated before down (down after retry + 1 failures). */
  readonly retry: number;
  readonly delayBeforeRetryMs: number;
  readonly delayLoopMs: number;
  readonly warmupMs: number;
  /** lvsd: consecutive successes to go up; absent = keepalived's rule (the first success). */
  readonly rise?: number;
  /** lvsd: consecutive failures to go down; absent = keepalived's retry rules (retry + 1,
   * and the first failure at start-up). */
  readonly fall?: number;
  /** keepalived's alpha: start down and come up on the first pass. */
  readonly alpha: boolean;
  /** lvsd: ramp the weight up over this long after recovery (0 = off). */
  readonly slowStartMs: number;
}

interface CheckCommon {
  readonly id: string;
  readonly address: string;
  readonly family: Family;
  readonly port: number;
  readonly bindto?: string;
  readonly bindPort?: number;
  readonly bindIf?: string;
  readonly connectTimeoutMs: number;
  readonly fwmark?: number;
  readonly health: HealthPolicy;
  readonly logAllFailures: boolean;
  readonly at: string;
}

export interface HttpCheckConfig extends CheckCommon {
  readonly kind: 'http' | 'https';
  readonly urls: readonly {
    readonly path: string;
    readonly statusCodes: readonly (readonly [number, number])[];
    readonly digest?: string;
    readonly virtualhost?: string;
  }[];
  readonly sni?: string;
  readonly maxBodyBytes: number;
  readonly tlsVerify: boolean;
  readonly fastRecovery: boolean;
  readonly httpVersion: '1.0' | '1.1';
}

export interface TcpCheckConfig extends CheckCommon {
  readonly kind: 'tcp';
  readonly send?: string;
  readonly expect?: string;
}

export interface MiscCheckConfig extends CheckCommon {
  readonly kind: 'misc';
  readonly script: Script;
  readonly timeoutMs: number;
  readonly dynamic: boolean;
}

export type CheckConfig = HttpCheckConfig | TcpCheckConfig | MiscCheckConfig;

export interface RealServerConfig {
  /** `ADDR:PORT` (IPv6 as `[ADDR]:PORT`), unique within its virtual server. */
  readonly name: string;
  readonly address: string;
  readonly family: Family;
  readonly port: number;
  readonly weight: number;
  readonly forwarding: Forwarding;
  readonly tunnel?: Tunnel;
  readonly upperThreshold?: number;
  readonly lowerThreshold?: number;
  /** What a failed server gets: lvsd's default is weight 0 (ruling 5); `remove` is keepalived's. */
  readonly onFailure: 'weight0' | 'remove';
  readonly notifyUp?: Script;
  readonly notifyDown?: Script;
  readonly checks: readonly CheckConfig[];
  /** Checkers keepalived has that lvsd does not run (the server is then not checked). */
  readonly unsupportedChecks: readonly string[];
  readonly health: HealthPolicy;
  readonly at: string;
}

export interface VirtualServerConfig {
  /** `tcp:ADDR:PORT`, `udp:…`, `sctp:…`, `fwm:N`, `group:NAME` (ruling 9). */
  readonly name: string;
  /** The IPVS services it stands for (a group expands to several). */
  readonly services: readonly ServiceKey[];
  readonly scheduler: string;
  readonly schedulerFlags: readonly string[];
  readonly onePacketScheduling: boolean;
  readonly persistence?: { readonly timeoutS: number; readonly granularity?: string };
  readonly forwarding: Forwarding;
  readonly quorum: number;
  readonly hysteresis: number;
  readonly quorumUp?: Script;
  readonly quorumDown?: Script;
  readonly sorryServer?: {
    readonly address: string;
    readonly family: Family;
    readonly port: number;
    readonly forwarding: Forwarding;
    readonly inhibit: boolean;
    readonly tunnel?: Tunnel;
  };
  readonly omega: boolean;
  readonly realServers: readonly RealServerConfig[];
  readonly at: string;
}

export interface TrackConfig {
  readonly name: string;
  readonly weight: number;
  readonly reverse: boolean;
}

export interface VrrpScriptConfig {
  readonly name: string;
  readonly script: Script;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly weight: number;
  readonly weightReverse: boolean;
  readonly rise: number;
  readonly fall: number;
  readonly initFail: boolean;
  readonly at: string;
}

export interface VirtualAddress {
  readonly address: string;
  readonly family: Family;
  readonly prefix: number;
  readonly dev: string;
  readonly broadcast?: string;
  readonly scope?: string;
  readonly label?: string;
}

export interface NotifyConfig {
  readonly master?: Script;
  readonly backup?: Script;
  readonly fault?: Script;
  readonly stop?: Script;
  readonly deleted?: Script;
  readonly generic?: Script;
}

export interface VrrpInstanceConfig {
  readonly name: string;
  readonly interface?: string;
  readonly virtualRouterId: number;
  readonly family: Family;
  readonly initialState: 'MASTER' | 'BACKUP';
  readonly priority: number;
  readonly advertIntMs: number;
  readonly version: 2 | 3;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  readonly auth:
    | { readonly kind: 'none' }
    | { readonly kind: 'pass'; readonly pass: string }
    | { readonly kind: 'ah'; readonly pass: string }
    | { readonly kind: 'key-file'; readonly path: string };
  readonly unicastSrcIp?: string;
  readonly unicastPeers: readonly string[];
  readonly virtualAddresses: readonly VirtualAddress[];
  readonly excludedAddresses: readonly VirtualAddress[];
  readonly trackInterfaces: readonly TrackConfig[];
  readonly trackScripts: readonly TrackConfig[];
  readonly garpMasterDelayMs: number;
  readonly garpMasterRepeat: number;
  readonly notify: NotifyConfig;
  /** keepalived's notify_priority_changes: FIFO lines for effective-priority changes. */
  readonly notifyPriorityChanges: boolean;
  readonly syncGroup?: string;
  readonly at: string;
}

export interface VrrpSyncGroupConfig {
  readonly name: string;
  readonly members: readonly string[];
  readonly notify: NotifyConfig;
  readonly trackingWeight: boolean;
  readonly at: string;
}

export interface WebhookConfig {
  readonly name: string;
  readonly url: string;
  readonly secretFile?: string;
  readonly timeoutMs: number;
  readonly events: readonly string[];
}

export interface NotifyFifo {
  readonly path: string;
  /** The `_script` reader, resolved like every script (user, security); argv without the path. */
  readonly script?: Script;
}

/** keepalived's notify_fifo (all events), vrrp_notify_fifo, lvs_notify_fifo. */
export interface NotifyFifos {
  readonly all?: NotifyFifo;
  readonly vrrp?: NotifyFifo;
  readonly lvs?: NotifyFifo;
}

export interface DaemonSettings {
  readonly controlSocket: string;
  readonly controlSocketReadOnly: string;
  readonly controlGroup?: string;
  readonly readGroup?: string;
  readonly stateDir: string;
  readonly metricsAddress: string;
  readonly ipvsDriver?: 'ipvsadm' | 'memory';
  readonly timingProfile: 'keepalived' | 'fast';
  readonly keyFile?: string;
  readonly checkConcurrency: number;
  readonly webhooks: readonly WebhookConfig[];
  /** How long this director, as backup, waits for a master that said it restarts. */
  readonly restartGraceMs: number;
  /** Maintenance windows declared in the lvsd block (ids from their content). */
  readonly maintenance: readonly {
    readonly id: string;
    readonly vs: string;
    readonly rs: string;
    readonly cron: string;
    readonly durationMs: number;
    readonly timezone: string;
    readonly reason: string;
  }[];
  /** Admin-state replication to the other director; absent: not configured. */
  readonly replication?: {
    readonly peers: readonly string[];
    readonly port: number;
    readonly listen?: string;
  };
}

export interface Config {
  readonly routerId: string;
  readonly scriptSecurity: boolean;
  readonly virtualServers: readonly VirtualServerConfig[];
  readonly vrrpScripts: readonly VrrpScriptConfig[];
  readonly vrrpInstances: readonly VrrpInstanceConfig[];
  readonly vrrpSyncGroups: readonly VrrpSyncGroupConfig[];
  readonly lvsSyncDaemon?: {
    readonly interface: string;
    readonly instance?: string;
    readonly id?: number;
    readonly port?: number;
    readonly ttl?: number;
    readonly group?: string;
    readonly maxlen?: number;
  };
  readonly daemon: DaemonSettings;
  readonly notifyFifos: NotifyFifos;
  /** Where lvsd deliberately acts unlike keepalived for this file (shown by --dump). */
  readonly differences: readonly string[];
}
