/**
 * Webhooks from the event stream (shell). Per endpoint: its event filter, flap suppression,
 * grouping into one alert per window, and a sender with its own bounded queue. The bus
 * listener only files the event (a filter test, a map update, an array push); timers form
 * alerts, and the sender's loop does the network. Nothing the daemon does waits on a receiver.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Config, WebhookConfig } from '../config/types.js';
import type { ObserverLog } from '../hooks/log-port.js';
import type { Clock } from '../lib/clock.js';
import { boundedReason, type AnyEvent, type EventBus } from '../lib/events.js';
import { AlertBatcher, DEFAULT_GROUPING_POLICY, type GroupingPolicy } from './alert-batch.js';
import type { RetryPolicy } from './backoff.js';
import { delivery, stateChange, wants } from './delivery.js';
import { EndpointSender, type AlertLoss, type EndpointStats } from './endpoint-sender.js';
import { DEFAULT_FLAP_POLICY, FlapDetector, type FlapPolicy } from './flap-detector.js';

export interface WebhookServiceOptions {
  readonly bus: EventBus;
  readonly config: Config;
  readonly clock: Clock;
  readonly log: ObserverLog;
  readonly grouping?: GroupingPolicy;
  readonly flap?: FlapPolicy;
  readonly retry?: RetryPolicy;
  /** Alerts waiting per endpoint. */
  readonly queueCapacity?: number;
  readonly onAttempt?: (stats: EndpointStats, outcome: 'delivered' | 'retry' | 'abandoned') => void;
}

export const DEFAULT_QUEUE_CAPACITY = 100;

class Endpoint {
  readonly flap: FlapDetector;
  readonly batch: AlertBatcher;
  timer: NodeJS.Timeout | undefined;
  timerAt = Infinity;

  constructor(
    readonly config: WebhookConfig,
    readonly sender: EndpointSender,
    opts: WebhookServiceOptions,
  ) {
    this.flap = new FlapDetector(opts.flap ?? DEFAULT_FLAP_POLICY);
    this.batch = new AlertBatcher(opts.grouping ?? DEFAULT_GROUPING_POLICY);
  }
}

export class WebhookService {
  private endpoints = new Map<string, Endpoint>();
  private unsubscribe: (() => void) | undefined;
  private source: string;

  private constructor(private readonly opts: WebhookServiceOptions) {
    this.source = opts.config.routerId;
  }

  static async start(opts: WebhookServiceOptions): Promise<WebhookService> {
    const s = new WebhookService(opts);
    await s.configure(opts.config);
    s.unsubscribe = opts.bus.subscribe((e) => {
      s.onEvent(e);
    });
    return s;
  }

  async reload(config: Config): Promise<void> {
    await this.configure(config);
  }

  stats(): EndpointStats[] {
    return [...this.endpoints.values()].map((e) => e.sender.stats);
  }

