/** The event ring: bounded in count and bytes, oldest out first, reads by seq. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import { EventBus, type AnyEvent } from '../../../src/lib/events.js';
import { EventRing } from '../../../src/observe/event-ring.js';

function events(n: number, reason = 'ok'): AnyEvent[] {
  const bus = new EventBus(new FakeClock());
  const out: AnyEvent[] = [];
  bus.subscribe((e) => out.push(e));
  for (let i = 0; i < n; i++)
    bus.publish(
      'rs.weight',
      'vs/rs',
      { kind: 'check' },
      {
        vs: 'tcp:198.18.0.10:80',
        rs: '198.18.1.11:80',
        weight: i,
        previous: 0,
        reason,
      },
    );
  return out;
}

describe('EventRing', () => {
  it('keeps the newest maxEvents, in order, and reads after a seq', () => {
    const ring = new EventRing({ maxEvents: 5 });
    for (const e of events(12)) ring.push(e);
    expect(ring.size).toBe(5);
    expect(ring.oldestSeq).toBe(8);
    expect(ring.newestSeq).toBe(12);
    expect(ring.after(0, 100).map((h) => h.event.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(ring.after(9, 2).map((h) => h.event.seq)).toEqual([10, 11]);
    expect(ring.after(12, 10)).toEqual([]);
    expect(ring.recent(2).map((e) => e.seq)).toEqual([11, 12]);
    expect(ring.recent(50).map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
  });

  it('holds each event as its JSON line', () => {
    const ring = new EventRing();
    const [e] = events(1);
    if (!e) throw new Error('no event');
    ring.push(e);
    expect(JSON.parse(ring.after(0, 1)[0]?.line ?? '')).toEqual(e);
  });

  it('is bounded in bytes: the oldest go first, a single huge event is still kept', () => {
    const all = events(100, 'x'.repeat(900));
    const oneLine = JSON.stringify(all[0]).length;
    const ring = new EventRing({ maxEvents: 10_000, maxBytes: oneLine * 10 });
    for (const e of all) ring.push(e);
    // Lines grow by a digit or two with seq and weight: 9 or 10 of them fit.
    expect(ring.size).toBeGreaterThanOrEqual(9);
    expect(ring.size).toBeLessThanOrEqual(10);
    expect(ring.heldBytes).toBeLessThanOrEqual(oneLine * 10);
    expect(ring.oldestSeq).toBe(101 - ring.size);
    const tiny = new EventRing({ maxBytes: 10 });
    for (const e of all.slice(0, 3)) tiny.push(e);
    expect(tiny.size).toBe(1);
    expect(tiny.oldestSeq).toBe(3);
  });

  it('tells listeners the newest seq after each push, until they unsubscribe', () => {
    const ring = new EventRing();
    const seen: number[] = [];
    const off = ring.onPush((n) => seen.push(n));
    const all = events(3);
    for (const e of all.slice(0, 2)) ring.push(e);
    off();
    for (const e of all.slice(2)) ring.push(e);
    expect(seen).toEqual([1, 2]);
  });

  it('a storm of 50,000 events stays within 10,000 held (the default bound)', () => {
    const ring = new EventRing();
    for (const e of events(50_000)) ring.push(e);
    expect(ring.size).toBe(10_000);
    expect(ring.oldestSeq).toBe(40_001);
    expect(ring.heldBytes).toBeLessThanOrEqual(ring.maxBytes);
  });
});
