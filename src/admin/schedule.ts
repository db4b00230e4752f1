/**
 * Maintenance windows on the calendar: one node-cron task per window, in the window's own
 * time zone (always explicit), plus one timer for the earliest drain end. The scheduler only
 * says "window W is due" and "a drain may have ended"; what that means for the state is the
 * reducer's business (window-start, expire), so a drain the operator made by hand during a
 * window is never undone by the window's end.
 *
 * node-cron reads the global clock (`Date`, `setTimeout`), so tests drive it with fake timers.
 * A window whose start passes while lvsd is down is not started late; a window already in
 * force survives a restart because its drain (with its end time) is in the saved state.
 */
import { createTask, validateDetailed, type Logger, type ScheduledTask } from 'node-cron';
import { systemTimers, type TimerHandle, type TimerPort } from '../health/timer-port.js';
import type { Clock } from '../lib/clock.js';
import type { MaintWindow } from './state.js';
import { timezoneProblem } from './zone.js';

/** Longest single timer: Node's timers overflow past 2^31-1 ms; longer waits re-arm. */
const MAX_TIMER_MS = 24 * 3600_000;

export interface ScheduleDeps {
  readonly clock: Clock;
  readonly timers?: TimerPort;
  /** A window's cron time came. */
  readonly onFire: (windowId: string) => void;
  /** The earliest drain end passed (or a long wait re-armed): run `expire`. */
  readonly onExpiry: () => void;
  readonly onError?: (windowId: string, err: unknown) => void;
  /** node-cron's own messages (missed executions); default: its console logger. */
  readonly logger?: Logger;
}

/** Why a window's cron expression or zone cannot be used; undefined when they can. */
export function windowProblem(expression: string, timezone: string): string | undefined {
  const zone = timezoneProblem(timezone);
  if (zone) return zone;
  const detail = validateDetailed(expression);
  if (!detail.valid) {
    const first = detail.errors[0];
    return `invalid cron expression '${expression}'${first ? `: ${first.field}: ${first.message}` : ''}`;
  }
  return undefined;
}

export class MaintScheduler {
  private readonly tasks = new Map<string, { spec: string; task: ScheduledTask }>();
  private readonly timers: TimerPort;
  private expiryTimer: TimerHandle;
  private stopped = false;

  constructor(private readonly deps: ScheduleDeps) {
    this.timers = deps.timers ?? systemTimers;
  }

  /** Brings the cron tasks in line with the live windows (start, each change, merge). */
  sync(windows: readonly MaintWindow[]): void {
    if (this.stopped) return;
    const wanted = new Map(windows.map((w) => [w.id, w]));
    for (const [id, t] of this.tasks) {
      const w = wanted.get(id);
      if (!w || specOf(w) !== t.spec) {
        void t.task.destroy();
        this.tasks.delete(id);
      }
    }
    for (const w of windows) {
      if (this.tasks.has(w.id)) continue;
      const task = createTask(
        w.cron,
        () => {
          this.deps.onFire(w.id);
        },
        {
          timezone: w.timezone,
          name: `lvsd-maint-${w.id}`,
          noOverlap: true,
          ...(this.deps.logger ? { logger: this.deps.logger } : {}),
        },
      );
      task.on('execution:failed', (ctx) => this.deps.onError?.(w.id, ctx.execution?.error));
      void task.start();
      this.tasks.set(w.id, { spec: specOf(w), task });
    }
  }

  /** Wall-clock ms of a window's next start, if it is scheduled. */
  nextRun(windowId: string): number | undefined {
    return this.tasks.get(windowId)?.task.getNextRun()?.getTime();
  }

  /** Arms the drain-end timer for `atWallMs` (undefined: no drain has an end). */
  armExpiry(atWallMs: number | undefined): void {
    this.timers.clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (atWallMs === undefined || this.stopped) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, atWallMs - this.deps.clock.wallMs()));
    this.expiryTimer = this.timers.setTimeout(() => {
      this.expiryTimer = undefined;
      this.deps.onExpiry();
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const all = [...this.tasks.values()];
    this.tasks.clear();
    await Promise.all(
      all.map(async (t) => {
        await t.task.destroy();
      }),
    );
  }
}

function specOf(w: MaintWindow): string {
  return `${w.cron}\u0000${w.timezone}`;
}
