/**
 * The check scheduler (shell): owns time, concurrency and cancellation; knows nothing about
 * what a check does (the probe is injected) or what a result means (the callback decides, and
 * may ask for a retry).
 *
 * Why it is shaped this way (shared/notes/performance.md): wake-ups dominate a checker's CPU,
 * so there is ONE timer, armed for the coarse tick (default 50 ms) at or after the earliest due
 * time or timeout deadline; each wake-up starts every check due by then as one batch. There is
 * no timer per check and no timer per timeout: deadlines live in the same queue and are served
 * by the same tick, so a timeout fires up to one tick late, which is fine for second-scale
 * connect timeouts.
 *
 * Guarantees:
 *   - a check never overlaps itself: its next run is scheduled only when the previous one has
 *     settled (so a slow check skips its missed slots; see plan.ts nextDueMs);
 *   - at most `maxConcurrent` probes are in flight; due checks wait FIFO by due time;
 *   - each run gets a cancel signal (cancel.ts: AbortSignal's interface, without its cost) that
 *     fires at `timeoutMs` (reason code CHECK_TIMEOUT), on update/remove (CHECK_UPDATED /
 *     CHECK_REMOVED) and on stop (SCHEDULER_STOPPED);
 *   - a run's result is delivered only if its check was neither updated nor removed meanwhile;
 *     after a remove (or update) the same id does not run again until the old run has settled;
 *   - `stop()` aborts everything in flight and resolves when every probe has settled; results
 *     that arrive during stop are discarded.
 * A probe that ignores its signal and never settles stalls only its own check and holds one
 * concurrency slot; probes must honour the signal (the checkers do).
 */
import { LvsdError } from '../lib/errors.js';
import { CancelToken } from './cancel.js';
import type {
  NextRun,
  RunOutcome,
  ScheduledCheck,
  SchedulerOptions,
  SchedulerStats,
} from './check-run.js';
import type { TimerHandle } from './timer-port.js';
import { Deadlines } from './deadlines.js';
import { DueQueue } from './due-queue.js';
import { firstDueMs, nextDueMs, tickAtOrAfter } from './plan.js';

export type { CancelSignal } from './cancel.js';
export type { TimerHandle, TimerPort } from './timer-port.js';
export { systemTimers } from './timer-port.js';
export type {
  NextRun,
  RunInfo,
  RunOutcome,
  ScheduledCheck,
  SchedulerOptions,
  SchedulerStats,
} from './check-run.js';
export { nextRunFromEffects } from './check-run.js';

type Phase = 'scheduled' | 'queued' | 'running' | 'idle';

/**
 * One run of a check; it is also the probe's cancel signal, so a run costs one object (plus its
 * two settle callbacks) instead of a run record, an AbortController and its signal.
 */
class Run<C extends ScheduledCheck> extends CancelToken {
  readonly deadlineMs: number;
  readonly generation: number;
  readonly dueMs: number;
  timedOut = false;
  done = false;

  constructor(
    readonly entry: Entry<C>,
    readonly startedMs: number,
    timeoutMs: number,
  ) {
    super();
    this.deadlineMs = startedMs + timeoutMs;
    this.generation = entry.generation;
    this.dueMs = entry.dueMs;
  }
}

interface Entry<C extends ScheduledCheck> {
  readonly id: string;
  /** null: removed, kept only until its in-flight run settles. */
  check: C | null;
  /** Bumped by update/remove; a run whose generation is stale has its result discarded. */
  generation: number;
  phase: Phase;
  /** The last regular slot (the anchor of the schedule). */
  anchorMs: number;
  dueMs: number;
  /** The queue's insertion number of this entry's live slot; older slots are stale. */
  dueToken: number;
  run: Run<C> | null;
}

