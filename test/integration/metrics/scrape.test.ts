/**
 * /metrics for real: observers started on loopback with a snapshot twin, events published,
 * the scrape parsed with a strict Prometheus text-format parser and (when installed) checked
 * by `promtool check metrics`, as CI does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/index.js';
import { silentLog } from '../../../src/hooks/log-port.js';
import { systemClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/events.js';
import type {
  ObserverSnapshot,
  VirtualServerView,
  VrrpView,
} from '../../../src/metrics/snapshot.js';
import { startObservers } from '../../../src/observe/index.js';
import { fixtureConfig } from '../../unit/admin/fixtures.js';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Strict: every line is a comment, HELP/TYPE, or `name{labels} value`; samples follow their TYPE. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const nameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      if (!nameRe.test(meta[2] ?? '')) throw new Error(`bad metric name: ${line}`);
      if (meta[1] === 'TYPE') {
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(meta[3] ?? ''))
          throw new Error(`bad TYPE: ${line}`);
        types.set(meta[2] ?? '', meta[3] ?? '');
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (!m) throw new Error(`unparsable line: ${line}`);
    const name = m[1] ?? '';
    const family = name.replace(/_(bucket|sum|count|total|created)$/, '');
    if (!types.has(name) && !types.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
    let consumed = 0;
    for (let lm = labelRe.exec(body); lm; lm = labelRe.exec(body)) {
      labels[lm[1] ?? ''] = (lm[2] ?? '').replace(/\\(.)/g, (_s, c: string) =>
        c === 'n' ? '\n' : c,
      );
      consumed = labelRe.lastIndex;
    }
    if (consumed !== body.length) throw new Error(`bad labels: ${line}`);
    const raw = m[3] ?? '';
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    // Prometheus parses values with Go's ParseFloat: NaN in any case (prom-client writes Nan).
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`bad value: ${line}`);
    samples.push({ name, labels, value });
  }
  return samples;
}

function value(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

const VS = 'tcp:198.18.0.10:80';
const RS = '198.18.1.11:80';

class SnapshotTwin implements ObserverSnapshot {
  vss: VirtualServerView[] = [
    {
      name: VS,
      quorumUp: true,
      realServers: [
        {
          name: RS,
          configuredWeight: 4,
          currentWeight: 4,
          health: { state: 'up' },
          admin: { state: 'active' },
          connections: { active: 3, inactive: 1 },
        },
      ],
    },
  ];
  vrrp: VrrpView[] = [
    {
      name: 'VI_1',
      state: 'BACKUP',
      priority: 100,
      adverts: { sent: 0, sendErrors: 0, received: 10 },
      dropped: {},
    },
  ];
  virtualServers(): readonly VirtualServerView[] {
    return this.vss;
  }
  vrrpInstances(): Promise<readonly VrrpView[]> {
    return Promise.resolve(this.vrrp);
  }
}

function configOn(address: string): Config {
  const c = fixtureConfig();
  return { ...c, daemon: { ...c.daemon, metricsAddress: address } };
}

describe('/metrics', () => {
  it('serves parseable metrics whose values follow events and the snapshot; promtool accepts them', async () => {
    const bus = new EventBus(systemClock);
    const snapshot = new SnapshotTwin();
    const obs = await startObservers({
      bus,
      config: configOn('127.0.0.1:0'),
      log: silentLog,
      clock: systemClock,
      snapshot,
    });
    const port = obs.metricsAddress?.port;
    expect(port).toBeGreaterThan(0);
    const scrape = async (): Promise<{ text: string; samples: Sample[] }> => {
      const res = await fetch(`http://127.0.0.1:${String(port)}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      return { text, samples: parseExposition(text) };
    };

    let { samples } = await scrape();
    expect(value(samples, 'lvsd_real_server_up', { vs: VS, rs: RS })).toBe(1);
    expect(value(samples, 'lvsd_real_server_weight', { vs: VS, rs: RS })).toBe(4);
    expect(
      value(samples, 'lvsd_real_server_admin_state', { vs: VS, rs: RS, state: 'active' }),
    ).toBe(1);
    expect(value(samples, 'lvsd_vrrp_state', { instance: 'VI_1', state: 'BACKUP' })).toBe(1);
    expect(value(samples, 'lvsd_vrrp_adverts_received_total', { instance: 'VI_1' })).toBe(10);
    expect(value(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);

    bus.publish(
      'rs.down',
      `${VS}/${RS}`,
      { kind: 'check' },
      {
        vs: VS,
        rs: RS,
        checker: 'http',
        code: 'status',
        reason: 'status 503',
        removed: false,
        latencyMs: 12,
      },
    );
    bus.publish(
      'vrrp.transition',
      'VI_1',
      { kind: 'vrrp' },
      { instance: 'VI_1', from: 'backup', to: 'master', cause: 'advert-timeout', priority: 100 },
    );
    bus.publish('ipvs.applied', 'ipvs', { kind: 'check' }, { ops: 3, lines: [], durationMs: 2 });
    // Every check run reaches the latency histogram through the health book's observer port,
    // changes or not (the rs.down event above adds no sample of its own).
    const result = { ok: true, code: 'ok', reason: 'status 200' };
    obs.metrics.checks.checked(VS, 'http', { ...result, latencyMs: 12 });
    obs.metrics.checks.checked(VS, 'http', { ...result, latencyMs: 30 });
    obs.metrics.checks.checked(VS, 'http', { ...result, latencyMs: 20_000 });
    snapshot.vss = [
      {
        ...(snapshot.vss[0] as VirtualServerView),
        realServers: [
          {
            name: RS,
            configuredWeight: 4,
            currentWeight: 0,
            health: { state: 'down' },
            admin: { state: 'drain' },
            connections: null,
          },
        ],
      },
    ];
    snapshot.vrrp = [
      {
        name: 'VI_1',
        state: 'MASTER',
        priority: 100,
        adverts: { sent: 5, sendErrors: 0, received: 10 },
        dropped: { 'bad-mac': 2 },
      },
    ];

    const second = await scrape();
    samples = second.samples;
    expect(value(samples, 'lvsd_real_server_up', { vs: VS, rs: RS })).toBe(0);
    expect(value(samples, 'lvsd_real_server_weight', { vs: VS, rs: RS })).toBe(0);
    expect(value(samples, 'lvsd_real_server_admin_state', { vs: VS, rs: RS, state: 'drain' })).toBe(
      1,
    );
    expect(
      value(samples, 'lvsd_check_failures_total', { vs: VS, checker: 'http', code: 'status' }),
    ).toBe(1);
    const http = { vs: VS, checker: 'http' };
    expect(value(samples, 'lvsd_check_duration_seconds_count', http)).toBe(3);
    expect(value(samples, 'lvsd_check_duration_seconds_sum', http)).toBeCloseTo(20.042, 6);
    expect(value(samples, 'lvsd_check_duration_seconds_bucket', { ...http, le: '0.01' })).toBe(0);
    expect(value(samples, 'lvsd_check_duration_seconds_bucket', { ...http, le: '0.025' })).toBe(1);
    expect(value(samples, 'lvsd_check_duration_seconds_bucket', { ...http, le: '0.05' })).toBe(2);
    expect(value(samples, 'lvsd_check_duration_seconds_bucket', { ...http, le: '10' })).toBe(2);
    expect(value(samples, 'lvsd_check_duration_seconds_bucket', { ...http, le: '+Inf' })).toBe(3);
    expect(
      value(samples, 'lvsd_real_server_transitions_total', { vs: VS, rs: RS, to: 'down' }),
    ).toBe(1);
    expect(value(samples, 'lvsd_vrrp_state', { instance: 'VI_1', state: 'MASTER' })).toBe(1);
    expect(
      value(samples, 'lvsd_vrrp_adverts_dropped_total', { instance: 'VI_1', reason: 'bad-mac' }),
    ).toBe(2);
    expect(value(samples, 'lvsd_vrrp_transitions_total', { instance: 'VI_1', to: 'master' })).toBe(
      1,
    );
    expect(value(samples, 'lvsd_ipvs_operations_total', { result: 'applied' })).toBe(3);
    expect(value(samples, 'lvsd_events_total', { name: 'rs.down' })).toBe(1);

    // Reload without that real server: its event-fed series go away.
    await obs.reload(
      fixtureConfig(
        `virtual_server 198.18.0.10 80 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n}\n`,
      ),
    );
    expect(
      value((await scrape()).samples, 'lvsd_real_server_transitions_total', {
        vs: VS,
        rs: RS,
        to: 'down',
      }),
    ).toBeUndefined();

    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => {
      try {
        execFileSync(p, ['--version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    });
    if (promtool) {
      // promtool prints its findings and exits non-zero on errors; lint findings must be none too.
      const r = spawnSync(promtool, ['check', 'metrics'], { input: second.text, encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
      expect(r.status).toBe(0);
    } else
      console.warn(
        'promtool not installed: `apt-get install prometheus` to check the scrape with it',
      );
    await obs.stop();
  });

  it('metrics_address off serves nothing; 404 off /metrics', async () => {
    const bus = new EventBus(systemClock);
    const off = await startObservers({
      bus,
      config: configOn('off'),
      log: silentLog,
      clock: systemClock,
    });
    expect(off.metricsAddress).toBeUndefined();
    await off.stop();
    const on = await startObservers({
      bus,
      config: configOn('[::1]:0'),
      log: silentLog,
      clock: systemClock,
    });
    const res = await fetch(`http://[::1]:${String(on.metricsAddress?.port)}/`);
    expect(res.status).toBe(404);
    await res.body?.cancel();
    await on.stop();
  });
});
