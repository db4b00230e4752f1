/**
 * The replay guard, pure. Feed it only adverts that passed `decodeAdvert` with a valid MAC:
 * without a key anyone can forge any advert, so a guard fed unauthenticated adverts protects
 * nothing and can be poisoned (a forged huge counter would lock the real peer out).
 *
 * The rule, per sender id (the 8 random bytes a sender picks at each start, covered by the MAC):
 * - a known sender id must carry a counter greater than the last one accepted with it, else
 *   `replay`. This drops duplicated and reordered datagrams too: an older advert is never worth
 *   applying after a newer one, and losing one advert costs nothing (master-down is 3 intervals);
 * - an unknown sender id is accepted. From a source address that already has a sender id it is
 *   a `reboot` of that peer (its counter may start again from 0), else a `new-peer`.
 * Earlier ids of a peer are not forgotten at a reboot: each keeps its last counter, so replaying
 * a previous boot's adverts (such as the priority-0 advert it sent when it stopped) is a replay.
 * They are not banned either: if they were, one replayed advert from a boot this guard never saw
 * would pass as a reboot and lock the live peer out, which is a split brain.
 *
 * Bounds: at most `capacity` sender ids in all, at most `idsPerSource` per source address; the
 * least recently accepted goes first.
 *
 * Limit (docs/heartbeat-protocol.md, "Replay protection"): the guard knows only what it has
 * seen since this process started, within those bounds. A recorded advert from a sender id it
 * does not know is accepted once, as a reboot; each recorded advert at most once, in counter
 * order. Closing that needs a freshness proof (the receiver's own id echoed back), a later
 * format version.
 */

export interface ReplayOptions {
  /** Sender ids remembered in all (LRU). */
  readonly capacity: number;
  /** Sender ids remembered per source address. */
  readonly idsPerSource: number;
}

export const DEFAULT_REPLAY_OPTIONS: ReplayOptions = { capacity: 64, idsPerSource: 8 };

export interface SenderRecord {
  readonly senderId: string;
  /** The source address it was first heard from, as the shell writes it. */
  readonly source: string;
  /** The last accepted counter. */
  readonly counter: bigint;
}

export interface ReplayState {
  readonly options: ReplayOptions;
  /** Least recently accepted first. */
  readonly senders: readonly SenderRecord[];
}

export interface Sequenced {
  readonly source: string;
  readonly senderId: string;
  readonly counter: bigint;
}

export type ReplayVerdict =
  | {
      readonly ok: true;
      readonly state: ReplayState;
      readonly kind: 'next' | 'new-peer' | 'reboot';
      /** With `reboot`: the sender id last accepted from that source. */
      readonly previousSenderId?: string;
    }
  | { readonly ok: false; readonly state: ReplayState; readonly reason: 'replay' };

export function initialReplayState(options: ReplayOptions = DEFAULT_REPLAY_OPTIONS): ReplayState {
  for (const [name, value] of Object.entries(options))
    if (!Number.isInteger(value) || (value as number) < 1)
      throw new RangeError(
        `replay guard ${name} must be a positive integer (got ${String(value)})`,
      );
  return { options, senders: [] };
}

/** `record` becomes the most recent; the bounds drop the least recent ones. */
function touched(state: ReplayState, record: SenderRecord): ReplayState {
  const { capacity, idsPerSource } = state.options;
  const senders = [...state.senders.filter((s) => s.senderId !== record.senderId), record];
  let sameSource = senders.filter((s) => s.source === record.source).length;
  const kept = senders.filter((s) => {
    if (s.source !== record.source || sameSource <= idsPerSource) return true;
    sameSource--;
    return false;
  });
  return { ...state, senders: kept.slice(Math.max(0, kept.length - capacity)) };
}

/** Decide on one authenticated advert's (source, sender id, counter). */
export function accept(state: ReplayState, msg: Sequenced): ReplayVerdict {
  const known = state.senders.find((s) => s.senderId === msg.senderId);
  if (known) {
    if (msg.counter <= known.counter) return { ok: false, state, reason: 'replay' };
    return { ok: true, kind: 'next', state: touched(state, { ...known, counter: msg.counter }) };
  }
  const fresh: SenderRecord = { senderId: msg.senderId, source: msg.source, counter: msg.counter };
  const previous = state.senders.findLast((s) => s.source === msg.source);
  if (previous)
    return {
      ok: true,
      kind: 'reboot',
      previousSenderId: previous.senderId,
      state: touched(state, fresh),
    };
  return { ok: true, kind: 'new-peer', state: touched(state, fresh) };
}