function validate(check: ScheduledCheck): void {
  if (!(check.intervalMs > 0) || !(check.timeoutMs > 0)) {
    throw new LvsdError(
      'CHECK_INVALID',
      `check ${check.id}: intervalMs and timeoutMs must be > 0 (got ${check.intervalMs}, ${check.timeoutMs})`,
    );
  }
}

/** A queued slot is stale once its entry was rescheduled (new token) or left 'scheduled'. */
function isStale(entry: Entry<ScheduledCheck>, token: number): boolean {
  return token !== entry.dueToken || entry.phase !== 'scheduled';
}

export class Scheduler<R, C extends ScheduledCheck = ScheduledCheck> {
  private readonly entries = new Map<string, Entry<C>>();
  /** Entries themselves, no item object per slot: the heap holds long-lived objects only, so a
   * slot costs the young generation nothing (bench/probe-cpu: GC). */
  private readonly queue = new DueQueue<Entry<C>>();
  private readonly deadlines = new Deadlines<Run<C>>();
  private pending: Entry<C>[] = [];
  private pendingHead = 0;
  private running = 0;
  private timer: TimerHandle = undefined;
  private armed = false;
  private armedForMs = Infinity;
  private stopped: Promise<void> | null = null;
  private resolveStopped: () => void = () => undefined;
  private readonly tickMs: number;
  private readonly maxConcurrent: number;

  constructor(private readonly opts: SchedulerOptions<R, C>) {
    this.tickMs = opts.tickMs ?? 50;
    this.maxConcurrent = opts.maxConcurrent ?? 256;
    if (!(this.tickMs > 0) || !(this.maxConcurrent >= 1)) {
      throw new LvsdError('SCHEDULER_INVALID', 'tickMs must be > 0 and maxConcurrent >= 1');
    }
  }

  /** Start scheduling a check; its first run is spread within its warmup span. */
  add(check: C): void {
    this.assertLive();
    validate(check);
    const now = this.now();
    const existing = this.entries.get(check.id);
    if (existing !== undefined && existing.check !== null) {
      throw new LvsdError('CHECK_EXISTS', `check ${check.id} is already scheduled`, 'use update()');
    }
    const anchor = this.firstDue(check, now);
    if (existing !== undefined) {
      // Removed while running: the new one starts once the old run settles (finish()).
      existing.check = check;
      existing.generation++;
      existing.anchorMs = anchor;
      return;
    }
    const entry: Entry<C> = {
      id: check.id,
      check,
      generation: 0,
      phase: 'idle',
      anchorMs: anchor,
      dueMs: anchor,
      dueToken: -1,
      run: null,
    };
    this.entries.set(check.id, entry);
    this.schedule(entry, anchor);
    this.arm();
  }

  /** Replace a check's settings (reload). An in-flight run is aborted and its result dropped. */
  update(check: C): void {
    this.assertLive();
    validate(check);
    const entry = this.entries.get(check.id);
    if (entry?.check == null) {
      throw new LvsdError('CHECK_UNKNOWN', `check ${check.id} is not scheduled`, 'use add()');
    }
    const previous = entry.check;
    entry.check = check;
    entry.generation++;
    // A new interval or warmup gets a new phase; otherwise the check keeps its slots.
    const replan = previous.intervalMs !== check.intervalMs || previous.warmupMs !== check.warmupMs;
    if (replan) entry.anchorMs = this.firstDue(check, this.now());
    if (entry.phase === 'running') {
      entry.run?.abort(new LvsdError('CHECK_UPDATED', `check ${check.id} was updated`));
    } else if (entry.phase === 'scheduled' && replan) {
      this.schedule(entry, entry.anchorMs);
      this.arm();
    }
  }

  /** Stop scheduling a check; an in-flight run is aborted and its result dropped. */
  remove(id: string): boolean {
    const entry = this.entries.get(id);
    if (entry?.check == null) return false;
    entry.check = null;
    entry.generation++;
    if (entry.phase === 'running') {
      entry.run?.abort(new LvsdError('CHECK_REMOVED', `check ${id} was removed`));
    } else {
      entry.phase = 'idle';
      this.entries.delete(id);
    }
    return true;
  }

