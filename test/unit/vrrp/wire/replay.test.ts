import { describe, expect, it } from 'vitest';
import {
  accept,
  initialReplayState,
  type ReplayState,
  type ReplayVerdict,
  type Sequenced,
} from '../../../../src/vrrp/wire/replay.js';

const A = '198.18.0.2';
const B = '198.18.0.3';
const boot1 = 'aaaaaaaaaaaaaaa1';
const boot2 = 'aaaaaaaaaaaaaaa2';
const boot3 = 'aaaaaaaaaaaaaaa3';

function run(state: ReplayState, msgs: Sequenced[]): { state: ReplayState; verdicts: string[] } {
  const verdicts: string[] = [];
  for (const m of msgs) {
    const v: ReplayVerdict = accept(state, m);
    verdicts.push(v.ok ? v.kind : v.reason);
    state = v.state;
  }
  return { state, verdicts };
}

const m = (source: string, senderId: string, counter: bigint): Sequenced => ({
  source,
  senderId,
  counter,
});

describe('replay guard', () => {
  it('accepts a new peer, then rising counters (gaps allowed)', () => {
    const r = run(initialReplayState(), [m(A, boot1, 0n), m(A, boot1, 1n), m(A, boot1, 7n)]);
    expect(r.verdicts).toEqual(['new-peer', 'next', 'next']);
    expect(r.state.senders).toEqual([{ senderId: boot1, source: A, counter: 7n }]);
  });

  it('drops a replayed packet and an old counter after a newer one', () => {
    const r = run(initialReplayState(), [
      m(A, boot1, 5n),
      m(A, boot1, 5n),
      m(A, boot1, 6n),
      m(A, boot1, 4n),
      m(A, boot1, 7n),
    ]);
    expect(r.verdicts).toEqual(['new-peer', 'replay', 'next', 'replay', 'next']);
  });

  it('a rejected packet leaves the state as it was', () => {
    const s = run(initialReplayState(), [m(A, boot1, 5n)]).state;
    const v = accept(s, m(A, boot1, 5n));
    expect(v.state).toBe(s);
  });

  it('a new sender id from the same source is a reboot; its counter starts again at 0', () => {
    const s = run(initialReplayState(), [m(A, boot1, 900n)]).state;
    const v = accept(s, m(A, boot2, 0n));
    expect(v).toMatchObject({ ok: true, kind: 'reboot', previousSenderId: boot1 });
    expect(run(v.state, [m(A, boot2, 1n)]).verdicts).toEqual(['next']);
  });

  it('after a reboot, the previous boot’s adverts (its last priority-0 advert too) are replays', () => {
    const r = run(initialReplayState(), [
      m(A, boot1, 10n),
      m(A, boot1, 11n), // the stopping advert
      m(A, boot2, 0n),
      m(A, boot1, 11n), // replayed
      m(A, boot1, 10n), // replayed
    ]);
    expect(r.verdicts).toEqual(['new-peer', 'next', 'reboot', 'replay', 'replay']);
  });

  it('a replayed advert of a boot it never saw cannot lock the live peer out', () => {
    // boot1 is what the guard never saw (recorded before this receiver started).
    const r = run(initialReplayState(), [
      m(A, boot2, 100n),
      m(A, boot1, 50n), // the replay: accepted once, as the fundamental limit
      m(A, boot2, 101n), // the live peer goes on
      m(A, boot1, 50n), // the same replay again
      m(A, boot2, 102n),
    ]);
    expect(r.verdicts).toEqual(['new-peer', 'reboot', 'next', 'replay', 'next']);
  });

  it('keeps peers apart by sender id; a replay from another source is still a replay', () => {
    const r = run(initialReplayState(), [
      m(A, boot1, 1n),
      m(B, boot3, 1n),
      m(B, boot1, 1n), // boot1's advert, spoofed from B
      m(A, boot3, 2n), // and the other way
      m(A, boot1, 2n),
      m(B, boot3, 2n),
    ]);
    expect(r.verdicts).toEqual(['new-peer', 'new-peer', 'replay', 'next', 'next', 'replay']);
  });

  it('holds at most `capacity` sender ids, forgetting the least recently accepted', () => {
    let s = initialReplayState({ capacity: 3, idsPerSource: 3 });
    for (let i = 1; i <= 5; i++)
      s = accept(
        s,
        m(`198.18.0.${i}`, `00000000000000${i.toString(16).padStart(2, '0')}`, 1n),
      ).state;
    expect(s.senders.map((x) => x.source)).toEqual(['198.18.0.3', '198.18.0.4', '198.18.0.5']);
    // Touching the oldest keeps it.
    s = accept(s, m('198.18.0.3', '0000000000000003', 2n)).state;
    s = accept(s, m('198.18.0.6', '0000000000000006', 1n)).state;
    expect(s.senders.map((x) => x.source)).toEqual(['198.18.0.5', '198.18.0.3', '198.18.0.6']);
    // A forgotten sender id is new again (the documented limit).
    expect(accept(s, m('198.18.0.1', '0000000000000001', 1n))).toMatchObject({
      ok: true,
      kind: 'new-peer',
    });
  });

  it('holds at most `idsPerSource` ids per source, oldest first out', () => {
    let s = initialReplayState({ capacity: 10, idsPerSource: 2 });
    const ids = ['b000000000000001', 'b000000000000002', 'b000000000000003'];
    for (const id of ids) s = accept(s, m(A, id, 1n)).state;
    s = accept(s, m(B, boot3, 1n)).state;
    expect(s.senders.map((x) => x.senderId)).toEqual([ids[1], ids[2], boot3]);
  });

  it('handles the full 64-bit counter range', () => {
    const top = (1n << 64n) - 1n;
    const r = run(initialReplayState(), [
      m(A, boot1, top - 1n),
      m(A, boot1, top),
      m(A, boot1, top),
    ]);
    expect(r.verdicts).toEqual(['new-peer', 'next', 'replay']);
  });

  it('refuses nonsense bounds', () => {
    expect(() => initialReplayState({ capacity: 0, idsPerSource: 1 })).toThrow(RangeError);
    expect(() => initialReplayState({ capacity: 4, idsPerSource: 1.5 })).toThrow(RangeError);
  });
});