  /** Sends what is grouped so far, lets senders finish for up to `graceMs`, then stops them. */
  async stop(graceMs = 1000): Promise<void> {
    this.unsubscribe?.();
    const all = [...this.endpoints.values()];
    for (const e of all) this.flush(e, true);
    const until = performance.now() + graceMs;
    while (all.some((e) => e.sender.busy) && performance.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    await Promise.all(all.map((e) => this.close(e)));
    this.endpoints.clear();
  }

  private async configure(config: Config): Promise<void> {
    this.source = config.routerId;
    const next = new Map<string, WebhookConfig>(config.daemon.webhooks.map((w) => [w.name, w]));
    for (const [name, e] of this.endpoints) {
      const w = next.get(name);
      if (w === undefined || JSON.stringify(w) !== JSON.stringify(e.config)) {
        this.flush(e, true);
        this.endpoints.delete(name);
        void this.close(e);
      }
    }
    for (const w of next.values()) {
      if (this.endpoints.has(w.name)) continue;
      const secret = await this.secretOf(w);
      if (secret === null) continue;
      const sender = new EndpointSender({
        name: w.name,
        url: w.url,
        ...(secret === undefined ? {} : { secret }),
        timeoutMs: w.timeoutMs,
        queueCapacity: this.opts.queueCapacity ?? DEFAULT_QUEUE_CAPACITY,
        log: this.opts.log,
        wallMs: () => this.opts.clock.wallMs(),
        ...(this.opts.retry ? { retry: this.opts.retry } : {}),
        ...(this.opts.onAttempt ? { onAttempt: this.opts.onAttempt } : {}),
        onLoss: (loss) => {
          this.lost(loss);
        },
      });
      this.endpoints.set(w.name, new Endpoint(w, sender, this.opts));
    }
  }

  /** undefined: no secret configured (unsigned); null: configured but unusable (endpoint off). */
  private async secretOf(w: WebhookConfig): Promise<string | undefined | null> {
    if (w.secretFile === undefined) {
      this.opts.log.warn(
        { webhook: { endpoint: w.name } },
        `webhook ${w.name} has no secret_file: its alerts are not signed`,
      );
      return undefined;
    }
    try {
      const secret = (await readFile(w.secretFile, 'utf8')).trim();
      if (secret === '') throw new Error('the file is empty');
      return secret;
    } catch (err) {
      this.opts.log.error(
        { webhook: { endpoint: w.name, secretFile: w.secretFile } },
        `webhook ${w.name} disabled: cannot read its secret: ${err instanceof Error ? err.message : String(err)}`,
      );
      return null;
    }
  }

  /**
   * A lost alert onto the stream, where logs, metrics and `lvsd events` see it; webhooks never
   * send webhook.* events (onEvent), so a failing receiver cannot feed itself alerts. Deferred:
   * a drop can happen while an event is being filed.
   */
  private lost(loss: AlertLoss): void {
    const bus = this.opts.bus;
    const cause = { kind: 'webhook' as const, detail: loss.endpoint };
    const subject = `webhook:${loss.endpoint}`;
    queueMicrotask(() => {
      if (loss.kind === 'abandoned')
        bus.publish('webhook.failed', subject, cause, {
          endpoint: loss.endpoint,
          delivery: loss.delivery,
          attempts: loss.attempts,
          reason: boundedReason(loss.reason),
        });
      else
        bus.publish('webhook.dropped', subject, cause, {
          endpoint: loss.endpoint,
          count: 1,
          total: loss.total,
        });
    });
  }

  private onEvent(event: AnyEvent): void {
    if (isWebhookEvent(event)) return;
    const now = this.opts.clock.monotonicMs();
    const state = stateChange(event);
    for (const e of this.endpoints.values()) {
      if (!wants(e.config.events, event.name)) continue;
      if (state !== undefined) {
        const v = e.flap.change(event.subject, state, now);
        if (v.kind === 'suppressed') continue;
        if (v.kind === 'started') {
          e.batch.notice(
            {
              subject: event.subject,
              state: 'flapping',
              changes: v.changes,
              windowMs: (this.opts.flap ?? DEFAULT_FLAP_POLICY).windowMs,
            },
            now,
          );
          this.arm(e);
          continue;
        }
      }
      e.batch.add(event, now);
      this.arm(e);
    }
  }

  private arm(e: Endpoint): void {
    const candidates = [e.batch.dueAt(), e.flap.nextSettleAt()].filter(
      (t): t is number => t !== undefined,
    );
    if (candidates.length === 0) return;
    const at = Math.min(...candidates);
    if (e.timer !== undefined && e.timerAt <= at) return;
    clearTimeout(e.timer);
    e.timerAt = at;
    e.timer = setTimeout(
      () => {
        e.timer = undefined;
        e.timerAt = Infinity;
        this.flush(e, false);
        this.arm(e);
      },
      Math.max(0, at - this.opts.clock.monotonicMs()),
    );
    e.timer.unref();
  }

  private flush(e: Endpoint, force: boolean): void {
    const now = this.opts.clock.monotonicMs();
    for (const ended of e.flap.settle(now))
      e.batch.notice(
        {
          subject: ended.subject,
          state: 'stable',
          suppressed: ended.suppressed,
          lastState: ended.lastState,
        },
        now,
      );
    const content = e.batch.take(now, force);
    if (content === undefined) return;
    e.sender.enqueue(
      delivery(content, {
        id: randomUUID(),
        endpoint: e.config.name,
        source: this.source,
        time: new Date(this.opts.clock.wallMs()).toISOString(),
      }),
    );
  }

  private async close(e: Endpoint): Promise<void> {
    clearTimeout(e.timer);
    e.timer = undefined;
    await e.sender.stop();
  }
}

/** webhook.* events are about webhooks themselves: no endpoint is sent them, whatever its filter. */
export function isWebhookEvent(event: AnyEvent): boolean {
  return event.name.startsWith('webhook.');
}
