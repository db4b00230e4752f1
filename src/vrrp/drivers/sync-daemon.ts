/**
 * The IPVS connection-sync daemon, as keepalived's `lvs_sync_daemon IF INSTANCE [id N]
 * [maxlen N] [port N] [ttl N] [group ADDR]` drives it: the MASTER of the named instance runs the
 * kernel's sync daemon as master (it multicasts connection state), the BACKUP as backup (it
 * creates the same connection entries), so connections established through one director survive
 * a failover to the other. On every transition the other role is stopped first, then this one
 * started (keepalived's `ipvs_syncd_master` / `ipvs_syncd_backup`).
 *
 * ipvsadm facts (Debian 12 ipvsadm 1.31, kernel 6.1, measured in ../shared/ipvs-vm):
 * - `ipvsadm -L --daemon` prints one line per running role, nothing when none runs:
 *   `master sync daemon (mcast=s0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)`;
 * - both roles may run at once; starting a running role: `Daemon has already run`, exit 255;
 *   stopping a stopped one: `No daemon is running`, exit 255; a missing interface:
 *   `No such device`, exit 255;
 * - the kernel may adjust maxlen (asked 1000, the backup reported 1024), so maxlen is not part
 *   of "is the right daemon running".
 */
import { LvsdError } from '../../lib/errors.js';
import { commandFailed, runTool, tail, type ToolOptions, type ToolOutput } from './run.js';

export type SyncRole = 'master' | 'backup';

export interface SyncDaemonConfig {
  /** `--mcast-interface`: the interface the sync traffic uses (keepalived's first argument). */
  readonly interface: string;
  /** `--syncid` 0..255 (keepalived `id`; default 0 = any). */
  readonly syncId?: number;
  /** `--sync-maxlen` (keepalived `maxlen`, 1..65507). */
  readonly maxLen?: number;
  /** `--mcast-port` (keepalived `port`; kernel default 8848). */
  readonly port?: number;
  /** `--mcast-ttl` 1..255 (keepalived `ttl`; kernel default 1). */
  readonly ttl?: number;
  /** `--mcast-group` (keepalived `group`; kernel default 224.0.0.81). */
  readonly group?: string;
}

export interface RunningDaemon {
  readonly role: SyncRole;
  readonly interface: string;
  readonly syncId: number;
  readonly maxLen?: number;
  readonly group?: string;
  readonly port?: number;
  readonly ttl?: number;
}

export interface SwitchResult {
  readonly stopped: readonly SyncRole[];
  readonly started: readonly SyncRole[];
}

export interface SyncDaemonDriver {
  /** Starts `role`; rejects with SYNCD_ALREADY_RUNNING if that role runs. */
  start(role: SyncRole, config: SyncDaemonConfig): Promise<void>;
  /** Stops `role`; `changed: false` when it was not running. */
  stop(role: SyncRole): Promise<{ changed: boolean }>;
  /** The daemons that run now. */
  state(): Promise<readonly RunningDaemon[]>;
}

export const SYNCD_ERROR_CODES = {
  alreadyRunning: 'SYNCD_ALREADY_RUNNING',
  noDevice: 'SYNCD_NO_DEVICE',
  /** The kernel has no IPVS (`Protocol not available`). */
  unavailable: 'SYNCD_IPVS_UNAVAILABLE',
  badConfig: 'SYNCD_BAD_CONFIG',
  parse: 'SYNCD_PARSE',
} as const;

const LINE =
  /^(master|backup) sync daemon \(mcast=([^,)]+), syncid=(\d+)(?:, maxlen=(\d+))?(?:, group=([^,)]+))?(?:, port=(\d+))?(?:, ttl=(\d+))?\)$/;

/** Parses `ipvsadm -L --daemon`. */
export function parseDaemonListing(text: string): RunningDaemon[] {
  const out: RunningDaemon[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const m = LINE.exec(line);
    if (m === null) {
      throw new LvsdError(
        SYNCD_ERROR_CODES.parse,
        `cannot parse ipvsadm -L --daemon line: ${JSON.stringify(line)}`,
      );
    }
    const [, role, ifname, syncid, maxlen, group, port, ttl] = m;
    out.push({
      role: role === 'master' ? 'master' : 'backup',
      interface: ifname ?? '',
      syncId: Number(syncid),
      ...(maxlen === undefined ? {} : { maxLen: Number(maxlen) }),
      ...(group === undefined ? {} : { group }),
      ...(port === undefined ? {} : { port: Number(port) }),
      ...(ttl === undefined ? {} : { ttl: Number(ttl) }),
    });
  }
  return out;
}

function range(name: string, v: number | undefined, lo: number, hi: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < lo || v > hi)) {
    throw new LvsdError(
      SYNCD_ERROR_CODES.badConfig,
      `lvs_sync_daemon ${name} must be ${lo}..${hi}, got ${String(v)}`,
    );
  }
}

