/**
 * lvsd's Prometheus metrics (shell: prom-client). Counters are fed from the event stream and
 * from the hook and webhook observers; gauges of current state are read from the snapshot
 * port at scrape time. Label values come only from config names (virtual server, real
 * server, instance, endpoint, hook keyword) and reason codes, so cardinality is bounded by the
 * config; series of servers removed by a reload are deleted.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config/types.js';
import type { HookOutcome } from '../hooks/script-runner.js';
import type { AnyEvent } from '../lib/events.js';
import type { EndpointStats } from '../webhooks/endpoint-sender.js';
import { CheckDurations } from './check-durations.js';
import type { ObserverSnapshot } from './snapshot.js';

const VRRP_STATES = ['MASTER', 'BACKUP', 'FAULT', 'INIT', 'STOPPED'] as const;
const ADMIN_STATES = ['active', 'drain'] as const;
const NAMED_LIKE_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export class LvsdMetrics {
  readonly registry = new Registry();
  private readonly rsKeys = new Set<string>();
  private readonly current: ReturnType<LvsdMetrics['currentStateMetrics']>;

  private readonly events = this.counter('lvsd_events_total', 'Events on the event stream', [
    'name',
  ]);
  private readonly rsTransitions = this.counter(
    'lvsd_real_server_transitions_total',
    'Real server health changes',
    ['vs', 'rs', 'to'],
  );
  private readonly checkFailures = this.counter(
    'lvsd_check_failures_total',
    'Real servers taken down, by the failing check reason code',
    ['vs', 'checker', 'code'],
  );
  /** Every check run's duration: the daemon hands this to the health book (CheckObserver). */
  readonly checks = new CheckDurations();
  private readonly vrrpTransitions = this.counter(
    'lvsd_vrrp_transitions_total',
    'VRRP state transitions',
    ['instance', 'to'],
  );
  private readonly ipvsOps = this.counter('lvsd_ipvs_operations_total', 'IPVS operations', [
    'result',
  ]);
  private readonly ipvsErrors = this.counter('lvsd_ipvs_errors_total', 'IPVS driver errors', [
    'code',
  ]);
  private readonly hookRuns = this.counter('lvsd_hook_runs_total', 'Notify script runs', [
    'hook',
    'code',
  ]);
  private readonly hookFailures = this.counter(
    'lvsd_hook_failures_total',
    'Notify script runs that failed (any code but ok)',
    ['hook'],
  );
  private readonly webhookDelivered = this.counter(
    'lvsd_webhook_delivered_total',
    'Webhook alerts delivered',
    ['endpoint'],
  );
  private readonly webhookRetries = this.counter(
    'lvsd_webhook_retries_total',
    'Webhook attempts that failed and were retried',
    ['endpoint'],
  );
  private readonly webhookAbandoned = this.counter(
    'lvsd_webhook_abandoned_total',
    'Webhook alerts given up after the last attempt',
    ['endpoint'],
  );

  constructor(
    private readonly snapshot: ObserverSnapshot,
    private readonly webhookStats: () => readonly EndpointStats[] = () => [],
    options: { defaultMetrics?: boolean } = {},
  ) {
    // Node's own: event-loop lag (nodejs_eventloop_lag_*), heap, GC, handles.
    if (options.defaultMetrics !== false) {
      // prom-client samples event-loop lag with a 10 ms timer by default: 100 wake-ups a second,
      // which cost more CPU than 1,000 health checks' own wake-ups (bench/probe-cpu). 100 ms
      // still sees any stall that matters to a second-scale health check.
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
      // Gauges named like counters: `promtool check metrics` flags them, and the same counts
      // are in nodejs_active_handles / _requests / _resources.
      for (const name of NAMED_LIKE_COUNTERS) this.registry.removeSingleMetric(name);
    }
    this.current = this.currentStateMetrics();
    this.checks.register(this.registry);
  }

  onEvent(e: AnyEvent): void {
    this.events.inc({ name: e.name });
    switch (e.name) {
      case 'rs.up':
      case 'rs.down': {
        const d = e.data;
        this.rsKeys.add(`${d.vs}\n${d.rs}`);
        this.rsTransitions.inc({ vs: d.vs, rs: d.rs, to: e.name === 'rs.up' ? 'up' : 'down' });
        if (e.name === 'rs.down' && d.checker !== 'reload')
          this.checkFailures.inc({ vs: d.vs, checker: d.checker, code: d.code });
        return;
      }
      case 'vrrp.transition':
        this.vrrpTransitions.inc({ instance: e.data.instance, to: e.data.to });
        return;
      case 'ipvs.applied':
        this.ipvsOps.inc({ result: 'applied' }, e.data.ops);
        return;
      case 'ipvs.drift':
        this.ipvsOps.inc({ result: 'drift_repaired' }, e.data.ops);
        return;
      case 'ipvs.failed':
        this.ipvsOps.inc({ result: 'failed' }, e.data.failed.length + e.data.unattributed.length);
        return;
      case 'ipvs.guarded':
        this.ipvsOps.inc({ result: 'guarded' }, e.data.ops);
        return;
      case 'ipvs.error':
        this.ipvsErrors.inc({ code: e.data.code });
        return;
      default:
        return;
    }
  }

  onHook(o: HookOutcome): void {
    this.hookRuns.inc({ hook: o.hook, code: o.code });
    if (!o.ok) this.hookFailures.inc({ hook: o.hook });
  }

  onWebhookAttempt(s: EndpointStats, outcome: 'delivered' | 'retry' | 'abandoned'): void {
    const labels = { endpoint: s.endpoint };
    if (outcome === 'delivered') this.webhookDelivered.inc(labels);
    else if (outcome === 'retry') this.webhookRetries.inc(labels);
    else this.webhookAbandoned.inc(labels);
  }

  /** A reload: series of real servers no longer configured go away. */
  reload(config: Config): void {
    const keep = new Set<string>();
    const checks = new Set<string>();
    for (const vs of config.virtualServers)
      for (const rs of vs.realServers) {
        keep.add(`${vs.name}\n${rs.name}`);
        for (const c of rs.checks) checks.add(c.id);
      }
    this.checks.keepOnly(checks);
    for (const key of this.rsKeys) {
      if (keep.has(key)) continue;
      const [vs = '', rs = ''] = key.split('\n');
      for (const to of ['up', 'down']) this.rsTransitions.remove({ vs, rs, to });
      this.rsKeys.delete(key);
    }
  }

  async metrics(): Promise<string> {
    await this.refresh();
    return this.registry.metrics();
  }

  private counter<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
  ): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** Current-state gauges from the snapshot, read once per scrape before serialising. */
  private async refresh(): Promise<void> {
    const [vss, vrrp] = await Promise.all([
      this.snapshot.virtualServers(),
      this.snapshot.vrrpInstances(),
    ]);
    const g = this.current;
    for (const m of Object.values(g)) m.reset();
    for (const vs of vss) {
      g.quorum.set({ vs: vs.name }, vs.quorumUp ? 1 : 0);
      for (const rs of vs.realServers) {
        const l = { vs: vs.name, rs: rs.name };
        g.up.set(l, rs.health.state === 'up' ? 1 : 0);
        g.configured.set(l, rs.configuredWeight);
        if (rs.currentWeight !== null) g.weight.set(l, rs.currentWeight);
        for (const state of ADMIN_STATES)
          g.admin.set({ ...l, state }, rs.admin.state === state ? 1 : 0);
        if (rs.connections) {
          g.active.set(l, rs.connections.active);
          g.inactive.set(l, rs.connections.inactive);
        }
      }
    }
    for (const i of vrrp) {
      const l = { instance: i.name };
      if (i.priority !== null) g.priority.set(l, i.priority);
      if (i.state !== null)
        for (const s of VRRP_STATES) g.vrrpState.set({ ...l, state: s }, i.state === s ? 1 : 0);
      // Cumulative counts kept by the daemon: each scrape sets the counters to them.
      if (i.adverts) {
        g.sent.inc(l, i.adverts.sent);
        g.sendErrors.inc(l, i.adverts.sendErrors);
        g.received.inc(l, i.adverts.received);
      }
      for (const [reason, n] of Object.entries(i.dropped ?? {})) g.dropped.inc({ ...l, reason }, n);
    }
    for (const st of this.webhookStats()) {
      g.queueDepth.set({ endpoint: st.endpoint }, st.queued);
      g.webhookDropped.inc({ endpoint: st.endpoint }, st.dropped);
    }
  }

  private currentStateMetrics() {
    const r = [this.registry];
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Gauge({ name, help, labelNames, registers: r });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter({ name, help, labelNames, registers: r });
    const rs = ['vs', 'rs'] as const;
    return {
      quorum: gauge('lvsd_virtual_server_quorum_up', '1 when the virtual server has quorum', [
        'vs',
      ]),
      up: gauge('lvsd_real_server_up', '1 when the real server is healthy', rs),
      weight: gauge(
        'lvsd_real_server_weight',
        'Weight in the IPVS table now (absent: not in it)',
        rs,
      ),
      configured: gauge('lvsd_real_server_configured_weight', 'Configured weight', rs),
      admin: gauge('lvsd_real_server_admin_state', '1 for the real server’s admin state', [
        'vs',
        'rs',
        'state',
      ]),
      active: gauge('lvsd_real_server_active_connections', 'IPVS ActiveConn', rs),
      inactive: gauge('lvsd_real_server_inactive_connections', 'IPVS InActConn', rs),
      priority: gauge('lvsd_vrrp_priority', 'Effective VRRP priority (after tracking)', [
        'instance',
      ]),
      vrrpState: gauge('lvsd_vrrp_state', '1 for the VRRP instance’s current state', [
        'instance',
        'state',
      ]),
      sent: counter('lvsd_vrrp_adverts_sent_total', 'Adverts sent', ['instance']),
      sendErrors: counter('lvsd_vrrp_advert_send_errors_total', 'Adverts that could not be sent', [
        'instance',
      ]),
      received: counter('lvsd_vrrp_adverts_received_total', 'Valid adverts received', ['instance']),
      dropped: counter('lvsd_vrrp_adverts_dropped_total', 'Adverts dropped, by reason', [
        'instance',
        'reason',
      ]),
      queueDepth: gauge('lvsd_webhook_queue_depth', 'Webhook alerts waiting per endpoint', [
        'endpoint',
      ]),
      webhookDropped: counter(
        'lvsd_webhook_dropped_total',
        'Webhook alerts dropped because the endpoint queue was full',
        ['endpoint'],
      ),
    };
  }
}
