/**
 * The typed model of a keepalived.conf: what the file says, block by block, in keepalived's own
 * vocabulary. Optional fields are undefined when the file does not set them, so that the config
 * layer can apply keepalived's defaults and its "most specific wins" inheritance. Times are in
 * milliseconds. Every block keeps its position for later diagnostics.
 *
 * A few optional fields (`| undefined`) are present, undefined, when not set: the ones nearly
 * every real server, checker and url sets, which the builders put in the object literal so that
 * the object holds them itself (a field added later goes to a separate property array, one more
 * object per real server, checker and url: over a megabyte on 10,000 real servers).
 */
import type { SourcePosition } from './diagnostics.js';

export interface Located {
  readonly at: SourcePosition;
}

/** A script command as keepalived reads it: argv from the quoted command line, then user/group. */
export interface ScriptSpec extends Located {
  readonly command: string;
  readonly argv: readonly string[];
  readonly user?: string;
  readonly group?: string;
}

export interface GlobalDefs extends Located {
  routerId?: string;
  notificationEmail: string[];
  notificationEmailFrom?: string;
  smtpServer?: { host: string; port: number };
  smtpConnectTimeoutMs?: number;
  enableScriptSecurity: boolean;
  scriptUser?: { user: string; group?: string; at: SourcePosition };
  vrrpStrict: boolean;
  /** `vrrp_version`: the default `version` of vrrp_instances. */
  vrrpVersion?: 2 | 3;
  maxAutoPriority?: number;
  vrrpGarpMasterDelayMs?: number;
  vrrpGarpMasterRepeat?: number;
  lvsSyncDaemon?: LvsSyncDaemon;
  /** Notify FIFOs (issue: hooks). */
  notifyFifo?: { path: string; script?: ScriptSpec };
  vrrpNotifyFifo?: { path: string; script?: ScriptSpec };
  lvsNotifyFifo?: { path: string; script?: ScriptSpec };
  /** Keywords keepalived accepts that lvsd records but does not act on. */
  accepted: Record<string, string[]>;
}

export interface LvsSyncDaemon extends Located {
  interface: string;
  instance?: string;
  id?: number;
  maxlen?: number;
  port?: number;
  ttl?: number;
  group?: string;
}

export interface VrrpScript extends Located {
  name: string;
  script?: ScriptSpec;
  intervalMs?: number;
  timeoutMs?: number;
  weight?: number;
  weightReverse: boolean;
  rise?: number;
  fall?: number;
  initFail: boolean;
  user?: { user: string; group?: string };
}

export interface TrackInterface extends Located {
  name: string;
  weight?: number;
  reverse: boolean;
}
export interface TrackScript extends Located {
  name: string;
  weight?: number;
  reverse: boolean;
}

export interface IpAddressSpec extends Located {
  /** Address as written, without the prefix length. */
  address: string;
  family: 4 | 6;
  prefix?: number;
  broadcast?: string;
  dev?: string;
  scope?: string;
  label?: string;
  noPrefixRoute: boolean;
}

export interface RouteSpec extends Located {
  text: string;
  dev?: string;
}

export interface RuleSpec extends Located {
  text: string;
  preference?: number;
}

export type VrrpState = 'MASTER' | 'BACKUP';

export interface VrrpInstance extends Located {
  name: string;
  state?: VrrpState;
  interface?: string;
  interfaceAt?: SourcePosition;
  virtualRouterId?: number;
  priority?: number;
  advertIntMs?: number;
  version?: 2 | 3;
  nopreempt: boolean;
  preempt: boolean;
  preemptDelayMs?: number;
  authentication?: { type: 'PASS' | 'AH'; pass?: string; at: SourcePosition };
  unicastSrcIp?: string;
  unicastPeers: { address: string; at: SourcePosition }[];
  virtualIpaddress: IpAddressSpec[];
  virtualIpaddressExcluded: IpAddressSpec[];
  virtualRoutes: RouteSpec[];
  virtualRules: RuleSpec[];
  trackInterface: TrackInterface[];
  trackScript: TrackScript[];
  garpMasterDelayMs?: number;
  garpMasterRepeat?: number;
  garpMasterRefreshMs?: number;
  lvsSyncDaemonInterface?: string;
  smtpAlert?: boolean;
  notify: NotifyScripts;
  dontTrackPrimary: boolean;
  useVmac: boolean;
  accepted: Record<string, string[]>;
}

