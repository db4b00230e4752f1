/**
 * A storm (issue 8): 1,000 real HTTP servers on loopback flapping for a minute (100 flips/s,
 * every server flips about 6 times), lvsd in-process with the memory IPVS driver and every
 * observer on (notify_up/notify_down scripts on every server, a webhook, the event ring and the
 * control socket), and a webhook receiver that reads every alert and never answers. Asserted:
 *
 *   - memory stays bounded: heap after a full GC grows by less than HEAP_GROWTH_MIB from the
 *     end of the warm-up (10 s) to the end of the storm, and RSS stays under RSS_MAX_MIB;
 *   - grouping holds: the hanging receiver gets a few grouped alerts (each standing for many
 *     events: retries of one alert at a time), and a second endpoint that answers 200 gets
 *     grouped alerts with flapping servers reported as flapping — never one per event;
 *   - no event is lost from the stream before a slow consumer is cut off: `lvsd events
 *     --follow --json` (a reader that keeps up) gets every seq without a hole, and a reader
 *     that reads 40 KB/s gets a contiguous run of seqs and then is cut off.
 *
 * LVSD_STORM_MS sets the storm's length (default 60000); the file takes about 85 s.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../../src/daemon/daemon.js';
import { LVSD_BIN } from '../../helpers/director-lab.js';
import {
  countingLog,
  hangingReceiver,
  newBus,
  startStormDaemon,
  stormSetup,
  type HangingReceiver,
  type StormBackends,
} from '../../helpers/storm-lab.js';

const STORM_MS = Number(process.env.LVSD_STORM_MS ?? 60_000);
const WARMUP_MS = 10_000;
const SERVERS = 1_000;
const FLIPS_PER_SEC = 100;
/** Heap growth (after a full GC) from the end of the warm-up to the end of the storm. */
const HEAP_GROWTH_MIB = 64;
const RSS_MAX_MIB = 512;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Seqs seen by one reader: first, last, holes (a hole is a seq skipped). */
class SeqTrack {
  view(): { first?: number; last?: number; count: number; holes: number } {
    return {
      ...(this.first === undefined ? {} : { first: this.first }),
      ...(this.last === undefined ? {} : { last: this.last }),
      count: this.count,
      holes: this.holes,
    };
  }
  first: number | undefined;
  last: number | undefined;
  count = 0;
  holes = 0;
  add(seq: number): void {
    if (this.last !== undefined && seq !== this.last + 1) this.holes += 1;
    this.first ??= seq;
    this.last = seq;
    this.count += 1;
  }
}

interface Final {
  readonly code?: string;
  readonly lastSeq?: number;
}

/** Splits NDJSON into events (seq) and a final error line. */
function lineSplitter(track: SeqTrack, onFinal: (f: Final) => void): (chunk: string) => void {
  let rest = '';
  return (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) {
      if (l.length === 0) continue;
      const o = JSON.parse(l) as {
        seq?: number;
        error?: { code?: string; details?: { lastSeq?: number }; lastSeq?: number };
        code?: string;
        lastSeq?: number;
      };
      if (typeof o.seq === 'number') track.add(o.seq);
      else {
        const code = o.error?.code ?? o.code;
        const lastSeq = o.error?.details?.lastSeq ?? o.error?.lastSeq ?? o.lastSeq;
        onFinal({
          ...(code === undefined ? {} : { code }),
          ...(lastSeq === undefined ? {} : { lastSeq }),
        });
      }
    }
  };
}

