/**
 * The receive path of one VRRP instance, pure: one datagram in, either the `PeerAdvert` the
 * state machine consumes or a counted drop out. Checks, in order: TTL (when the socket reports
 * it), unicast source, VRID (before the MAC: another instance's advert fails this instance's
 * key and is not a forgery), decode and MAC, our own looped-back advert, replay. Never throws.
 */
import type { PeerAdvert } from '../fsm.js';
import { decodeAdvert, peekHeader, type Advert, type MacKey } from './advert.js';
import { canonicalAddress } from './address.js';
import { countDrop, emptyDropCounters, type DropCounters, type DropReason } from './counters.js';
import { TTL } from './format.js';
import {
  accept,
  DEFAULT_REPLAY_OPTIONS,
  initialReplayState,
  type ReplayOptions,
  type ReplayState,
} from './replay.js';

export interface ReceiverState {
  readonly replay: ReplayState;
  readonly drops: DropCounters;
}

export function initialReceiver(options: ReplayOptions = DEFAULT_REPLAY_OPTIONS): ReceiverState {
  return { replay: initialReplayState(options), drops: emptyDropCounters() };
}

export interface ReceiveOptions {
  readonly vrid: number;
  readonly family: 4 | 6;
  /** This instance's key (keys.ts), or null without authentication. */
  readonly key: MacKey | null;
  /** Ruling 11: true whenever a key is configured. */
  readonly requireAuth: boolean;
  /** Unicast mode: the configured unicast_peer addresses; null in multicast mode. */
  readonly peers: readonly string[] | null;
  /** This boot's sender id: an advert carrying it is our own, looped back. */
  readonly ownSenderId: string;
}

export interface Datagram {
  readonly data: Uint8Array;
  /** The UDP source address as the socket reports it (an IPv6 zone is ignored). */
  readonly from: string;
  /** The received TTL / hop limit when the socket layer reports it, else null. */
  readonly ttl: number | null;
}

export type ReceiveResult =
  | {
      readonly ok: true;
      readonly state: ReceiverState;
      /** For `step(…, { type: 'advert', advert: peer }, now)`. */
      readonly peer: PeerAdvert;
      readonly advert: Advert;
      readonly authenticated: boolean;
      /** What the replay guard made of the sender id (`next` when unauthenticated). */
      readonly sender: 'next' | 'new-peer' | 'reboot';
    }
  | {
      readonly ok: false;
      readonly state: ReceiverState;
      readonly reason: DropReason;
      readonly detail: string;
    };

function drop(state: ReceiverState, reason: DropReason, detail: string): ReceiveResult {
  return { ok: false, state: { ...state, drops: countDrop(state.drops, reason) }, reason, detail };
}

/** Canonical text of a socket address: no zone, IPv4-mapped IPv6 as IPv4. */
export function sourceAddress(text: string): string | undefined {
  const pct = text.indexOf('%');
  const bare = pct === -1 ? text : text.slice(0, pct);
  const v4 = canonicalAddress(bare, 4);
  if (v4 !== undefined) return v4;
  const v6 = canonicalAddress(bare, 6);
  if (v6?.startsWith('::ffff:') && v6.includes('.')) return v6.slice('::ffff:'.length);
  return v6;
}

export function receiveAdvert(
  state: ReceiverState,
  dgram: Datagram,
  opts: ReceiveOptions,
): ReceiveResult {
  if (dgram.ttl !== null && dgram.ttl !== TTL)
    return drop(state, 'bad-ttl', `TTL ${dgram.ttl}, sent as ${TTL}: it crossed a router`);
  const from = sourceAddress(dgram.from) ?? dgram.from;
  if (opts.peers !== null && !opts.peers.some((p) => sourceAddress(p) === from))
    return drop(state, 'unknown-source', `${from} is not a unicast_peer`);
  const header = peekHeader(dgram.data);
  if (header !== null && header.vrid !== opts.vrid)
    return drop(state, 'wrong-vrid', `VRID ${header.vrid}, this instance is ${opts.vrid}`);
  const d = decodeAdvert(dgram.data, {
    key: opts.key,
    requireAuth: opts.requireAuth,
    vrid: opts.vrid,
    family: opts.family,
  });
  if (!d.ok) return drop(state, d.reason, d.detail);
  if (d.advert.senderId === opts.ownSenderId) return drop(state, 'own', 'our own advert');
  let replay = state.replay;
  let sender: 'next' | 'new-peer' | 'reboot' = 'next';
  // Without a MAC anyone can write any counter: the guard would protect nothing and could be
  // poisoned, so only authenticated adverts go through it.
  if (d.authenticated) {
    const r = accept(state.replay, {
      source: from,
      senderId: d.advert.senderId,
      counter: d.advert.counter,
    });
    if (!r.ok)
      return drop(state, 'replay', `counter ${d.advert.counter} from ${d.advert.senderId}`);
    replay = r.state;
    sender = r.kind;
  }
  return {
    ok: true,
    state: { ...state, replay },
    peer: {
      from,
      priority: d.advert.priority,
      advertIntMs: d.advert.advertIntMs,
      restarting: d.advert.restarting,
    },
    advert: d.advert,
    authenticated: d.authenticated,
    sender,
  };
}
