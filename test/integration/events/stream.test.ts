/**
 * GET /v1/events over a real ControlServer (unix sockets, a fake port with a real bus and
 * ring): since and follow, a gap when since is older than the ring, the final line on stop,
 * and a slow consumer cut off while the daemon's events go on — publishing never waits for
 * it, a fast follower gets every event, and the slow one gets every event up to the cut.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../../src/control/client.js';
import type { StreamLine } from '../../../src/control/event-lines.js';
import { ControlServer } from '../../../src/control/server.js';
import { EventBus, type AnyEvent } from '../../../src/lib/events.js';
import { EventRing } from '../../../src/observe/event-ring.js';
import { fakePort, type FakePort } from '../../unit/control/fake-port.js';
import { SchemaChecker } from '../../unit/webhooks/json-schema-check.js';

const schema = JSON.parse(
  readFileSync(new URL('../../../docs/events.schema.json', import.meta.url), 'utf8'),
) as Record<string, never>;
const checker = new SchemaChecker(schema);

let dir: string;
let port: FakePort;
let server: ControlServer | undefined;
let bus: EventBus;
let ring: EventRing;
const clients: ControlClient[] = [];

const clock = { wallMs: () => Date.now(), monotonicMs: () => performance.now() };

async function start(ringOpts = {}, maxLagEvents = 1000): Promise<void> {
  bus = new EventBus(clock);
  ring = new EventRing(ringOpts);
  bus.subscribe((e) => {
    ring.push(e);
  });
  server = await ControlServer.start({
    port: { ...port, events: ring },
    adminPath: path.join(dir, 'lvsd.sock'),
    roPath: path.join(dir, 'lvsd-ro.sock'),
    streamLimits: { maxLagEvents, batchEvents: 256, batchBytes: 64 * 1024, lingerMs: 10_000 },
  });
}

function client(): ControlClient {
  const c = new ControlClient({ socketPath: path.join(dir, 'lvsd-ro.sock'), timeoutMs: 5000 });
  clients.push(c);
  return c;
}

function publish(n: number, reason = 'slow start'): void {
  for (let i = 0; i < n; i++)
    bus.publish(
      'rs.weight',
      'tcp:198.18.0.10:80/198.18.1.11:80',
      { kind: 'check' },
      { vs: 'tcp:198.18.0.10:80', rs: '198.18.1.11:80', weight: i % 100, previous: 0, reason },
    );
}

async function collect(lines: AsyncGenerator<StreamLine>, until?: (l: StreamLine) => boolean) {
  const out: StreamLine[] = [];
  for await (const l of lines) {
    out.push(l);
    if (until?.(l)) break;
  }
  return out;
}

const seqs = (ls: readonly StreamLine[]) =>
  ls.flatMap((l) => (l.kind === 'event' ? [l.event.seq] : []));
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const tick = () => new Promise((r) => setImmediate(r));

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-events-'));
  chmodSync(dir, 0o755);
  port = await fakePort();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await server?.close();
  server = undefined;
  await port.admin.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /v1/events over a real socket', () => {
  it('without follow: everything held (or after since), then the end; lines are event records', async () => {
    await start();
    publish(5);
    const all = await client().events({ follow: false });
    expect(all).toMatchObject({ oldest: 1, newest: 5, gap: undefined, ahead: false });
    const lines = await collect(all.lines());
    expect(seqs(lines)).toEqual([1, 2, 3, 4, 5]);
    for (const l of lines) {
      if (l.kind !== 'event') throw new Error(`not an event: ${l.line}`);
      expect(JSON.parse(l.line)).toEqual(l.event);
      expect(checker.check(l.event, '#/$defs/event')).toEqual([]);
    }
    const after = await client().events({ since: 3, follow: false });
    expect(seqs(await collect(after.lines()))).toEqual([4, 5]);
  });

  it('follow: the backlog after since, then new events as they happen', async () => {
    await start();
    publish(3);
    const s = await client().events({ since: 1, follow: true });
    const got: StreamLine[] = [];
    const reading = (async () => {
      for await (const l of s.lines()) {
        got.push(l);
        if (l.kind === 'event' && l.event.seq === 8) return;
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    expect(seqs(got)).toEqual([2, 3]);
    publish(5);
    await reading;
    expect(seqs(got)).toEqual(range(2, 8));
  });

  it('says so when since is older than the ring holds, or beyond the newest', async () => {
    await start({ maxEvents: 10 });
    publish(30);
    const s = await client().events({ since: 5, follow: false });
    expect(s).toMatchObject({ oldest: 21, newest: 30, gap: { from: 6, to: 20 } });
    expect(seqs(await collect(s.lines()))).toEqual(range(21, 30));
    const ahead = await client().events({ since: 500, follow: false });
    expect(ahead.ahead).toBe(true);
    expect(await collect(ahead.lines())).toEqual([]);
  });

  it('ends a follower with an UNAVAILABLE line naming the last seq when lvsd stops', async () => {
    await start();
    publish(2);
    const s = await client().events({ follow: true });
    const reading = collect(s.lines());
    await new Promise((r) => setTimeout(r, 50));
    await server?.close();
    server = undefined;
    const lines = await reading;
    expect(seqs(lines)).toEqual([1, 2]);
    expect(lines.at(-1)).toMatchObject({ kind: 'end', error: { code: 'UNAVAILABLE', lastSeq: 2 } });
  });

  it('cuts off a client that does not read, never slows publishing, loses nothing before the cut', async () => {
    await start({}, 1000);
    // The slow one: a raw request whose response is paused (nothing read from the socket).
    const slow = await new Promise<IncomingMessage>((resolve, reject) => {
      const r = request(
        { socketPath: path.join(dir, 'lvsd-ro.sock'), path: '/v1/events?follow=1' },
        resolve,
      );
      r.on('error', reject);
      r.end();
    });
    slow.pause();
    const fast = await client().events({ follow: true });
    const TOTAL = 30_000;
    const fastDone = collect(fast.lines(), (l) => l.kind === 'event' && l.event.seq === TOTAL);

    let worstPublishMs = 0;
    // A storm of 100 events per turn of the event loop (~4 MB in all).
    for (let batch = 0; batch < TOTAL / 100; batch++) {
      const t0 = performance.now();
      publish(100, 'x'.repeat(200));
      worstPublishMs = Math.max(worstPublishMs, performance.now() - t0);
      await tick();
    }
    const fastLines = await fastDone;
    expect(fastLines.at(-1)?.kind, fastLines.at(-1)?.line).toBe('event');
    expect(seqs(fastLines)).toEqual(range(1, TOTAL));
    // 100 publishes with two streams attached: a slow client adds no waiting to any of them.
    expect(worstPublishMs).toBeLessThan(250);
    expect(server?.openStreams).toBe(2); // the fast one still open, the slow one lingering

    // Now the slow one reads: every event from 1 up to the cut, in order, then the last line.
    slow.setEncoding('utf8');
    slow.resume();
    let text = '';
    slow.on('data', (c: string) => (text += c));
    await new Promise((r) => slow.once('end', r));
    const lines = text.trimEnd().split('\n');
    const last = JSON.parse(lines.at(-1) ?? '') as { error: { code: string; lastSeq: number } };
    expect(last.error.code).toBe('SLOW_CONSUMER');
    const got = lines.slice(0, -1).map((l) => (JSON.parse(l) as AnyEvent).seq);
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual(range(1, last.error.lastSeq));
    expect(last.error.lastSeq).toBeLessThan(TOTAL);
  }, 30_000);
});
