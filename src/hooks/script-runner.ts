/**
 * Runs notify scripts (shell). The process work — no shell, its own process group killed at
 * the timeout, stdout+stderr captured up to a cap, run as the configured user, refused by
 * script security when a non-root user could change it — is MISC_CHECK's runner, reused so
 * both follow one set of rules (ruling 6). This module adds the order and the bounds: one
 * subject's scripts in event order, a global cap on concurrent runs, bounded waiting, and an
 * outcome for every run, logged and counted. Nothing here is awaited by the code that
 * publishes events: a slow or hanging script delays only later scripts of its own subject.
 */
import { probeMisc, type ScriptRun } from '../health/checkers/misc.js';
import type { ProbeCode } from '../health/result.js';
import { DEFAULT_HOOK_QUEUE_POLICY, HookQueue, type HookQueuePolicy } from './hook-queue.js';
import type { HookKind, NotifyRun } from './notify-plan.js';
import type { ObserverLog } from './log-port.js';

export interface HookOutcome {
  readonly hook: HookKind | 'fifo_script';
  readonly queue: string;
  readonly argv: readonly string[];
  readonly ok: boolean;
  readonly code: ProbeCode | 'dropped' | 'refused';
  readonly reason: string;
  readonly durationMs: number;
}

export interface HookRunnerOptions {
  /** keepalived has none for notify scripts; lvsd kills a notify script after this. */
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly scriptSecurity: boolean;
  readonly policy?: HookQueuePolicy;
  readonly log: ObserverLog;
  readonly onOutcome?: (outcome: HookOutcome) => void;
  /** How scripts start; default probeMisc (the daemon passes its spawner). */
  readonly runScript?: ScriptRun;
}

export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_HOOK_OUTPUT_BYTES = 4096;

export class HookRunner {
  private readonly queue: HookQueue<NotifyRun>;
  private readonly active = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private stopping = false;

  constructor(private readonly opts: HookRunnerOptions) {
    this.queue = new HookQueue(opts.policy ?? DEFAULT_HOOK_QUEUE_POLICY);
  }

  submit(run: NotifyRun): void {
    if (this.stopping) return;
    const r = this.queue.push(run.queue, run);
    if (r.dropped)
      this.report(r.dropped, 'dropped', 'dropped: too many runs waiting for this subject', 0);
    if (r.refused) this.report(run, 'refused', 'refused: too many subjects waiting', 0);
    this.pump();
  }

  /** Resolves when nothing runs or waits (tests; the stop drain). Bounded by `maxMs`. */
  async idle(maxMs = 60_000): Promise<boolean> {
    const until = performance.now() + maxMs;
    while (this.active.size > 0 || this.queue.waitingCount > 0) {
      if (performance.now() >= until) return false;
      await Promise.race([...this.active, new Promise((r) => setTimeout(r, 50))]);
    }
    return true;
  }

  /**
   * Lets queued scripts (the notify_stop runs of a shutdown) finish for up to `graceMs`, then
   * kills whatever still runs and waits for it to exit.
   */
  async stop(graceMs = 2000): Promise<void> {
    const drained = await this.idle(graceMs);
    this.stopping = true;
    if (!drained) this.abort.abort();
    await Promise.allSettled([...this.active]);
  }

  get waiting(): number {
    return this.queue.waitingCount;
  }

  get running(): number {
    return this.queue.runningCount;
  }

  private pump(): void {
    for (const { subject, job } of this.queue.take()) {
      const p = this.execute(job).finally(() => {
        this.active.delete(p);
        this.queue.done(subject);
        this.pump();
      });
      this.active.add(p);
    }
  }

  private async execute(run: NotifyRun): Promise<void> {
    const r = await (this.opts.runScript ?? probeMisc)(
      {
        argv: run.argv,
        timeoutMs: this.opts.timeoutMs,
        dynamic: false,
        user: run.script.user,
        ...(run.script.group === undefined ? {} : { group: run.script.group }),
        maxOutputBytes: this.opts.maxOutputBytes,
        scriptSecurity: this.opts.scriptSecurity,
      },
      this.abort.signal,
    );
    this.report(run, r.code, r.reason, r.latencyMs, r.detail?.output);
  }

  private report(
    run: NotifyRun,
    code: HookOutcome['code'],
    reason: string,
    durationMs: number,
    output?: string,
  ): void {
    const outcome: HookOutcome = {
      hook: run.hook,
      queue: run.queue,
      argv: run.argv,
      ok: code === 'ok',
      code,
      reason,
      durationMs: Math.round(durationMs),
    };
    // Script output is untrusted text: it goes under its own key, capped by the runner.
    const fields = {
      hook: {
        kind: run.hook,
        subject: run.queue,
        argv: run.argv,
        code,
        durationMs: outcome.durationMs,
      },
      ...(output === undefined || output === '' ? {} : { output }),
    };
    if (outcome.ok) this.opts.log.info(fields, `${run.hook} ${run.argv[0] ?? ''}: ${reason}`);
    else this.opts.log.warn(fields, `${run.hook} ${run.argv[0] ?? ''} failed: ${reason}`);
    this.opts.onOutcome?.(outcome);
  }
}