describe.skipIf(process.getuid?.() !== 0)('storm: 1,000 flapping real servers', () => {
  let dir: string;
  let backends: StormBackends | undefined;
  let receiver: HangingReceiver | undefined;
  let healthy: HangingReceiver | undefined;
  let daemon: Daemon | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvsd-storm-'));
  });
  afterAll(async () => {
    await daemon?.stop('test').catch(() => undefined);
    await backends?.close();
    await receiver?.close();
    await healthy?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'memory stays bounded, alerts stay grouped, and event readers get every event up to a cut-off',
    { timeout: STORM_MS + 60_000 },
    async () => {
      receiver = await hangingReceiver();
      healthy = await hangingReceiver(200);
      const setup = await stormSetup({
        servers: SERVERS,
        flipsPerSec: FLIPS_PER_SEC,
        seed: 8,
        dir,
        hooks: true,
        webhooks: { hang: receiver.url, ok: healthy.url },
      });
      backends = setup.backends;
      const file = setup.file;
      const bus = newBus();
      const all = new SeqTrack();
      const byName = new Map<string, number>();
      bus.subscribe((e) => {
        all.add(e.seq);
        byName.set(e.name, (byName.get(e.name) ?? 0) + 1);
      });
      const log = countingLog();
      const t0 = performance.now();
      daemon = await startStormDaemon({ file, dir, bus, log });
      const ro = join(dir, 'lvsd-ro.sock');

      // The reader that keeps up: lvsd events --follow --json (every event the ring holds, then new).
      const fast = new SeqTrack();
      let fastFinal: Final | undefined;
      const cli = spawn(
        process.execPath,
        [LVSD_BIN, 'events', '--follow', '--json', '--socket', ro],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let cliErr = '';
      cli.stdout.setEncoding('utf8');
      cli.stdout.on(
        'data',
        lineSplitter(fast, (f) => (fastFinal = f)),
      );
      cli.stderr.on('data', (c: Buffer) => (cliErr += c.toString().slice(0, 4096)));
      const cliExit = new Promise<number | null>((r) => cli.once('close', r));

      // The slow reader: GET /v1/events?follow=1 from now on, read at 40 KB/s.
      const slow = new SeqTrack();
      let slowFinal: Final | undefined;
      let slowEnd = 'open';
      const sinceSeq = all.last ?? 0;
      const slowRes = await new Promise<IncomingMessage>((res, rej) => {
        const req = request(
          { socketPath: ro, path: `/v1/events?follow=1&since=${sinceSeq}`, method: 'GET' },
          res,
        );
        req.on('error', rej);
        req.end();
      });
      slowRes.pause();
      // Bytes, decoded here: read(n) on a stream with setEncoding('utf8') can throw inside
      // Node's readable (fromList: "reading 'length'"), which stopped this reader once in CI.
      const decoder = new StringDecoder('utf8');
      const slowText = lineSplitter(slow, (f) => (slowFinal = f));
      const slowFeed = (b: Buffer): void => {
        slowText(decoder.write(b));
      };
      slowRes.on('end', () => (slowEnd = 'end'));
      slowRes.on('aborted', () => (slowEnd = 'aborted'));
      slowRes.on('error', () => (slowEnd = slowEnd === 'open' ? 'error' : slowEnd));
      slowRes.on('close', () => (slowEnd = slowEnd === 'open' ? 'closed' : slowEnd));
      const slowTimer = setInterval(() => {
        for (let i = 0; i < 4; i++) {
          const c = slowRes.read(1024) as Buffer | null;
          if (c === null) break;
          slowFeed(c);
        }
      }, 100);

      // Warm-up, then the baseline; memory sampled every second through the storm.
      await sleep(WARMUP_MS);
      const heap0 = heapAfterGc();
      let rssMax = process.memoryUsage().rss;
      let heapMax = 0;
      const tEnd = performance.now() + STORM_MS - WARMUP_MS;
      for (let i = 0; i < 1_000 && performance.now() < tEnd; i++) {
        await sleep(Math.min(1_000, Math.max(0, tEnd - performance.now())));
        const m = process.memoryUsage();
        rssMax = Math.max(rssMax, m.rss);
        heapMax = Math.max(heapMax, m.heapUsed);
      }
      const heap1 = heapAfterGc();
      const flips = await backends.stop();
      const stormS = (performance.now() - t0) / 1000;

      // Drain: the slow reader reads everything left (fast), the receiver gets what is due.
      clearInterval(slowTimer);
      slowRes.on('data', slowFeed);
      slowRes.resume();
      await sleep(3_000);
      await daemon.stop('test');
      daemon = undefined;
      const cliCode = await Promise.race([cliExit, sleep(10_000).then(() => 'timeout' as const)]);
      if (cliCode === 'timeout') cli.kill('SIGKILL');

      // The slow reader reads 40 KB/s: its cut-off line and the close may still be on the way.
      for (let i = 0; i < 200 && slowEnd === 'open'; i++) await sleep(100);
      const rsEvents = (byName.get('rs.up') ?? 0) + (byName.get('rs.down') ?? 0);
      const alerts = receiver.alerts;
      const okAlerts = healthy.alerts;
      const summary = {
        stormS: Number(stormS.toFixed(1)),
        flips,
        events: all.count,
        rsEvents,
        byName: Object.fromEntries(byName),
        heapGrowthMiB: Number(((heap1 - heap0) / MiB).toFixed(1)),
        heapMaxMiB: Number((heapMax / MiB).toFixed(1)),
        rssMaxMiB: Number((rssMax / MiB).toFixed(1)),
        posts: alerts.length,
        distinctAlerts: new Set(alerts.map((a) => a.delivery)).size,
        eventsPerAlert: alerts.map((a) => a.events),
        ok: {
          posts: okAlerts.length,
          events: okAlerts.reduce((a, b) => a + b.events, 0),
          maxEvents: Math.max(0, ...okAlerts.map((a) => a.events)),
          flappingListed: okAlerts.reduce((a, b) => a + b.flapping, 0),
        },
        fast: { ...fast.view(), final: fastFinal, code: cliCode, stderr: cliErr.slice(0, 300) },
        slow: { ...slow.view(), since: sinceSeq, final: slowFinal, end: slowEnd },
        log: log.counts,
      };
      console.log(`storm: ${JSON.stringify(summary)}`);

      // The storm happened: servers flipped, lvsd saw thousands of transitions.
      expect(flips).toBeGreaterThan(FLIPS_PER_SEC * (STORM_MS / 1000) * 0.8);
      expect(rsEvents).toBeGreaterThan(flips * 0.3);
      // The bus itself numbers every event without a hole.
      expect(all.holes).toBe(0);

      // Memory.
      expect(heap1 - heap0).toBeLessThan(HEAP_GROWTH_MIB * MiB);
      expect(rssMax).toBeLessThan(RSS_MAX_MIB * MiB);

      // Grouping at the hanging endpoint: one alert in flight at a time, each attempt times out
      // after 2 s and is retried with backoff, so a few POSTs, each standing for many events.
      expect(alerts.length).toBeGreaterThan(3);
      expect(alerts.length).toBeLessThan(STORM_MS / 2_000);
      for (const a of alerts) expect(a.events).toBeGreaterThan(1);
      // … and at the endpoint that answers: one alert per 2 s window at most (plus a few that
      // close early when full), flapping servers reported as flapping, not per event.
      expect(okAlerts.length).toBeGreaterThan(3);
      expect(okAlerts.length).toBeLessThan(rsEvents / 20);
      expect(summary.ok.flappingListed).toBeGreaterThan(0);
      for (const a of okAlerts) expect(a.events + a.flapping).toBeGreaterThan(0);

      // The reader that keeps up: every seq from its first to the daemon's last, no hole.
      expect(fast.holes).toBe(0);
      expect(fast.count).toBeGreaterThan(rsEvents);
      expect((all.last ?? 0) - (fast.last ?? 0)).toBeLessThanOrEqual(0);
      expect(fastFinal?.code ?? 'UNAVAILABLE').toBe('UNAVAILABLE');

      // The slow reader: a contiguous run from just after `since`, then cut off well before
      // the end (it fell more than 1,000 events behind).
      expect(slow.first).toBe(sinceSeq + 1);
      expect(slow.holes).toBe(0);
      expect(slow.last ?? 0).toBeLessThan((all.last ?? 0) - 1_000);
      if (slowFinal !== undefined) {
        expect(slowFinal.code).toBe('SLOW_CONSUMER');
        expect(slowFinal.lastSeq).toBe(slow.last);
      }
      expect(slowEnd).not.toBe('open');
    },
  );
});