export function validateSyncConfig(config: SyncDaemonConfig): void {
  if (!/^[^\s/%]{1,15}$/.test(config.interface)) {
    throw new LvsdError(
      SYNCD_ERROR_CODES.badConfig,
      `lvs_sync_daemon interface ${JSON.stringify(config.interface)} is not a device name`,
    );
  }
  range('id', config.syncId, 0, 255);
  range('maxlen', config.maxLen, 1, 65507);
  range('port', config.port, 1, 65535);
  range('ttl', config.ttl, 1, 255);
}

/** The ipvsadm argv for starting `role`. */
export function startArgs(role: SyncRole, config: SyncDaemonConfig): string[] {
  validateSyncConfig(config);
  const args = ['--start-daemon', role, '--mcast-interface', config.interface];
  if (config.syncId !== undefined) args.push('--syncid', String(config.syncId));
  if (config.maxLen !== undefined) args.push('--sync-maxlen', String(config.maxLen));
  if (config.port !== undefined) args.push('--mcast-port', String(config.port));
  if (config.ttl !== undefined) args.push('--mcast-ttl', String(config.ttl));
  if (config.group !== undefined) args.push('--mcast-group', config.group);
  return args;
}

/** Whether a running daemon is the one `config` asks for (maxlen aside: the kernel adjusts it). */
export function matchesConfig(d: RunningDaemon, config: SyncDaemonConfig): boolean {
  return (
    d.interface === config.interface &&
    d.syncId === (config.syncId ?? 0) &&
    (config.port === undefined || d.port === config.port) &&
    (config.ttl === undefined || d.ttl === config.ttl) &&
    (config.group === undefined || d.group === config.group)
  );
}

/**
 * Makes `role` the only running sync daemon with `config` ('none' stops both). Stops the other
 * role first, as keepalived does; a daemon of the wanted role that runs with other settings is
 * restarted; one that already matches is left alone (idempotent: a second call changes nothing).
 */
export async function switchSyncRole(
  driver: SyncDaemonDriver,
  role: SyncRole | 'none',
  config: SyncDaemonConfig,
): Promise<SwitchResult> {
  validateSyncConfig(config);
  const running = await driver.state();
  const stopped: SyncRole[] = [];
  const started: SyncRole[] = [];
  for (const other of ['master', 'backup'] as const) {
    if (other === role) continue;
    if (running.some((d) => d.role === other) && (await driver.stop(other)).changed) {
      stopped.push(other);
    }
  }
  if (role !== 'none') {
    const mine = running.find((d) => d.role === role);
    if (mine !== undefined && !matchesConfig(mine, config)) {
      if ((await driver.stop(role)).changed) stopped.push(role);
    }
    if (mine === undefined || !matchesConfig(mine, config)) {
      await driver.start(role, config);
      started.push(role);
    }
  }
  return { stopped, started };
}

const NO_IPVS = /Protocol not available/;

export type IpvsadmSyncOptions = ToolOptions & { readonly ipvsadmPath?: string };

/** The real driver: ipvsadm through execa, optionally inside a network namespace. */
export class IpvsadmSyncDaemon implements SyncDaemonDriver {
  constructor(private readonly options: IpvsadmSyncOptions = {}) {}

  private async run(args: readonly string[]): Promise<ToolOutput> {
    const out = await runTool(this.options, this.options.ipvsadmPath ?? 'ipvsadm', args);
    if (NO_IPVS.test(out.stderr)) {
      throw new LvsdError(
        SYNCD_ERROR_CODES.unavailable,
        `${out.shown}: no IPVS in this kernel (${tail(out.stderr).split('\n').join(' / ')})`,
        'modprobe ip_vs',
      );
    }
    return out;
  }

  async start(role: SyncRole, config: SyncDaemonConfig): Promise<void> {
    const out = await this.run(startArgs(role, config));
    if (out.exitCode === 0 && out.stderr.trim() === '') return;
    if (/^Daemon has already run$/m.test(out.stderr)) {
      throw new LvsdError(
        SYNCD_ERROR_CODES.alreadyRunning,
        `the IPVS ${role} sync daemon already runs`,
      );
    }
    if (/^No such device$/m.test(out.stderr)) {
      throw new LvsdError(
        SYNCD_ERROR_CODES.noDevice,
        `lvs_sync_daemon interface ${config.interface} does not exist`,
      );
    }
    throw commandFailed(out);
  }

  async stop(role: SyncRole): Promise<{ changed: boolean }> {
    const out = await this.run(['--stop-daemon', role]);
    if (out.exitCode === 0 && out.stderr.trim() === '') return { changed: true };
    if (/^No daemon is running$/m.test(out.stderr)) return { changed: false };
    throw commandFailed(out);
  }

  async state(): Promise<readonly RunningDaemon[]> {
    const out = await this.run(['-L', '--daemon']);
    if (out.exitCode !== 0) throw commandFailed(out);
    return parseDaemonListing(out.stdout);
  }

  /** switchSyncRole with this driver. */
  switch(role: SyncRole | 'none', config: SyncDaemonConfig): Promise<SwitchResult> {
    return switchSyncRole(this, role, config);
  }
}
