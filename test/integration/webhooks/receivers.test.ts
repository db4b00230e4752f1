/**
 * Webhooks against real receivers on loopback: one that fails the first N deliveries, one
 * that hangs, one that is down for the whole test. Signatures are checked with the procedure
 * docs/webhooks.md gives receivers, and a replayed request is detected.
 */
import { once } from 'node:events';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config, WebhookConfig } from '../../../src/config/index.js';
import { silentLog } from '../../../src/hooks/log-port.js';
import { systemClock } from '../../../src/lib/clock.js';
import { EventBus, type AnyEvent } from '../../../src/lib/events.js';
import type { WebhookDelivery } from '../../../src/webhooks/delivery.js';
import { verifySignature } from '../../../src/webhooks/signature.js';
import { WebhookService } from '../../../src/webhooks/webhook-service.js';
import { fixtureConfig } from '../../unit/admin/fixtures.js';

interface Received {
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
}

async function receiver(
  handle: (req: IncomingMessage, body: string, n: number) => number | 'hang',
): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ body, headers: req.headers });
      const r = handle(req, body, got.length);
      if (r === 'hang') return; // never answers; the sender's timeout must end it
      res.writeHead(r).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${port}/hook`, got };
}

let dir: string;
let secretFile: string;
const SECRET = 'test-secret-0123456789';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lvsd-webhooks-'));
  secretFile = join(dir, 'secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function withWebhooks(webhooks: WebhookConfig[]): Config {
  const c = fixtureConfig();
  return { ...c, daemon: { ...c.daemon, webhooks } };
}

const VS = 'tcp:198.18.0.10:80';
function downAll(bus: EventBus, n: number): void {
  for (let i = 1; i <= n; i++) {
    const rs = `198.18.1.${i}:80`;
    bus.publish(
      'rs.down',
      `${VS}/${rs}`,
      { kind: 'check', detail: 'refused' },
      {
        vs: VS,
        rs,
        checker: 'tcp',
        code: 'refused',
        reason: 'connection refused',
        removed: false,
      },
    );
  }
}

async function until(cond: () => boolean, maxMs: number): Promise<void> {
  const end = performance.now() + maxMs;
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
}

function startService(
  bus: EventBus,
  webhooks: WebhookConfig[],
  extra: Partial<Parameters<typeof WebhookService.start>[0]> = fast,
): Promise<WebhookService> {
  return WebhookService.start({
    bus,
    clock: systemClock,
    log: silentLog,
    config: withWebhooks(webhooks),
    ...extra,
  });
}

const fast = {
  grouping: { windowMs: 100, maxEvents: 1000, maxListedEvents: 100, maxListedSubjects: 1000 },
  retry: { baseMs: 40, maxDelayMs: 160, maxAttempts: 4 },
};

describe('webhook delivery', () => {
  it('a receiver failing the first 2 deliveries gets one grouped, signed alert on the 3rd attempt', async () => {
    const r = await receiver((_req, _body, n) => (n <= 2 ? 503 : 200));
    const bus = new EventBus(systemClock);
    const svc = await startService(bus, [
      { name: 'ops', url: r.url, secretFile, timeoutMs: 1000, events: ['rs.*'] },
    ]);
    const t0 = performance.now();
    downAll(bus, 50);
    bus.publish('daemon.stopping', 'daemon', { kind: 'signal' }, { signal: 'SIGTERM' }); // filtered out
    await until(() => svc.stats()[0]?.delivered === 1, 5000);
    const elapsed = performance.now() - t0;
    expect(svc.stats()[0]).toMatchObject({
      delivered: 1,
      failedAttempts: 2,
      retries: 2,
      dropped: 0,
    });
    expect(r.got).toHaveLength(3);
    // Backoff: ≥ 100 ms window + 20 + 40 ms (the jitter's fixed halves) before the 3rd attempt.
    expect(elapsed).toBeGreaterThanOrEqual(160);

    const ids = new Set(r.got.map((g) => g.headers['x-lvsd-delivery']));
    expect(ids.size).toBe(1); // the same alert on every retry: receivers deduplicate on it
    const nowS = Math.floor(Date.now() / 1000);
    for (const g of r.got) {
      const v = verifySignature(
        SECRET,
        {
          timestamp: g.headers['x-lvsd-timestamp'] as string,
          signature: g.headers['x-lvsd-signature'] as string,
        },
        g.body,
        nowS,
      );
      expect(v.ok).toBe(true);
    }
    const d = JSON.parse(r.got[2]?.body ?? '{}') as WebhookDelivery;
    expect(d).toMatchObject({ schema: 'lvsd.webhook', v: 1, endpoint: 'ops' });
    expect(d.groups).toEqual([expect.objectContaining({ name: 'rs.down', count: 50 })]);
    expect(d.groups[0]?.subjects).toHaveLength(50);

    // A replay — the same request again, inside the tolerance window — carries a delivery id
    // the receiver already accepted (it remembers accepted ids for one tolerance window).
    // Rejected attempts (503) were never accepted, so the retries are not replays.
    const accepted = new Set<string>();
    const replayed = [...r.got, r.got[2] as Received].map((g, i) => {
      const id = g.headers['x-lvsd-delivery'] as string;
      const dup = accepted.has(id);
      if (i >= 2) accepted.add(id); // the receiver answered 2xx from the 3rd request on
      return dup;
    });
    expect(replayed).toEqual([false, false, false, true]);
    await svc.stop();
    r.server.close();
  });

  it('a hanging receiver times out per attempt, is abandoned after the bounded retries, and never holds another endpoint', async () => {
    const hang = await receiver(() => 'hang');
    const ok = await receiver(() => 204);
    const bus = new EventBus(systemClock);
    const seen = record(bus);
    const svc = await startService(bus, [
      { name: 'hang', url: hang.url, secretFile, timeoutMs: 200, events: [] },
      { name: 'ok', url: ok.url, secretFile, timeoutMs: 200, events: [] },
    ]);
    const t0 = performance.now();
    downAll(bus, 3);
    await until(() => svc.stats().find((s) => s.endpoint === 'ok')?.delivered === 1, 3000);
    expect(performance.now() - t0).toBeLessThan(600);
    await until(() => svc.stats().find((s) => s.endpoint === 'hang')?.abandoned === 1, 5000);
    expect(svc.stats().find((s) => s.endpoint === 'hang')).toMatchObject({
      delivered: 0,
      failedAttempts: 4,
      retries: 3,
      abandoned: 1,
    });
    expect(hang.got).toHaveLength(4);
    await until(() => named(seen, 'webhook.failed').length === 1, 1000);
    expect(named(seen, 'webhook.failed')).toEqual([
      expect.objectContaining({
        subject: 'webhook:hang',
        cause: { kind: 'webhook', detail: 'hang' },
        data: {
          endpoint: 'hang',
          delivery: (JSON.parse(hang.got[0]?.body ?? '{}') as WebhookDelivery).id,
          attempts: 4,
          reason: 'timeout after 200 ms',
        },
      }),
    ]);
    await svc.stop();
    hang.server.closeAllConnections();
    hang.server.close();
    ok.server.close();
  });

  it('a receiver that is down: retries are bounded, the queue is bounded and drops the oldest', async () => {
    const gone = await receiver(() => 200);
    const url = gone.url;
    gone.server.close();
    await once(gone.server, 'close');
    const bus = new EventBus(systemClock);
    const seen = record(bus);
    const svc = await startService(
      bus,
      [{ name: 'down', url, secretFile, timeoutMs: 200, events: [] }],
      {
        grouping: { windowMs: 10, maxEvents: 1000, maxListedEvents: 10, maxListedSubjects: 10 },
        retry: { baseMs: 200, maxDelayMs: 400, maxAttempts: 3 },
        queueCapacity: 2,
      },
    );
    // Five alerts, one per window, while the first is still being retried.
    for (let i = 0; i < 5; i++) {
      downAll(bus, 1);
      await new Promise((r) => setTimeout(r, 30));
    }
    const s = svc.stats()[0];
    expect(s?.dropped).toBe(2); // 1 in flight + 2 waiting of 5
    expect(s?.queued).toBe(2);
    await until(() => named(seen, 'webhook.dropped').length === 2, 1000);
    expect(named(seen, 'webhook.dropped').map((e) => e.data)).toEqual([
      { endpoint: 'down', count: 1, total: 1 },
      { endpoint: 'down', count: 1, total: 2 },
    ]);
    await svc.stop();
    expect(svc.stats()).toEqual([]);
  });

  it('webhook.* events are never sent, whatever the filter: a failing receiver cannot feed itself', async () => {
    const failing = await receiver(() => 500);
    const ok = await receiver(() => 204);
    const bus = new EventBus(systemClock);
    const seen = record(bus);
    const svc = await startService(
      bus,
      [
        { name: 'failing', url: failing.url, secretFile, timeoutMs: 200, events: [] },
        { name: 'all', url: ok.url, secretFile, timeoutMs: 200, events: ['*', 'webhook.*'] },
      ],
      {
        grouping: { windowMs: 50, maxEvents: 1000, maxListedEvents: 100, maxListedSubjects: 100 },
        retry: { baseMs: 20, maxDelayMs: 40, maxAttempts: 2 },
        queueCapacity: 1,
      },
    );
    downAll(bus, 1);
    await until(() => named(seen, 'webhook.failed').length === 1, 3000);
    // Several grouping windows later: nothing more was formed from the failure event.
    await new Promise((r) => setTimeout(r, 300));
    expect(named(seen, 'webhook.failed')).toHaveLength(1);
    expect(failing.got).toHaveLength(2); // the one alert's two attempts, no second alert
    expect(ok.got).toHaveLength(1);
    const names = (JSON.parse(ok.got[0]?.body ?? '{}') as WebhookDelivery).events.map(
      (e) => e.name,
    );
    expect(names).toEqual(['rs.down']);
    await svc.stop();
    failing.server.close();
    ok.server.close();
  });
});

function record(bus: EventBus): AnyEvent[] {
  const seen: AnyEvent[] = [];
  bus.subscribe((e) => seen.push(e));
  return seen;
}

function named<N extends AnyEvent['name']>(
  seen: AnyEvent[],
  name: N,
): Extract<AnyEvent, { name: N }>[] {
  return seen.filter((e): e is Extract<AnyEvent, { name: N }> => e.name === name);
}
