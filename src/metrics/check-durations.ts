/**
 * `lvsd_check_duration_seconds`: one sample for every check run, fed by the health book's
 * check observer port — not by the event stream, which carries only changes (a check result
 * that changes nothing is thousands a second). This is a hot path (bench/probe-cpu): the health
 * book keeps each check's series (no look-up per sample), and a sample is a bucket scan and
 * three additions into preallocated arrays; nothing is allocated after a series' first sample.
 * prom-client's own Histogram builds a label hash string and an object on every observe, so the
 * series are kept here and rendered in its registry's histogram format at scrape time.
 */
import type { Metric, Registry } from 'prom-client';
import type { CheckObserver, CheckSeries } from '../daemon/health-book.js';
import type { CheckOutcome } from '../health/fsm.js';

export const CHECK_DURATION_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

class Series implements CheckSeries {
  /** Per bucket (non-cumulative), the last slot for samples above every bound (+Inf). */
  readonly counts = new Float64Array(CHECK_DURATION_BUCKETS.length + 1);
  sum = 0;
  count = 0;
  live = true;

  constructor(
    readonly vs: string,
    readonly checker: string,
  ) {}

  observe(outcome: CheckOutcome): void {
    const seconds = outcome.latencyMs / 1000;
    if (!Number.isFinite(seconds)) return;
    let i = 0;
    while (i < CHECK_DURATION_BUCKETS.length && seconds > (CHECK_DURATION_BUCKETS[i] ?? 0)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

interface HistogramValue {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

export class CheckDurations implements CheckObserver {
  readonly name = 'lvsd_check_duration_seconds';
  readonly help = 'Health check duration, every check run (seconds)';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  /** The health book's CheckObserver: the series of one check, labelled by virtual server and
   * checker. A series dropped later (reload, reset) says so (`live`), and its holder asks again. */
  seriesFor(vs: string, checkId: string): CheckSeries {
    const old = this.series.get(checkId);
    if (old !== undefined && old.vs === vs) return old;
    if (old !== undefined) old.live = false;
    const s = new Series(vs, checkId);
    this.series.set(checkId, s);
    return s;
  }

  /** One sample without a held series (tests, one-offs). */
  checked(vs: string, checkId: string, outcome: CheckOutcome): void {
    this.seriesFor(vs, checkId).observe(outcome);
  }

  /** A reload: series of checks no longer configured go away. */
  keepOnly(checkIds: ReadonlySet<string>): void {
    for (const [id, s] of this.series) {
      if (checkIds.has(id)) continue;
      s.live = false;
      this.series.delete(id);
    }
  }

  /** Samples so far of one series (tests). */
  countOf(checkId: string): number {
    return this.series.get(checkId)?.count ?? 0;
  }

  /** Joins `registry`; it calls get() at each scrape. */
  register(registry: Registry): void {
    // prom-client's registry reads name, help, type and get() of what it holds; its types name
    // only its own four classes.
    registry.registerMetric(this as unknown as Metric);
  }

  reset(): void {
    for (const s of this.series.values()) s.live = false;
    this.series.clear();
  }

  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: HistogramValue[];
  }> {
    const values: HistogramValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i <= CHECK_DURATION_BUCKETS.length; i++) {
        acc += s.counts[i] ?? 0;
        const le = i < CHECK_DURATION_BUCKETS.length ? (CHECK_DURATION_BUCKETS[i] ?? 0) : '+Inf';
        values.push({
          metricName: bucket,
          labels: { le, vs: s.vs, checker: s.checker },
          value: acc,
        });
      }
      const labels = { vs: s.vs, checker: s.checker };
      values.push({ metricName: `${this.name}_sum`, labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: s.count });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }
}