export interface NotifyScripts {
  master?: ScriptSpec;
  backup?: ScriptSpec;
  fault?: ScriptSpec;
  stop?: ScriptSpec;
  deleted?: ScriptSpec;
  generic?: ScriptSpec;
  masterRxLowerPri?: ScriptSpec;
}

export interface VrrpSyncGroup extends Located {
  name: string;
  members: { name: string; at: SourcePosition }[];
  notify: NotifyScripts;
  smtpAlert?: boolean;
  syncGroupTrackingWeight: boolean;
  trackInterface: TrackInterface[];
  trackScript: TrackScript[];
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type LbKind = 'NAT' | 'DR' | 'TUN';

/** The part every checker shares (keepalived's check_api.c). */
export interface CheckerCommon extends Located {
  connectIp?: string;
  connectPort?: number;
  bindto?: string;
  bindPort?: number;
  bindIf?: string;
  connectTimeoutMs?: number | undefined;
  fwmark?: number;
  retry?: number | undefined;
  delayBeforeRetryMs?: number | undefined;
  warmupMs?: number;
  delayLoopMs?: number;
  alpha?: boolean;
  logAllFailures?: boolean;
  /** lvsd extensions. */
  rise?: number;
  fall?: number;
}

export interface HttpUrl extends Located {
  path?: string | undefined;
  digest?: string;
  /** Inclusive ranges; a single code is [n, n]. */
  statusCodes: [number, number][];
  virtualhost?: string;
  regex?: string;
  regexNoMatch: boolean;
}

export interface HttpCheck extends CheckerCommon {
  kind: 'HTTP_GET' | 'SSL_GET';
  urls: HttpUrl[];
  virtualhost?: string;
  enableSni?: boolean;
  fastRecovery?: boolean;
  httpProtocol?: string;
  /** lvsd extensions. */
  maxBodyBytes?: number;
  tlsVerify?: boolean;
}

export interface TcpCheck extends CheckerCommon {
  kind: 'TCP_CHECK';
  send?: string;
  expect?: string;
}

export interface MiscCheck extends CheckerCommon {
  kind: 'MISC_CHECK';
  script?: ScriptSpec;
  timeoutMs?: number;
  dynamic: boolean;
  user?: { user: string; group?: string };
}

/** A checker keepalived knows that lvsd does not run: kept so the model is complete. */
export interface UnsupportedCheck extends Located {
  kind: 'SMTP_CHECK' | 'DNS_CHECK' | 'BFD_CHECK' | 'PING_CHECK' | 'UDP_CHECK' | 'FILE_CHECK';
}

export type Checker = HttpCheck | TcpCheck | MiscCheck | UnsupportedCheck;

export interface RealServer extends Located {
  address: string;
  family: 4 | 6;
  port?: number | undefined;
  weight?: number | undefined;
  lbKind?: LbKind;
  tunnel?: TunnelSpec;
  inhibitOnFailure?: boolean;
  notifyUp?: ScriptSpec;
  notifyDown?: ScriptSpec;
  uthreshold?: number;
  lthreshold?: number;
  virtualhost?: string;
  delayLoopMs?: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  connectTimeoutMs?: number;
  alpha?: boolean;
  checkers: Checker[];
  /** lvsd extensions. */
  rise?: number;
  fall?: number;
  slowStartMs?: number;
  removeOnFailure?: boolean;
}

export interface TunnelSpec {
  type: 'ipip' | 'gue' | 'gre';
  port?: number;
  nocsum?: boolean;
  csum?: boolean;
  remcsum?: boolean;
}

export type VirtualServerKey =
  | { kind: 'address'; address: string; family: 4 | 6; port?: number }
  | { kind: 'fwmark'; fwmark: number; family?: 4 | 6 }
  | { kind: 'group'; group: string };

export interface VirtualServer extends Located {
  key: VirtualServerKey;
  delayLoopMs?: number;
  lbAlgo?: string;
  lbKind?: LbKind;
  tunnel?: TunnelSpec;
  protocol?: Protocol;
  persistenceTimeoutS?: number;
  persistenceGranularity?: string;
  persistenceEngine?: string;
  virtualhost?: string;
  sorryServer?: { address: string; family: 4 | 6; port?: number; at: SourcePosition };
  sorryServerInhibit?: boolean;
  sorryServerLbKind?: LbKind;
  sorryServerTunnel?: TunnelSpec;
  quorum?: number;
  hysteresis?: number;
  quorumUp?: ScriptSpec;
  quorumDown?: ScriptSpec;
  alpha?: boolean;
  omega?: boolean;
  inhibitOnFailure?: boolean;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  connectTimeoutMs?: number;
  weight?: number;
  opsScheduling?: boolean;
  schedulerFlags: string[];
  realServers: RealServer[];
  smtpAlert?: boolean;
  /** lvsd extensions. */
  rise?: number;
  fall?: number;
  slowStartMs?: number;
  removeOnFailure?: boolean;
}

export interface VirtualServerGroupEntry extends Located {
  kind: 'range' | 'fwmark';
  /** For `range`: first address, last octet (or hextet) of the range, and port. */
  address?: string;
  family?: 4 | 6;
  rangeEnd?: string;
  port?: number;
  fwmark?: number;
}

export interface VirtualServerGroup extends Located {
  name: string;
  entries: VirtualServerGroupEntry[];
}

/** lvsd's own extension block: daemon settings and per-server options (docs/config.md). */
export interface LvsdBlock extends Located {
  controlSocket?: string;
  controlSocketReadOnly?: string;
  controlGroup?: string;
  readGroup?: string;
  stateDir?: string;
  metricsAddress?: string;
  ipvsDriver?: 'ipvsadm' | 'memory';
  timingProfile?: 'keepalived' | 'fast';
  keyFile?: string;
  onFailure?: 'weight0' | 'remove';
  checkConcurrency?: number;
  maxBodyBytes?: number;
  webhooks: LvsdWebhook[];
  servers: LvsdServerOptions[];
  /** Admin-state replication (docs/config.md): the other director(s), where to listen. */
  replicationPeers: { address: string; at: SourcePosition }[];
  replicationPort?: number;
  replicationListen?: string;
  maintenance: LvsdMaintenance[];
  /** How long a backup waits for a master that said it restarts (ruling 14). */
  restartGraceMs?: number;
}

/** `maintenance VS RS { at CRON; for DURATION; timezone ZONE; reason TEXT }` (lvsd block). */
export interface LvsdMaintenance extends Located {
  virtualServer: string;
  realServer: string;
  cron?: string;
  durationMs?: number;
  timezone?: string;
  reason?: string;
}

export interface LvsdWebhook extends Located {
  name: string;
  url?: string;
  secretFile?: string;
  timeoutMs?: number;
  events: string[];
}

/** Per-server options for a keepalived.conf the operator keeps valid for keepalived. */
export interface LvsdServerOptions extends Located {
  virtualServer: string;
  realServer?: string;
  rise?: number;
  fall?: number;
  slowStartMs?: number;
  removeOnFailure?: boolean;
}

export interface KeepalivedModel {
  globalDefs: GlobalDefs;
  vrrpScripts: VrrpScript[];
  vrrpInstances: VrrpInstance[];
  vrrpSyncGroups: VrrpSyncGroup[];
  virtualServers: VirtualServer[];
  virtualServerGroups: VirtualServerGroup[];
  staticIpaddress: IpAddressSpec[];
  staticRoutes: RouteSpec[];
  staticRules: RuleSpec[];
  netNamespace?: string;
  lvsd?: LvsdBlock;
}
