/**
 * Dropped datagrams: every one is counted (status, metrics), but published at most once per
 * 10 s per reporter with the count since the last report, so a flood of forged or garbage
 * packets cannot flood the logs, the notify FIFO or the webhooks.
 */
import type { TimerHandle, TimerPort } from '../health/timer-port.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/events.js';

export const DROP_REPORT_MS = 10_000;

export class DropReporter<R extends string> {
  /** Since start, by reason. */
  readonly totals = new Map<R, number>();
  private pending = new Map<R, { count: number; from: string }>();
  private timer: TimerHandle;
  private last = -Infinity;

  constructor(
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly timers: TimerPort,
    /** The instance the drops are for; undefined: datagrams no instance took. */
    private readonly instance: string | undefined,
  ) {}

  count(reason: R, from: string): void {
    this.totals.set(reason, (this.totals.get(reason) ?? 0) + 1);
    const p = this.pending.get(reason);
    if (p) p.count += 1;
    else this.pending.set(reason, { count: 1, from });
    const now = this.clock.monotonicMs();
    if (now - this.last >= DROP_REPORT_MS) this.flush();
    else
      this.timer ??= this.timers.setTimeout(
        () => {
          this.timer = undefined;
          this.flush();
        },
        DROP_REPORT_MS - (now - this.last),
      );
  }

  totalsObject(): Partial<Record<R, number>> {
    return Object.fromEntries(this.totals) as Partial<Record<R, number>>;
  }

  /** Publishes what is pending and stops the timer (the instance or the service stops). */
  stop(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size > 0) this.flush();
  }

  private flush(): void {
    this.last = this.clock.monotonicMs();
    const subject = this.instance ?? 'vrrp';
    for (const [reason, d] of this.pending)
      this.bus.publish(
        'vrrp.dropped',
        subject,
        { kind: 'network' },
        {
          ...(this.instance === undefined ? {} : { instance: this.instance }),
          reason,
          from: d.from,
          count: d.count,
        },
      );
    this.pending = new Map();
  }
}
