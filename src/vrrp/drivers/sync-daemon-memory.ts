/**
 * The in-memory twin of the IPVS sync daemon, with the kernel's rules as measured (see
 * sync-daemon.ts): both roles may run at once, starting a running role fails, stopping a
 * stopped one changes nothing, unset options take the kernel's defaults (syncid 0, maxlen 1472,
 * group 224.0.0.81, port 8848, ttl 1), and an unknown interface is "No such device" when the
 * twin is given the list of interfaces.
 */
import { LvsdError } from '../../lib/errors.js';
import {
  SYNCD_ERROR_CODES,
  switchSyncRole,
  validateSyncConfig,
  type RunningDaemon,
  type SwitchResult,
  type SyncDaemonConfig,
  type SyncDaemonDriver,
  type SyncRole,
} from './sync-daemon.js';

export class MemorySyncDaemon implements SyncDaemonDriver {
  private readonly running = new Map<SyncRole, RunningDaemon>();
  /** Every start/stop that changed something: `start master s0`, `stop backup`. */
  readonly log: string[] = [];
  constructor(private readonly interfaces?: ReadonlySet<string>) {}

  start(role: SyncRole, config: SyncDaemonConfig): Promise<void> {
    return Promise.resolve().then(() => {
      validateSyncConfig(config);
      if (this.running.has(role)) {
        throw new LvsdError(
          SYNCD_ERROR_CODES.alreadyRunning,
          `the IPVS ${role} sync daemon already runs`,
        );
      }
      if (this.interfaces !== undefined && !this.interfaces.has(config.interface)) {
        throw new LvsdError(
          SYNCD_ERROR_CODES.noDevice,
          `lvs_sync_daemon interface ${config.interface} does not exist`,
        );
      }
      this.running.set(role, {
        role,
        interface: config.interface,
        syncId: config.syncId ?? 0,
        maxLen: config.maxLen ?? 1472,
        group: config.group ?? '224.0.0.81',
        port: config.port ?? 8848,
        ttl: config.ttl ?? 1,
      });
      this.log.push(`start ${role} ${config.interface}`);
    });
  }

  stop(role: SyncRole): Promise<{ changed: boolean }> {
    const had = this.running.delete(role);
    if (had) this.log.push(`stop ${role}`);
    return Promise.resolve({ changed: had });
  }

  state(): Promise<readonly RunningDaemon[]> {
    return Promise.resolve(
      (['master', 'backup'] as const).flatMap((r) => {
        const d = this.running.get(r);
        return d === undefined ? [] : [d];
      }),
    );
  }

  switch(role: SyncRole | 'none', config: SyncDaemonConfig): Promise<SwitchResult> {
    return switchSyncRole(this, role, config);
  }
}
