import { describe, expect, it } from 'vitest';
import { encodeAdvert, type Advert } from '../../../../src/vrrp/wire/advert.js';
import { totalDrops } from '../../../../src/vrrp/wire/counters.js';
import { keyFromAuthPass, type WireKey } from '../../../../src/vrrp/wire/keys.js';
import {
  initialReceiver,
  receiveAdvert,
  sourceAddress,
  type Datagram,
  type ReceiveOptions,
  type ReceiverState,
} from '../../../../src/vrrp/wire/receive.js';

const key = keyFromAuthPass('secret', 51, 4);
const peerId = '0123456789abcdef';
const ownId = 'fedcba9876543210';
const advert = (patch: Partial<Advert> = {}): Advert => ({
  vrid: 51,
  priority: 100,
  advertIntMs: 50,
  restarting: false,
  family: 4,
  addresses: ['198.18.0.10'],
  senderId: peerId,
  counter: 1n,
  ...patch,
});
const opts: ReceiveOptions = {
  vrid: 51,
  family: 4,
  key,
  requireAuth: true,
  peers: null,
  ownSenderId: ownId,
};
const dgram = (
  a: Advert,
  k: WireKey | null = key,
  from = '198.18.0.2',
  ttl: number | null = 255,
): Datagram => ({
  data: encodeAdvert(a, k),
  from,
  ttl,
});

function feed(state: ReceiverState, d: Datagram, o = opts) {
  const r = receiveAdvert(state, d, o);
  return { state: r.state, got: r.ok ? `ok:${r.sender}` : r.reason, r };
}

describe('receiveAdvert', () => {
  it('turns a good advert into the PeerAdvert the state machine takes', () => {
    const r = receiveAdvert(initialReceiver(), dgram(advert({ restarting: true })), opts);
    expect(r).toMatchObject({
      ok: true,
      sender: 'new-peer',
      authenticated: true,
      peer: { from: '198.18.0.2', priority: 100, advertIntMs: 50, restarting: true },
    });
  });

  it('drops and counts each kind of bad packet, and never changes the replay memory for them', () => {
    let s = initialReceiver();
    const steps: [Datagram, string, ReceiveOptions?][] = [
      [dgram(advert({ counter: 5n })), 'ok:new-peer'],
      [dgram(advert({ counter: 5n })), 'replay'],
      [dgram(advert({ counter: 4n })), 'replay'],
      [dgram(advert({ counter: 6n }), key, '198.18.0.2', 64), 'bad-ttl'],
      [dgram(advert({ counter: 6n }), null), 'unauthenticated'],
      [dgram(advert({ counter: 6n }), keyFromAuthPass('other', 51, 4)), 'bad-mac'],
      [dgram(advert({ counter: 6n, vrid: 52 }), keyFromAuthPass('secret', 52, 4)), 'wrong-vrid'],
      [dgram(advert({ counter: 6n, senderId: ownId })), 'own'],
      [
        { data: Buffer.from('garbage that is long enough to be a header'), from: 'x', ttl: null },
        'bad-magic',
      ],
      [
        dgram(advert({ counter: 6n }), key, '198.18.0.9'),
        'unknown-source',
        { ...opts, peers: ['198.18.0.2'] },
      ],
      [dgram(advert({ counter: 6n })), 'ok:next'],
    ];
    for (const [d, want, o] of steps) {
      const r = feed(s, d, o);
      expect(r.got).toBe(want);
      s = r.state;
    }
    expect(s.drops).toMatchObject({
      replay: 2,
      'bad-ttl': 1,
      unauthenticated: 1,
      'bad-mac': 1,
      'wrong-vrid': 1,
      own: 1,
      'bad-magic': 1,
      'unknown-source': 1,
    });
    expect(totalDrops(s.drops)).toBe(9);
  });

  it('a peer reboot (new sender id, counter from 0) is accepted and reported', () => {
    let s = feed(initialReceiver(), dgram(advert({ counter: 1000n }))).state;
    const r = feed(s, dgram(advert({ senderId: 'aaaaaaaaaaaaaaaa', counter: 0n })));
    expect(r.got).toBe('ok:reboot');
    s = r.state;
    expect(feed(s, dgram(advert({ counter: 1001n }))).got).toBe('ok:next');
  });

  it('unicast: the source may come as IPv4-mapped IPv6 or with a zone', () => {
    const uni = { ...opts, peers: ['198.18.0.2'] };
    expect(feed(initialReceiver(), dgram(advert(), key, '::ffff:198.18.0.2'), uni).got).toBe(
      'ok:new-peer',
    );
    const v6 = { ...opts, family: 6 as const, peers: ['fe80::2'] };
    const a6 = advert({ family: 6, addresses: ['2001:db8::10'] });
    expect(feed(initialReceiver(), dgram(a6, key, 'fe80:0::2%eth0'), v6).got).toBe('ok:new-peer');
    expect(sourceAddress('FE80::2%eth0')).toBe('fe80::2');
  });

  it('without a key: unauthenticated adverts pass, and skip the replay guard', () => {
    const open = { ...opts, key: null, requireAuth: false };
    let s = initialReceiver();
    for (let i = 0; i < 2; i++) {
      const r = feed(s, dgram(advert({ counter: 5n }), null), open);
      expect(r.got).toBe('ok:next');
      expect(r.r.ok && r.r.authenticated).toBe(false);
      s = r.state;
    }
    expect(s.replay.senders).toEqual([]);
    expect(feed(s, dgram(advert()), open).got).toBe('auth-mismatch');
  });

  it('a TTL the socket cannot report is not checked', () => {
    expect(feed(initialReceiver(), dgram(advert(), key, '198.18.0.2', null)).got).toBe(
      'ok:new-peer',
    );
  });
});
