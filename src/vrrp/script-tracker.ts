/**
 * One vrrp_script, run on its interval (keepalived's `interval`, `timeout`, `rise`, `fall`):
 * the pure counter (tracking.ts) decides OK/KO; this shell only runs the script and keeps time.
 * Runs never overlap: a script slower than its interval starts again as soon as it ends.
 */
import type { VrrpScriptConfig } from '../config/index.js';
import type { TimerHandle, TimerPort } from '../health/timer-port.js';
import type { Clock } from '../lib/clock.js';
import { initialScript, stepScript, type ScriptCounter } from './tracking.js';

export interface ScriptOutcome {
  readonly ok: boolean;
  /** The reason, as the checker reports it: exit status 1, timeout after 2000 ms, … */
  readonly detail: string;
}

export type ScriptRunner = (script: VrrpScriptConfig) => Promise<ScriptOutcome>;

export class ScriptTracker {
  private counter: ScriptCounter;
  private timer: TimerHandle;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private last = 'not run yet';

  constructor(
    readonly config: VrrpScriptConfig,
    private readonly run: ScriptRunner,
    private readonly clock: Clock,
    private readonly timers: TimerPort,
    private readonly onChange: (ok: boolean, detail: string) => void,
  ) {
    this.counter = initialScript(config.initFail);
  }

  get ok(): boolean {
    return this.counter.ok;
  }

  get detail(): string {
    return this.last;
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.running = this.once();
    }, delayMs);
  }

  private async once(): Promise<void> {
    const started = this.clock.monotonicMs();
    const r = await this.run(this.config).catch((e: unknown): ScriptOutcome => ({
      ok: false,
      detail: `cannot run: ${String(e)}`,
    }));
    if (this.stopped) return;
    const before = this.counter.ok;
    this.counter = stepScript(this.counter, r.ok, this.config.rise, this.config.fall);
    this.last = r.detail;
    if (this.counter.ok !== before) this.onChange(this.counter.ok, r.detail);
    const elapsed = this.clock.monotonicMs() - started;
    this.schedule(Math.max(0, this.config.intervalMs - elapsed));
  }
}
