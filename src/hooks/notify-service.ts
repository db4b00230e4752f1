/**
 * keepalived's notifications, driven by the event stream alone: notify scripts through the
 * runner, lines to the notify FIFOs. Subscribing costs the publisher a plan (a few map
 * look-ups), a queue push and non-blocking FIFO writes; nothing it does waits on a script.
 */
import type { Config } from '../config/types.js';
import type { AnyEvent, EventBus } from '../lib/events.js';
import { hookFailed } from './hook-failure.js';
import type { ObserverLog } from './log-port.js';
import { NotifyFifo, type NotifyFifoConfig, type NotifyFifoOptions } from './notify-fifo.js';
import { NotifyPlanner } from './notify-plan.js';
import {
  DEFAULT_HOOK_OUTPUT_BYTES,
  DEFAULT_HOOK_TIMEOUT_MS,
  HookRunner,
  type HookOutcome,
} from './script-runner.js';
import type { HookQueuePolicy } from './hook-queue.js';
import type { ScriptRun } from '../health/checkers/misc.js';

/** keepalived's three FIFOs: `all` gets every line, `vrrp` and `lvs` their own kind. */
export interface NotifyFifoSettings {
  readonly all?: NotifyFifoConfig;
  readonly vrrp?: NotifyFifoConfig;
  readonly lvs?: NotifyFifoConfig;
}

export interface NotifyServiceOptions {
  readonly bus: EventBus;
  readonly config: Config;
  readonly fifos?: NotifyFifoSettings;
  readonly log: ObserverLog;
  readonly timeoutMs?: number;
  readonly maxOutputBytes?: number;
  readonly policy?: HookQueuePolicy;
  readonly onOutcome?: (outcome: HookOutcome) => void;
  readonly runScript?: ScriptRun;
}

type FifoRole = keyof NotifyFifoSettings;
const ROLES: readonly FifoRole[] = ['all', 'vrrp', 'lvs'];

export class NotifyService {
  private readonly planner: NotifyPlanner;
  readonly runner: HookRunner;
  private fifos = new Map<FifoRole, NotifyFifo>();
  private unsubscribe: (() => void) | undefined;
  private settings: NotifyFifoSettings;

  private constructor(private readonly opts: NotifyServiceOptions) {
    this.planner = new NotifyPlanner(opts.config);
    this.settings = opts.fifos ?? {};
    this.runner = new HookRunner({
      timeoutMs: opts.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
      maxOutputBytes: opts.maxOutputBytes ?? DEFAULT_HOOK_OUTPUT_BYTES,
      scriptSecurity: opts.config.scriptSecurity,
      log: opts.log,
      ...(opts.policy ? { policy: opts.policy } : {}),
      onOutcome: (o) => {
        this.outcome(o);
      },
      ...(opts.runScript ? { runScript: opts.runScript } : {}),
    });
  }

  static async start(opts: NotifyServiceOptions): Promise<NotifyService> {
    const s = new NotifyService(opts);
    await s.openFifos(s.settings);
    s.unsubscribe = opts.bus.subscribe((e) => {
      s.onEvent(e);
    });
    return s;
  }

  /** New scripts and FIFO paths; every VRRP state is written again to the VRRP FIFOs. */
  async reload(config: Config, fifos: NotifyFifoSettings | undefined): Promise<void> {
    this.planner.configure(config);
    const next = fifos ?? {};
    for (const role of ROLES) {
      const was = this.settings[role];
      const now = next[role];
      if (JSON.stringify(was) === JSON.stringify(now)) continue;
      await this.fifos.get(role)?.close();
      this.fifos.delete(role);
      if (now) this.fifos.set(role, await NotifyFifo.open(now, this.fifoOptions(config)));
    }
    this.settings = next;
    const replay = this.planner.replayVrrpLines();
    this.fifos.get('all')?.write(replay);
    this.fifos.get('vrrp')?.write(replay);
  }

  async stop(graceMs?: number): Promise<void> {
    this.unsubscribe?.();
    await this.runner.stop(graceMs);
    for (const f of this.fifos.values()) await f.close();
    this.fifos.clear();
  }

  fifoStats(): { role: FifoRole; path: string; written: number; dropped: number }[] {
    return [...this.fifos].map(([role, f]) => ({
      role,
      path: f.config.path,
      written: f.written,
      dropped: f.dropped,
    }));
  }

  private onEvent(e: AnyEvent): void {
    const plan = this.planner.plan(e);
    for (const run of plan.runs) this.runner.submit(run);
    if (plan.vrrpLines.length > 0) {
      this.fifos.get('all')?.write(plan.vrrpLines);
      this.fifos.get('vrrp')?.write(plan.vrrpLines);
    }
    if (plan.lvsLines.length > 0) {
      this.fifos.get('all')?.write(plan.lvsLines);
      this.fifos.get('lvs')?.write(plan.lvsLines);
    }
  }

  /** Every run's outcome to the caller (metrics); a failure also onto the stream. */
  private outcome(o: HookOutcome): void {
    this.opts.onOutcome?.(o);
    if (o.ok) return;
    // A run dropped or refused is reported inside the bus listener that submitted it: a
    // publish from there would reach later listeners before the event that caused it.
    const f = hookFailed(o);
    queueMicrotask(() => this.opts.bus.publish('hook.failed', f.subject, f.cause, f.data));
  }

  private fifoOptions(config: Config): NotifyFifoOptions {
    return {
      log: this.opts.log,
      scriptSecurity: config.scriptSecurity,
      onScriptOutcome: (o) => {
        this.outcome(o);
      },
    };
  }

  private async openFifos(settings: NotifyFifoSettings): Promise<void> {
    for (const role of ROLES) {
      const c = settings[role];
      if (c) this.fifos.set(role, await NotifyFifo.open(c, this.fifoOptions(this.opts.config)));
    }
  }
}
