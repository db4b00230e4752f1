/**
 * The admin state at run time: the reducer's state, saved by the store after every change and
 * before the caller hears "done", with the maintenance scheduler kept in line. Commands run one
 * at a time; a change that cannot be saved is rolled back and the error thrown, so what lvsd
 * reports as done is what a restart finds.
 *
 * The daemon owns one AdminService: `drained(vs, rs)` feeds the desired table, `onChange`
 * pokes the reconciler and publishes events.
 */
import type { Clock } from '../lib/clock.js';
import type { TimerPort } from '../health/timer-port.js';
import { MaintScheduler, windowProblem } from './schedule.js';
import {
  apply,
  canonicalJson,
  drainOf,
  expire,
  liveDrains,
  liveWindows,
  merge,
  nextExpiry,
  type AdminCommand,
  type AdminResult,
  type AdminState,
  type DrainOverride,
  type MaintWindow,
  type OverrideEntry,
} from './state.js';
import { encodeState } from './codec.js';
import type { AdminStore, LoadOutcome } from './store.js';

export type AdminChange =
  | { readonly kind: 'command'; readonly command: AdminCommand; readonly result: AdminResult }
  | { readonly kind: 'expired'; readonly entries: readonly OverrideEntry[] }
  | { readonly kind: 'merged' };

/** What the service needs of a store (AdminStore; tests pass an in-memory one). */
export type AdminStateStore = Pick<AdminStore, 'load' | 'save'>;

export interface AdminServiceOptions {
  readonly store: AdminStateStore;
  readonly clock: Clock;
  /** This director's id (the VRRP router_id or host name): stamped on every change. */
  readonly director: string;
  readonly timers?: TimerPort;
  readonly onChange?: (change: AdminChange) => void;
  readonly onError?: (what: string, err: unknown) => void;
}

/** A command as callers give it: the service adds the director id. */
export type AdminRequest = AdminCommand extends infer C
  ? C extends AdminCommand
    ? Omit<C, 'director'>
    : never
  : never;

export class AdminService {
  private current: AdminState;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly scheduler: MaintScheduler;

  private constructor(
    private readonly opts: AdminServiceOptions,
    initial: AdminState,
  ) {
    this.current = initial;
    this.scheduler = new MaintScheduler({
      clock: opts.clock,
      ...(opts.timers ? { timers: opts.timers } : {}),
      onFire: (id) => {
        void this.run({ type: 'window-start', id }).catch((err: unknown) =>
          opts.onError?.(`maintenance window ${id}`, err),
        );
      },
      onExpiry: () => {
        void this.expireNow().catch((err: unknown) => opts.onError?.('drain expiry', err));
      },
      onError: (id, err) => opts.onError?.(`maintenance window ${id}`, err),
    });
  }

  /** Loads the saved state (see LoadOutcome: the caller logs corrupt/too-new loudly) and starts. */
  static async open(
    opts: AdminServiceOptions,
  ): Promise<{ service: AdminService; load: LoadOutcome }> {
    const load = await opts.store.load();
    const service = new AdminService(opts, load.state);
    await service.expireNow();
    service.resync();
    return { service, load };
  }

  get state(): AdminState {
    return this.current;
  }

  drainOf(vs: string, rs: string): DrainOverride | undefined {
    return drainOf(this.current, vs, rs, this.opts.clock.wallMs());
  }

  drained(vs: string, rs: string): boolean {
    return this.drainOf(vs, rs) !== undefined;
  }

  drains(): ReturnType<typeof liveDrains> {
    return liveDrains(this.current);
  }

  windows(): (MaintWindow & { nextRun?: number })[] {
    return liveWindows(this.current).map((w) => {
      const next = this.scheduler.nextRun(w.id);
      return next === undefined ? w : { ...w, nextRun: next };
    });
  }

  /** Applies one command, saves, then reports. Bad cron or zone → BAD_REQUEST, nothing changed. */
  run(request: AdminRequest): Promise<AdminResult> {
    return this.serial(async () => {
      if (request.type === 'maint-add') {
        const problem = windowProblem(request.cron, request.timezone);
        if (problem) return { ok: false, code: 'BAD_REQUEST', message: problem };
      }
      const command = { ...request, director: this.opts.director } as AdminCommand;
      const t = apply(this.current, command, this.opts.clock.wallMs());
      if (t.result.ok && t.result.changed) await this.commit(t.state);
      this.opts.onChange?.({ kind: 'command', command, result: t.result });
      return t.result;
    });
  }

  /**
   * Makes the configuration's maintenance windows the live ones it declared: new ones are
   * added, ones this director declared from an older configuration are cancelled. Windows an
   * operator added, or the peer's configuration declared, are left alone.
   */
  async syncConfigWindows(
    windows: readonly {
      id: string;
      vs: string;
      rs: string;
      cron: string;
      durationMs: number;
      timezone: string;
      reason: string;
    }[],
  ): Promise<void> {
    const wanted = new Set(windows.map((w) => w.id));
    for (const w of windows)
      if (!this.current.windows.get(w.id)?.window)
        await this.run({ type: 'maint-add', ...w, by: 'config' });
    for (const e of [...this.current.windows.values()])
      if (
        e.window &&
        e.id.startsWith('cfg-') &&
        e.version.director === this.opts.director &&
        !wanted.has(e.id)
      )
        await this.run({ type: 'maint-cancel', id: e.id, by: 'config' });
  }

  /**
   * Folds in a peer's state (replication); resolves true when it changed anything. A state
   * already known (the periodic resend) is neither saved nor reported.
   */
  mergeRemote(remote: AdminState): Promise<boolean> {
    return this.serial(async () => {
      const next = merge(this.current, remote);
      if (canonicalJson(encodeState(next)) === canonicalJson(encodeState(this.current)))
        return false;
      await this.commit(next);
      this.opts.onChange?.({ kind: 'merged' });
      return true;
    });
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.queue.catch(() => undefined);
  }

  private expireNow(): Promise<void> {
    return this.serial(async () => {
      const t = expire(this.current, this.opts.clock.wallMs());
      if (t.expired.length > 0) {
        await this.commit(t.state);
        this.opts.onChange?.({ kind: 'expired', entries: t.expired });
      } else {
        this.resync();
      }
    });
  }

  private async commit(next: AdminState): Promise<void> {
    const before = this.current;
    this.current = next;
    try {
      await this.opts.store.save(next);
    } catch (err) {
      this.current = before;
      throw err;
    }
    this.resync();
  }

  private resync(): void {
    this.scheduler.sync(liveWindows(this.current));
    this.scheduler.armExpiry(nextExpiry(this.current));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.catch(() => undefined).then(fn);
    this.queue = p;
    return p;
  }
}
