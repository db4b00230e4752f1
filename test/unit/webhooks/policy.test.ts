import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/lib/clock.js';
import { EventBus, type AnyEvent } from '../../../src/lib/events.js';
import { AlertBatcher } from '../../../src/webhooks/alert-batch.js';
import { retryable, retryDelayMs } from '../../../src/webhooks/backoff.js';
import { BoundedQueue } from '../../../src/webhooks/bounded-queue.js';
import { FlapDetector } from '../../../src/webhooks/flap-detector.js';
import { signature, verifySignature } from '../../../src/webhooks/signature.js';

const policy = { baseMs: 1000, maxDelayMs: 8000, maxAttempts: 6 };

describe('retry backoff', () => {
  it('doubles per attempt, capped, with half of it jittered; bounded in count', () => {
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, policy, 0))).toEqual([
      500, 1000, 2000, 4000, 4000,
    ]);
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, policy, 0.999999))).toEqual([
      1000, 2000, 4000, 8000, 8000,
    ]);
    expect(retryDelayMs(6, policy, 0.5)).toBeUndefined();
  });

  it('retries network errors, timeouts, 429 and 5xx; not other 4xx', () => {
    expect([undefined, 408, 429, 500, 503].map(retryable)).toEqual([true, true, true, true, true]);
    expect([400, 401, 404, 410].map(retryable)).toEqual([false, false, false, false]);
  });
});

describe('bounded queue', () => {
  it('drops the oldest when full and counts it', () => {
    const q = new BoundedQueue<number>(3);
    for (let i = 1; i <= 5; i++) q.push(i);
    expect(q.dropped).toBe(2);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([3, 4, 5, undefined]);
  });

  it('behaves like an array model over many cycles (compaction included)', () => {
    const q = new BoundedQueue<number>(10);
    const model: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      q.push(i);
      model.push(i);
      if (model.length > 10) model.shift();
      if (i % 3 === 0) expect(q.shift()).toBe(model.shift());
    }
    expect(q.length).toBe(model.length);
    expect(q.peek()).toBe(model[0]);
  });
});

describe('flap detection (fake clock)', () => {
  const p = { threshold: 4, windowMs: 60_000, maxSubjects: 3 };

  it('reports a flapper once, holds its changes back, then reports it stable after a quiet window', () => {
    const f = new FlapDetector(p);
    const states = ['down', 'up', 'down', 'up', 'down', 'up'];
    const verdicts = states.map((s, i) => f.change('rs1', s, i * 1000).kind);
    expect(verdicts).toEqual(['pass', 'pass', 'pass', 'started', 'suppressed', 'suppressed']);
    expect(f.settle(5000 + 59_999)).toEqual([]);
    expect(f.settle(5000 + 60_000)).toEqual([{ subject: 'rs1', suppressed: 2, lastState: 'up' }]);
    expect(f.change('rs1', 'down', 70_000).kind).toBe('pass');
  });

  it('changes spread wider than the window are not flapping', () => {
    const f = new FlapDetector(p);
    const kinds = [0, 30_000, 61_000, 92_000, 123_000].map(
      (t, i) => f.change('rs1', i % 2 ? 'up' : 'down', t).kind,
    );
    expect(kinds).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
  });

  it('memory is bounded: subjects beyond the cap forget the least recently changed', () => {
    const f = new FlapDetector(p);
    for (let i = 0; i < 100; i++) f.change(`rs${i}`, 'down', i);
    expect(f.tracked).toBe(3);
  });
});

function rsDown(bus: EventBus, i: number): AnyEvent {
  const rs = `198.18.1.${i}:80`;
  return bus.publish(
    'rs.down',
    `tcp:198.18.0.10:80/${rs}`,
    { kind: 'check' },
    {
      vs: 'tcp:198.18.0.10:80',
      rs,
      checker: 'tcp',
      code: 'refused',
      reason: 'connection refused',
      removed: false,
    },
  );
}

describe('grouping (fake clock)', () => {
  it('50 real servers down within the window make one alert listing them all', () => {
    const bus = new EventBus(new FakeClock());
    const b = new AlertBatcher({
      windowMs: 2000,
      maxEvents: 1000,
      maxListedEvents: 10,
      maxListedSubjects: 100,
    });
    for (let i = 1; i <= 50; i++) b.add(rsDown(bus, i), i * 10);
    expect(b.dueAt()).toBe(2010);
    expect(b.take(2009)).toBeUndefined();
    const alert = b.take(2010);
    expect(alert?.groups).toHaveLength(1);
    expect(alert?.groups[0]?.count).toBe(50);
    expect(alert?.groups[0]?.subjects).toHaveLength(50);
    expect(alert?.events).toHaveLength(10);
    expect(alert?.omittedEvents).toBe(40);
    expect([alert?.firstSeq, alert?.lastSeq]).toEqual([1, 50]);
    expect(alert?.summary).toMatch(
      /^50 × rs\.down \(tcp:198\.18\.0\.10:80\/198\.18\.1\.1:80, .*, \+47 more\)$/,
    );
    expect(b.dueAt()).toBeUndefined();
  });

  it('the window is fixed from its first event, and a full batch is due at once', () => {
    const bus = new EventBus(new FakeClock());
    const b = new AlertBatcher({
      windowMs: 2000,
      maxEvents: 3,
      maxListedEvents: 10,
      maxListedSubjects: 2,
    });
    b.add(rsDown(bus, 1), 0);
    b.add(rsDown(bus, 2), 1900);
    expect(b.dueAt()).toBe(2000);
    b.add(rsDown(bus, 3), 1950);
    expect(b.dueAt()).toBe(0);
    const alert = b.take(1950);
    expect(alert?.groups[0]).toMatchObject({ count: 3, more: 1 });
  });
});

describe('signature', () => {
  const secret = 'sekrit';
  const body = '{"a":1}';

  it('verifies with the documented procedure: HMAC-SHA256 of "timestamp.body"', async () => {
    const { createHmac } = await import('node:crypto');
    const sig = signature(secret, 1_700_000_000, body);
    expect(sig).toBe(
      `v1=${createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex')}`,
    );
    expect(
      verifySignature(secret, { timestamp: '1700000000', signature: sig }, body, 1_700_000_100),
    ).toEqual({
      ok: true,
      timestampS: 1_700_000_000,
    });
  });

  it('refuses a changed body, a wrong secret, a stale timestamp and malformed headers', () => {
    const sig = signature(secret, 1000, body);
    const h = { timestamp: '1000', signature: sig };
    expect(verifySignature(secret, h, '{"a":2}', 1000)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature('other', h, body, 1000)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(secret, { timestamp: '1001', signature: sig }, body, 1001)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifySignature(secret, h, body, 1301)).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature(secret, { timestamp: 'x', signature: sig }, body, 1000)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(verifySignature(secret, { timestamp: undefined, signature: sig }, body, 1000)).toEqual({
      ok: false,
      reason: 'missing',
    });
  });
});
