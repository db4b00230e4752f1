/**
 * Log lines of the events issue 8 added: vrrp.sync_group is an info line of its own; the
 * hook and webhook failures are debug lines, since the runner and the sender already wrote a
 * warn/error line with more detail (the script's output, the attempt).
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, eventMessage, logEvents } from '../../../src/daemon/log.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { EventBus, type AnyEvent } from '../../../src/lib/events.js';

/** One of each new event, published on `bus`. */
function publishNew(bus: EventBus): AnyEvent[] {
  return [
    bus.publish(
      'vrrp.sync_group',
      'G1',
      { kind: 'vrrp' },
      { group: 'G1', from: null, to: 'master', instance: 'VI_1', cause: 'master-down' },
    ),
    bus.publish(
      'hook.failed',
      'rs:x',
      { kind: 'hook' },
      {
        hook: 'notify_down',
        subject: 'rs:x',
        argv0: '/bin/x',
        code: 'timeout',
        reason: 'timeout after 10000 ms',
        durationMs: 10_001,
      },
    ),
    bus.publish(
      'webhook.failed',
      'webhook:ops',
      { kind: 'webhook' },
      { endpoint: 'ops', delivery: 'd1', attempts: 6, reason: 'status 503' },
    ),
    bus.publish(
      'webhook.dropped',
      'webhook:ops',
      { kind: 'webhook' },
      { endpoint: 'ops', count: 1, total: 4 },
    ),
  ];
}

function logged(level: string): { level: string; msg: string }[] {
  const lines: { level: string; msg: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: string; msg: string });
      done();
    },
  });
  const bus = new EventBus(new FakeClock());
  bus.subscribe(logEvents(createLogger({ level, destination })));
  publishNew(bus);
  return lines.map((l) => ({ level: l.level, msg: l.msg }));
}

const MESSAGES = [
  'VRRP sync group G1: NONE -> MASTER (VI_1: master-down)',
  'notify_down /bin/x for rs:x failed (timeout): timeout after 10000 ms',
  'webhook ops: alert d1 abandoned after 6 attempts: status 503',
  'webhook ops: queue full, 1 alert dropped (4 in all)',
];

describe('log lines of the new events', () => {
  it('say what changed or failed and why', () => {
    expect(publishNew(new EventBus(new FakeClock())).map(eventMessage)).toEqual(MESSAGES);
  });

  it('vrrp.sync_group at info; hook.failed, webhook.failed, webhook.dropped at debug', () => {
    expect(logged('info')).toEqual([{ level: 'info', msg: MESSAGES[0] }]);
    expect(logged('debug')).toEqual([
      { level: 'info', msg: MESSAGES[0] },
      ...MESSAGES.slice(1).map((msg) => ({ level: 'debug', msg })),
    ]);
  });
});
