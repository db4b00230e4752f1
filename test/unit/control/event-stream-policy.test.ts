/**
 * The event stream's backpressure policy, as tables: where a stream starts, when a client is
 * cut off (lagging behind what was published since it connected, or its next event evicted
 * from the ring), and the final line that says so with the last seq sent.
 */
import { describe, expect, it } from 'vitest';
import {
  finalLine,
  parseSince,
  streamStart,
  verdict,
} from '../../../src/control/event-stream-policy.js';
import { classifyLine, LineSplitter, LineTooLong } from '../../../src/control/event-lines.js';

describe('streamStart', () => {
  it.each([
    // since, oldest, newest → start
    [undefined, 1, 10, { cursor: 0 }],
    [undefined, 40, 50, { cursor: 39 }],
    [undefined, undefined, 0, { cursor: 0 }],
    [5, 1, 10, { cursor: 5 }],
    [39, 40, 50, { cursor: 39 }],
    [10, 40, 50, { cursor: 39, gap: { from: 11, to: 39 } }],
    [0, 40, 50, { cursor: 39, gap: { from: 1, to: 39 } }],
    [50, 40, 50, { cursor: 50 }],
    [900, 40, 50, { cursor: 50, ahead: true }],
    [3, undefined, 0, { cursor: 0, ahead: true }],
  ] as const)('since %s with %s..%s held', (since, oldest, newest, start) => {
    expect(streamStart(since, oldest, newest)).toEqual(start);
  });
});

describe('verdict', () => {
  const limits = { maxLagEvents: 100 };
  it.each([
    // cursor, liveFrom, follow, newest, oldest → verdict
    [0, 0, true, 100, 1, 'keep'],
    [0, 0, true, 101, 1, 'lagging'],
    // a backlog asked for with since does not count against the lag
    [10, 5000, true, 5100, 1, 'keep'],
    [10, 5000, true, 5101, 1, 'lagging'],
    // its next event has left the ring
    [10, 5000, true, 5050, 12, 'evicted'],
    [10, 5000, true, 5050, 11, 'keep'],
    // caught up: nothing is needed, nothing is evicted
    [50, 50, true, 50, 60, 'keep'],
    // one-shot reads: never lagging, still evicted
    [0, 9000, false, 99_000, 1, 'keep'],
    [0, 9000, false, 99_000, 2, 'evicted'],
  ] as const)(
    'cursor %s live from %s follow %s, %s newest, %s oldest',
    (cursor, liveFrom, follow, newest, oldest, want) => {
      const v = verdict({ cursor, liveFrom, follow }, newest, oldest, limits);
      expect(v.kind === 'keep' ? 'keep' : v.reason).toBe(want);
    },
  );

  it('the lag rule is what cuts a slow follower (deleting it keeps the client)', () => {
    const v = verdict({ cursor: 0, liveFrom: 0, follow: true }, 1_000_000, 1, limits);
    expect(v).toEqual({ kind: 'cut', reason: 'lagging' });
  });
});

describe('finalLine', () => {
  it('a cut says why, names the last seq sent and how to resume', () => {
    const body = finalLine({ kind: 'cut', reason: 'lagging' }, 4711, { maxLagEvents: 1000 });
    expect(body.error.code).toBe('SLOW_CONSUMER');
    expect(body.error.lastSeq).toBe(4711);
    expect(body.error.message).toMatch(/more than 1000 events behind.*seq 4711/);
    expect(body.error.hint).toMatch(/--since 4711/);
    const ev = finalLine({ kind: 'cut', reason: 'evicted' }, 3, { maxLagEvents: 1000 });
    expect(ev.error.message).toMatch(/left the daemon/);
  });

  it('a stop is UNAVAILABLE with the last seq', () => {
    const body = finalLine({ kind: 'stopping' }, 12, { maxLagEvents: 1000 });
    expect(body.error).toMatchObject({ code: 'UNAVAILABLE', lastSeq: 12 });
    expect(body.error.message).toMatch(/stopping/);
  });
});

describe('parseSince', () => {
  it.each([
    ['0', 0],
    ['17', 17],
    ['-1', undefined],
    ['1.5', undefined],
    ['', undefined],
    ['1e3', undefined],
    ['9999999999999999', undefined],
  ])('%s', (text, want) => {
    expect(parseSince(text)).toBe(want);
  });
});

describe('reading a stream', () => {
  it('splits chunks into lines across chunk boundaries', () => {
    const s = new LineSplitter();
    expect(s.push('{"a"')).toEqual([]);
    expect(s.push(':1}\n{"b":2}\n{"c"')).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.flush()).toBe('{"c"');
    expect(s.flush()).toBeUndefined();
  });

  it('refuses a line longer than the bound', () => {
    const s = new LineSplitter(10);
    expect(() => s.push('x'.repeat(11))).toThrow(LineTooLong);
    expect(() => new LineSplitter(10).push(`${'x'.repeat(11)}\n`)).toThrow(LineTooLong);
  });

  it('tells events from the final error line and from anything else', () => {
    const ev = '{"v":1,"name":"rs.up","seq":3,"data":{}}';
    expect(classifyLine(ev)?.kind).toBe('event');
    expect(classifyLine('{"error":{"code":"SLOW_CONSUMER","message":"m","lastSeq":3}}')?.kind).toBe(
      'end',
    );
    expect(classifyLine('{"hello":1}')).toBeUndefined();
    expect(classifyLine('not json')).toBeUndefined();
    expect(classifyLine('7')).toBeUndefined();
  });
});
