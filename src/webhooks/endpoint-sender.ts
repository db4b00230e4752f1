/**
 * Delivers one endpoint's alerts (shell): a bounded queue (oldest dropped and counted), one
 * POST in flight at a time so alerts arrive in order, a per-attempt timeout, retries with
 * backoff and jitter up to a bounded count, a fresh signature on every attempt. A receiver
 * that fails, hangs or is gone costs only this endpoint's queue: nothing upstream waits.
 */
import { Agent, request } from 'undici';
import type { ObserverLog } from '../hooks/log-port.js';
import { BoundedQueue } from './bounded-queue.js';
import { DEFAULT_RETRY_POLICY, retryable, retryDelayMs, type RetryPolicy } from './backoff.js';
import type { WebhookDelivery } from './delivery.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signature, TIMESTAMP_HEADER } from './signature.js';

export interface EndpointStats {
  readonly endpoint: string;
  delivered: number;
  failedAttempts: number;
  retries: number;
  /** Alerts given up after the last attempt. */
  abandoned: number;
  /** Alerts dropped because the queue was full. */
  dropped: number;
  queued: number;
}

export interface EndpointSenderOptions {
  readonly name: string;
  readonly url: string;
  readonly secret?: string;
  readonly timeoutMs: number;
  readonly queueCapacity: number;
  readonly retry?: RetryPolicy;
  readonly log: ObserverLog;
  readonly random?: () => number;
  readonly wallMs?: () => number;
  /** Told after each attempt (metrics). */
  readonly onAttempt?: (stats: EndpointStats, outcome: 'delivered' | 'retry' | 'abandoned') => void;
  /** Told when an alert is lost: abandoned after its last attempt, or dropped from a full queue. */
  readonly onLoss?: (loss: AlertLoss) => void;
}

export type AlertLoss =
  | {
      readonly kind: 'abandoned';
      readonly endpoint: string;
      readonly delivery: string;
      readonly attempts: number;
      readonly reason: string;
    }
  | { readonly kind: 'dropped'; readonly endpoint: string; readonly total: number };

export class EndpointSender {
  private readonly queue: BoundedQueue<WebhookDelivery>;
  private readonly agent: Agent;
  private readonly stopper = new AbortController();
  private running: Promise<void> | undefined;
  readonly stats: EndpointStats;

  constructor(private readonly opts: EndpointSenderOptions) {
    this.queue = new BoundedQueue(opts.queueCapacity);
    // Its own small pool: one endpoint's dead sockets never hold another's connections.
    this.agent = new Agent({
      connections: 2,
      keepAliveTimeout: 4000,
      connectTimeout: opts.timeoutMs,
    });
    this.stats = {
      endpoint: opts.name,
      delivered: 0,
      failedAttempts: 0,
      retries: 0,
      abandoned: 0,
      dropped: 0,
      queued: 0,
    };
  }

  enqueue(d: WebhookDelivery): void {
    if (this.stopper.signal.aborted) return;
    const dropped = this.queue.push(d);
    if (dropped) {
      this.stats.dropped += 1;
      this.opts.log.warn(
        { webhook: { endpoint: this.opts.name, dropped: dropped.id } },
        `webhook ${this.opts.name}: queue full, oldest alert dropped`,
      );
      this.opts.onLoss?.({ kind: 'dropped', endpoint: this.opts.name, total: this.stats.dropped });
    }
    this.stats.queued = this.queue.length;
    this.kick();
  }

  private kick(): void {
    if (this.running !== undefined || this.stopper.signal.aborted) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
      // An alert queued between the loop's last look and here must not wait for the next one.
      if (this.queue.length > 0) this.kick();
    });
  }

  /** True while an alert is in flight or waiting. */
  get busy(): boolean {
    return this.running !== undefined || this.queue.length > 0;
  }

  /** Ends the loop: the attempt in flight is aborted, waiting alerts are discarded. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.running;
    await this.agent.close().catch(() => undefined);
  }

  private async loop(): Promise<void> {
    const signal = this.stopper.signal;
    // The alert in flight leaves the queue: the capacity bounds what waits behind it.
    for (let d = this.queue.shift(); d !== undefined && !signal.aborted; d = this.queue.shift()) {
      this.stats.queued = this.queue.length;
      await this.deliver(d, signal);
    }
    this.stats.queued = this.queue.length;
  }

  private async deliver(d: WebhookDelivery, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(d);
    const policy = this.opts.retry ?? DEFAULT_RETRY_POLICY;
    for (let attempt = 1; attempt <= policy.maxAttempts && !signal.aborted; attempt++) {
      const { status, error } = await this.attempt(d.id, body, signal);
      if (status !== undefined && status >= 200 && status < 300) {
        this.stats.delivered += 1;
        this.opts.onAttempt?.(this.stats, 'delivered');
        return;
      }
      if (signal.aborted) return;
      this.stats.failedAttempts += 1;
      const why = error ?? `status ${String(status)}`;
      const wait = retryable(status)
        ? retryDelayMs(attempt, policy, (this.opts.random ?? Math.random)())
        : undefined;
      if (wait === undefined) {
        this.stats.abandoned += 1;
        this.opts.onAttempt?.(this.stats, 'abandoned');
        this.opts.log.error(
          { webhook: { endpoint: this.opts.name, delivery: d.id, attempt, reason: why } },
          `webhook ${this.opts.name}: alert abandoned after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${why}`,
        );
        this.opts.onLoss?.({
          kind: 'abandoned',
          endpoint: this.opts.name,
          delivery: d.id,
          attempts: attempt,
          reason: why,
        });
        return;
      }
      this.stats.retries += 1;
      this.opts.onAttempt?.(this.stats, 'retry');
      this.opts.log.warn(
        {
          webhook: {
            endpoint: this.opts.name,
            delivery: d.id,
            attempt,
            reason: why,
            retryInMs: wait,
          },
        },
        `webhook ${this.opts.name}: attempt ${attempt} failed (${why}); retrying in ${wait} ms`,
      );
      await this.sleep(wait, signal);
    }
  }

  private async attempt(
    id: string,
    body: string,
    stop: AbortSignal,
  ): Promise<{ status?: number; error?: string }> {
    const ts = Math.floor((this.opts.wallMs ?? Date.now)() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'lvsd-webhook/1',
      [DELIVERY_HEADER]: id,
      [TIMESTAMP_HEADER]: String(ts),
    };
    if (this.opts.secret !== undefined)
      headers[SIGNATURE_HEADER] = signature(this.opts.secret, ts, body);
    const signal = AbortSignal.any([stop, AbortSignal.timeout(this.opts.timeoutMs)]);
    try {
      const res = await request(this.opts.url, {
        method: 'POST',
        body,
        headers,
        signal,
        dispatcher: this.agent,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
      });
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      return { status: res.statusCode };
    } catch (err) {
      if (signal.aborted && !stop.aborted)
        return { error: `timeout after ${this.opts.timeoutMs} ms` };
      const code = (err as { code?: unknown }).code;
      return {
        error: typeof code === 'string' ? code : err instanceof Error ? err.message : String(err),
      };
    }
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
