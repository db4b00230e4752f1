/**
 * The health book's check observer port: every check result reaches it — the ones that change
 * nothing too, which never become events — and a failing observer cannot stop the health
 * machines. With the metrics' CheckDurations behind it, every run is one histogram sample.
 */
import { describe, expect, it } from 'vitest';
import { describedHost, loadConfig, type Config } from '../../../src/config/index.js';
import { HealthBook, type CheckObserver } from '../../../src/daemon/health-book.js';
import type { CheckOutcome } from '../../../src/health/fsm.js';
import { MemorySource } from '../../../src/keepalived-config/index.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { EventBus, type AnyEvent } from '../../../src/lib/events.js';
import { CheckDurations } from '../../../src/metrics/check-durations.js';
import { ManualTimers } from '../../integration/scheduler/manual-timers.js';

function config(): Config {
  const text = `virtual_server 198.18.0.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
`;
  const r = loadConfig('/k.conf', {
    source: new MemorySource({ '/k.conf': text }),
    host: describedHost({ interfaces: ['eth0'], executables: [] }),
    configId: 'test',
    hostname: 'test',
  });
  if (!r.config) throw new Error('fixture does not load');
  return r.config;
}

const OK: CheckOutcome = { ok: true, code: 'ok', reason: 'connected', latencyMs: 3 };
const REFUSED: CheckOutcome = { ok: false, code: 'refused', reason: 'refused', latencyMs: 1 };

function book(): { book: HealthBook; events: AnyEvent[]; id: string; vs: string } {
  const clock = new FakeClock();
  const bus = new EventBus(clock);
  const events: AnyEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const c = config();
  const b = new HealthBook(bus, clock, new ManualTimers(), () => undefined);
  b.sync(c);
  const vs = c.virtualServers[0];
  const id = vs?.realServers[0]?.checks[0]?.id;
  if (!vs || id === undefined) throw new Error('no check in the fixture');
  return { book: b, events, id, vs: vs.name };
}

describe('HealthBook check observer', () => {
  it('is told of every result, also those that publish nothing', () => {
    const { book: b, events, id, vs } = book();
    const seen: [string, string, number][] = [];
    b.observeChecks({
      seriesFor: (v, c) => ({
        live: true,
        observe: (o) => seen.push([v, c, o.latencyMs]),
      }),
    });
    const before = events.length;
    for (let i = 0; i < 50; i++) b.onResult(id, OK);
    expect(seen).toHaveLength(50);
    expect(seen[0]).toEqual([vs, id, 3]);
    expect(events.length - before).toBeLessThan(50); // steady results are no events
    b.observeChecks(undefined);
    b.onResult(id, OK);
    expect(seen).toHaveLength(50);
  });

  it('an observer that throws changes no health decision', () => {
    const { book: b, events, id } = book();
    const broken: CheckObserver = {
      seriesFor: () => ({
        live: true,
        observe: () => {
          throw new Error('metrics broke');
        },
      }),
    };
    b.observeChecks(broken);
    b.onResult(id, OK);
    expect(() => b.onResult(id, REFUSED)).not.toThrow();
    expect(events.some((e) => e.name === 'rs.down')).toBe(true);
  });

  it('feeds CheckDurations one sample per run, without new series after the first', () => {
    const { book: b, id } = book();
    const durations = new CheckDurations();
    b.observeChecks(durations);
    for (let i = 0; i < 1000; i++) b.onResult(id, i % 2 ? OK : REFUSED);
    expect(durations.countOf(id)).toBe(1000);
    durations.keepOnly(new Set());
    expect(durations.countOf(id)).toBe(0);
    // The book held the dropped series; the next result starts a new, registered one.
    b.onResult(id, OK);
    expect(durations.countOf(id)).toBe(1);
    durations.reset();
    b.onResult(id, OK);
    b.onResult(id, OK);
    expect(durations.countOf(id)).toBe(2);
  });

  it("asks the observer for a check's series once, not per result", () => {
    const { book: b, id } = book();
    let asked = 0;
    let samples = 0;
    b.observeChecks({
      seriesFor: () => {
        asked++;
        return {
          live: true,
          observe: () => {
            samples++;
          },
        };
      },
    });
    for (let i = 0; i < 100; i++) b.onResult(id, OK);
    expect([asked, samples]).toEqual([1, 100]);
  });

  it('a slot survives a reload that keeps its check, and goes dead when the check goes', () => {
    const { book: b, id, events } = book();
    const slot = b.slotFor(id);
    expect(slot.rec).toBeDefined();
    b.sync(config());
    expect(b.slotFor(id)).toBe(slot);
    expect(slot.rec).toBeDefined();
    const before = events.length;
    b.onSlotResult(slot, REFUSED);
    expect(events.slice(before).some((e) => e.name === 'rs.down')).toBe(true);
    const empty = { ...config(), virtualServers: [] };
    b.sync(empty);
    expect(slot.rec).toBeUndefined();
    expect(b.onSlotResult(slot, OK)).toBeUndefined();
  });
});