  has(id: string): boolean {
    return this.entries.get(id)?.check != null;
  }

  stats(): SchedulerStats {
    let checks = 0;
    for (const e of this.entries.values()) if (e.check !== null) checks++;
    let queued = 0;
    for (let i = this.pendingHead; i < this.pending.length; i++) {
      if (this.pending[i]?.phase === 'queued') queued++;
    }
    return { checks, running: this.running, queued };
  }

  /** Abort everything in flight; resolves when every probe has settled. Idempotent. */
  stop(): Promise<void> {
    if (this.stopped !== null) return this.stopped;
    this.stopped = new Promise<void>((resolve) => {
      this.resolveStopped = resolve;
    });
    this.disarm();
    this.queue.clear();
    this.deadlines.clear();
    this.pending = [];
    this.pendingHead = 0;
    const reason = new LvsdError('SCHEDULER_STOPPED', 'the scheduler is stopping');
    for (const entry of this.entries.values()) {
      if (entry.run !== null) entry.run.abort(reason);
      else entry.phase = 'idle';
    }
    if (this.running === 0) this.resolveStopped();
    return this.stopped;
  }

  private readonly onTimer = (): void => {
    const target = this.armedForMs;
    this.armed = false;
    this.armedForMs = Infinity;
    if (this.stopped !== null) return;
    // Node's timer clock may run a hair behind performance.now(): serve the tick we armed for.
    this.serve(Math.max(this.now(), target));
  };

  /** Move everything due by `horizonMs` into the run queue, fire timeouts, start what fits. */
  private serve(horizonMs: number): void {
    // peekAtMs is Infinity when the queue is empty.
    while (this.queue.peekAtMs() <= horizonMs) {
      const token = this.queue.peekSeq();
      const entry = this.queue.pop() as Entry<C>;
      if (isStale(entry, token)) continue;
      entry.phase = 'queued';
      this.pending.push(entry);
    }
    this.deadlines.expire(horizonMs, (run, timeoutMs) => {
      run.timedOut = true;
      run.abort(
        new LvsdError('CHECK_TIMEOUT', `check ${run.entry.id} timed out after ${timeoutMs} ms`),
      );
    });
    this.drain();
    this.arm();
  }

  /** Start queued checks while slots are free; returns how many were started. */
  private drain(): number {
    let started = 0;
    while (this.running < this.maxConcurrent && this.pendingHead < this.pending.length) {
      const entry = this.pending[this.pendingHead++] as Entry<C>;
      if (entry.phase === 'queued' && entry.check !== null) {
        this.start(entry, entry.check);
        started++;
      }
    }
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    return started;
  }

  private start(entry: Entry<C>, check: C): void {
    const run = new Run(entry, this.now(), check.timeoutMs);
    entry.run = run;
    entry.phase = 'running';
    this.running++;
    this.deadlines.add(check.timeoutMs, run);
    let promise: Promise<R>;
    try {
      promise = this.opts.probe(entry.id, run, check);
    } catch (error) {
      // A probe that throws synchronously is still a settled run, reported after this batch.
      queueMicrotask(() => {
        this.finish(run, undefined, error, false);
      });
      return;
    }
    void promise.then(
      (value) => {
        this.finish(run, value, undefined, true);
      },
      (error: unknown) => {
        this.finish(run, undefined, error, false);
      },
    );
  }

