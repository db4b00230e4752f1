import { describe, expect, it } from 'vitest';
import {
  firstDueMs,
  hashId,
  missedSlots,
  nextDueMs,
  spreadOffsetMs,
  tickAtOrAfter,
} from '../../../src/health/plan.js';

/** Max number of first runs that land in one tick, for N checks sharing one interval. */
function maxPerTick(ids: readonly string[], intervalMs: number, tickMs: number): number {
  const perTick = new Map<number, number>();
  for (const id of ids) {
    const tick = tickAtOrAfter(firstDueMs({ id, intervalMs }, 0), tickMs);
    perTick.set(tick, (perTick.get(tick) ?? 0) + 1);
  }
  return Math.max(...perTick.values());
}

describe('spreading first runs', () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `198.18.1.${i % 250}:${8000 + i}/tcp#0`);

  // Expected load is N * tick / interval per tick; a hash spread is binomial around it, so the
  // worst tick stays within a few standard deviations (all 10,000 in one tick without spreading).
  const cases: readonly [number, number][] = [
    [1_000, 10],
    [1_000, 100],
    [6_000, 50],
    [60_000, 100],
  ];
  for (const [interval, tick] of cases) {
    it(`10,000 checks, interval ${interval} ms, tick ${tick} ms`, () => {
      const mean = (ids.length * tick) / interval;
      const max = maxPerTick(ids, interval, tick);
      expect(max).toBeLessThanOrEqual(Math.ceil(mean + 5 * Math.sqrt(mean) + 1));
      expect(max).toBeGreaterThanOrEqual(Math.floor(mean));
    });
  }

  it('sequential ids spread too (the finaliser mixes the last character)', () => {
    const seq = Array.from({ length: 10_000 }, (_, i) => `check-${i}`);
    const mean = (10_000 * 10) / 1_000;
    expect(maxPerTick(seq, 1_000, 10)).toBeLessThanOrEqual(mean + 5 * Math.sqrt(mean) + 1);
  });

  it('is deterministic and stays within the span', () => {
    expect(hashId('a')).toBe(hashId('a'));
    expect(hashId('a')).not.toBe(hashId('b'));
    for (const id of ids.slice(0, 500)) {
      const off = spreadOffsetMs(id, 1234);
      expect(off).toBeGreaterThanOrEqual(0);
      expect(off).toBeLessThan(1234);
      expect(Number.isInteger(off)).toBe(true);
    }
    expect(spreadOffsetMs('x', 0)).toBe(0);
  });

  it('warmup sets the span; 0 starts at once; a seeded random is keepalived warmup', () => {
    expect(firstDueMs({ id: 'x', intervalMs: 60_000, warmupMs: 0 }, 500)).toBe(500);
    expect(firstDueMs({ id: 'x', intervalMs: 60_000, warmupMs: 10 }, 500)).toBeLessThan(510);
    expect(firstDueMs({ id: 'x', intervalMs: 1000, random: () => 0.5 }, 100)).toBe(600);
    expect(firstDueMs({ id: 'x', intervalMs: 1000, random: () => 0.9999999999 }, 0)).toBe(999);
  });
});

describe('nextDueMs: anchored, skips missed slots', () => {
  const rows: readonly [number, number, number, number][] = [
    // previous due, interval, now, expected
    [1000, 1000, 1005, 2000], // ran 5 ms: next slot
    [1000, 1000, 1999, 2000],
    [1000, 1000, 2000, 2000], // finished exactly on the next slot: run it
    [1000, 1000, 2001, 3000], // overran one slot: skip it
    [1000, 1000, 4500, 5000], // overran 3.5 intervals: skip 3
    [1000, 1000, 500, 2000], // clock behind the due time (retry ran early): still +1 interval
  ];
  for (const [prev, interval, now, expected] of rows) {
    it(`prev ${prev} + ${interval} at ${now} -> ${expected}`, () => {
      expect(nextDueMs(prev, interval, now)).toBe(expected);
    });
  }

  it('counts missed slots', () => {
    expect(missedSlots(1000, 1000, 1500)).toBe(0);
    expect(missedSlots(1000, 1000, 4500)).toBe(3);
  });

  it('rejects a zero interval', () => {
    expect(() => nextDueMs(0, 0, 0)).toThrow(RangeError);
  });

  it('no drift over 10 simulated hours: every due time is start + k * interval', () => {
    const interval = 3_000;
    const start = firstDueMs({ id: '198.18.1.11:80', intervalMs: interval }, 0);
    let due = start;
    let seed = 42;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let runs = 0;
    let skipped = 0;
    while (due < 10 * 3600 * 1000) {
      // Each run takes 0..1.2 intervals (some overrun), plus a late start of up to 50 ms.
      const finishedAt = due + 50 * rand() + 1.2 * interval * rand();
      const next = nextDueMs(due, interval, finishedAt);
      expect((next - start) % interval).toBe(0);
      expect(next).toBeGreaterThanOrEqual(finishedAt);
      skipped += (next - due) / interval - 1;
      due = next;
      runs++;
    }
    const slots = Math.floor((10 * 3600 * 1000 - start) / interval) + 1;
    expect(runs + skipped).toBe(slots);
    expect(skipped).toBeGreaterThan(0);
  });
});
