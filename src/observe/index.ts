/**
 * The observers' one entry point: notify scripts and FIFOs, webhooks, metrics and the status
 * page — each fed by the event stream alone (plus the snapshot port for the metrics'
 * current-state gauges, and the status page's status and recent events). The
 * daemon starts them once after the bus exists, calls `reload` after a reload is applied, and
 * `stop` during shutdown after its subsystems have published their last events (the STOP
 * notifies run in that drain).
 */
import type { Config } from '../config/types.js';
import type { ObserverLog } from '../hooks/log-port.js';
import { NotifyService, type NotifyFifoSettings } from '../hooks/notify-service.js';
import type { ScriptRun } from '../health/checkers/misc.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/events.js';
import { LvsdMetrics } from '../metrics/lvsd-metrics.js';
import { MetricsServer } from '../metrics/metrics-server.js';
import { emptySnapshot, type ObserverSnapshot } from '../metrics/snapshot.js';
import { WebhookService } from '../webhooks/webhook-service.js';

export type { NotifyFifoSettings } from '../hooks/notify-service.js';
export type { ObserverSnapshot } from '../metrics/snapshot.js';

export interface ObserversOptions {
  readonly bus: EventBus;
  readonly config: Config;
  readonly log: ObserverLog;
  readonly clock: Clock;
  readonly snapshot?: ObserverSnapshot;
  /** keepalived's notify_fifo / vrrp_notify_fifo / lvs_notify_fifo (Config.notifyFifos). */
  readonly fifos?: NotifyFifoSettings;
  /** How notify scripts start (the daemon's spawner); default: by this process. */
  readonly runScript?: ScriptRun;
}

export interface Observers {
  /** Apply a new config (scripts, FIFO paths, endpoints, metric series). Never throws. */
  reload(config: Config, fifos?: NotifyFifoSettings): Promise<void>;
  stop(): Promise<void>;
  readonly metrics: LvsdMetrics;
  /** Where /metrics is served; undefined when metrics_address is off. */
  readonly metricsAddress: { readonly address: string; readonly port: number } | undefined;
}

export async function startObservers(opts: ObserversOptions): Promise<Observers> {
  const { bus, log, clock } = opts;
  // Metrics exist before the webhook service (it reports into them); they read its stats later.
  const late: { webhooks?: WebhookService } = {};
  const metrics = new LvsdMetrics(
    opts.snapshot ?? emptySnapshot,
    () => late.webhooks?.stats() ?? [],
  );
  const unsubscribe = bus.subscribe((e) => {
    metrics.onEvent(e);
  });
  const notify = await NotifyService.start({
    bus,
    config: opts.config,
    log,
    ...(opts.fifos ? { fifos: opts.fifos } : {}),
    ...(opts.runScript ? { runScript: opts.runScript } : {}),
    onOutcome: (o) => {
      metrics.onHook(o);
    },
  });
  const ws = await WebhookService.start({
    bus,
    config: opts.config,
    clock,
    log,
    onAttempt: (s, outcome) => {
      metrics.onWebhookAttempt(s, outcome);
    },
  });
  let server: MetricsServer | undefined;
  try {
    server = await MetricsServer.listen(
      opts.config.daemon.metricsAddress,
      metrics,
      log,
      opts.snapshot ?? emptySnapshot,
    );
  } catch (err) {
    // Metrics are not worth refusing to run for: the director's job goes on without them.
    log.error(
      { metrics: { address: opts.config.daemon.metricsAddress } },
      `metrics not served: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  late.webhooks = ws;
  let fifos = opts.fifos;

  return {
    metrics,
    metricsAddress: server
      ? { address: server.address.address, port: server.address.port }
      : undefined,
    async reload(config, nextFifos = fifos) {
      fifos = nextFifos;
      try {
        metrics.reload(config);
        await notify.reload(config, nextFifos);
        await ws.reload(config);
      } catch (err) {
        log.error(
          {},
          `observers reload failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    },
    async stop() {
      await notify.stop();
      await ws.stop();
      unsubscribe();
      await server?.close();
    },
  };
}