  private finish(run: Run<C>, value: R | undefined, error: unknown, ok: boolean): void {
    const entry = run.entry;
    const current = entry.check;
    run.done = true;
    this.running--;
    const now = this.now();
    let next: NextRun | undefined;
    if (this.stopped === null && current !== null && run.generation === entry.generation) {
      // Literals, not a spread of a shared info object: one allocation and one shape each.
      const outcome: RunOutcome<R> = ok
        ? {
            kind: 'result',
            result: value as R,
            dueMs: run.dueMs,
            startedMs: run.startedMs,
            durationMs: now - run.startedMs,
            timedOut: run.timedOut,
          }
        : {
            kind: 'error',
            error,
            dueMs: run.dueMs,
            startedMs: run.startedMs,
            durationMs: now - run.startedMs,
            timedOut: run.timedOut,
          };
      try {
        next = this.opts.onResult(entry.id, outcome, current);
      } catch (err) {
        this.callbackError(entry.id, err);
      }
    }
    // Cleared only now, so an update/remove made by the callback sees the run and is honoured.
    entry.run = null;
    entry.phase = 'idle';
    if (this.stopped !== null) {
      if (this.running === 0) this.resolveStopped();
      return;
    }
    const check = entry.check;
    if (check === null) {
      if (this.entries.get(entry.id) === entry) this.entries.delete(entry.id);
    } else if (run.generation !== entry.generation) {
      const at =
        entry.anchorMs >= now ? entry.anchorMs : nextDueMs(entry.anchorMs, check.intervalMs, now);
      entry.anchorMs = at;
      this.schedule(entry, at);
    } else if (next !== undefined) {
      this.schedule(entry, now + Math.max(0, next.retryAfterMs));
    } else {
      entry.anchorMs = nextDueMs(entry.anchorMs, check.intervalMs, now);
      this.schedule(entry, entry.anchorMs);
    }
    // arm() rescans the queue top and every deadline list; after a settled run that is needed
    // only if the timer is off, this check's next slot comes before the armed tick, or runs
    // were started (their deadlines). Almost every run ends with none of these (the timer is
    // armed for the next batch), so this skips a scan per check.
    const started = this.drain();
    if (
      started > 0 ||
      !this.armed ||
      (check !== null && tickAtOrAfter(entry.dueMs, this.tickMs) < this.armedForMs)
    ) {
      this.arm();
    }
  }

  private schedule(entry: Entry<C>, atMs: number): void {
    entry.phase = 'scheduled';
    entry.dueMs = atMs;
    entry.dueToken = this.queue.push(atMs, entry);
  }

  /** Keep the single timer armed for the tick that serves the earliest live due time or
   * deadline. */
  private arm(): void {
    if (this.stopped !== null) return;
    let top = this.queue.peekValue();
    while (top !== undefined && isStale(top, this.queue.peekSeq())) {
      this.queue.pop();
      top = this.queue.peekValue();
    }
    const earliest = Math.min(this.queue.peekAtMs(), this.deadlines.earliestMs());
    if (earliest === Infinity) {
      this.disarm();
      return;
    }
    const wakeAt = tickAtOrAfter(earliest, this.tickMs);
    if (this.armed && this.armedForMs <= wakeAt) return;
    this.disarm();
    this.armed = true;
    this.armedForMs = wakeAt;
    this.timer = this.opts.timers.setTimeout(this.onTimer, Math.max(0, wakeAt - this.now()));
  }

  private disarm(): void {
    if (this.armed) this.opts.timers.clearTimeout(this.timer);
    this.armed = false;
    this.armedForMs = Infinity;
  }

  private firstDue(check: C, now: number): number {
    const start = Math.ceil(now);
    return firstDueMs(
      {
        id: check.id,
        intervalMs: check.intervalMs,
        warmupMs: check.warmupMs,
        random: this.opts.random,
      },
      start,
    );
  }

  private now(): number {
    return this.opts.clock.monotonicMs();
  }

  private assertLive(): void {
    if (this.stopped !== null)
      throw new LvsdError('SCHEDULER_STOPPED', 'the scheduler was stopped');
  }

  private callbackError(id: string, error: unknown): void {
    if (this.opts.onCallbackError !== undefined) {
      this.opts.onCallbackError(id, error);
      return;
    }
    queueMicrotask(() => {
      throw error;
    });
  }
}
