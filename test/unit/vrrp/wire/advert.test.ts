import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeAdvert,
  encodeAdvert,
  peekHeader,
  type Advert,
  type DecodeExpect,
  type DecodeFailureReason,
  type DecodeResult,
} from '../../../../src/vrrp/wire/advert.js';
import {
  HEADER_BYTES,
  MAC_BYTES,
  MAX_ADDRESSES,
  MAX_PACKET_BYTES,
  Offset,
} from '../../../../src/vrrp/wire/format.js';

const keyBytes = Buffer.from(
  '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  'hex',
);
const key = { bytes: keyBytes };
const otherKey = { bytes: Buffer.alloc(32, 7) };

const v4: Advert = {
  vrid: 51,
  priority: 150,
  advertIntMs: 50,
  restarting: true,
  family: 4,
  addresses: ['198.18.0.10', '198.18.0.11'],
  senderId: '0123456789abcdef',
  counter: 42n,
};
const v6: Advert = {
  ...v4,
  restarting: false,
  family: 6,
  addresses: ['2001:db8::10', 'fe80::1', '::ffff:198.18.0.1'],
};

const strict: DecodeExpect = { key, requireAuth: true };
const open: DecodeExpect = { key: null, requireAuth: false };

function reason(r: DecodeResult): DecodeFailureReason | 'ok' {
  return r.ok ? 'ok' : r.reason;
}

function ok(r: DecodeResult): Advert {
  if (!r.ok) throw new Error(`expected ok, got ${r.reason}: ${r.detail}`);
  return r.advert;
}

describe('advert round trips', () => {
  for (const [name, a] of [
    ['IPv4', v4],
    ['IPv6', v6],
  ] as const) {
    for (const signed of [true, false]) {
      it(`${name}, ${signed ? 'authenticated' : 'unauthenticated'}`, () => {
        const buf = encodeAdvert(a, signed ? key : null);
        const width = a.family === 4 ? 4 : 16;
        expect(buf.length).toBe(
          HEADER_BYTES + a.addresses.length * width + (signed ? MAC_BYTES : 0),
        );
        const r = decodeAdvert(buf, signed ? strict : open);
        expect(r).toEqual({ ok: true, advert: a, authenticated: signed });
      });
    }
  }

  it('carries 0, 1 and the maximum number of addresses of either family', () => {
    for (const family of [4, 6] as const) {
      for (const n of [0, 1, MAX_ADDRESSES]) {
        const addresses = Array.from({ length: n }, (_, i) =>
          family === 4 ? `198.18.0.${i + 1}` : `2001:db8::${(i + 1).toString(16)}`,
        );
        const buf = encodeAdvert({ ...v4, family, addresses }, key);
        expect(buf.length).toBeLessThanOrEqual(MAX_PACKET_BYTES);
        expect(ok(decodeAdvert(buf, strict)).addresses).toEqual(addresses);
      }
    }
    const biggest = encodeAdvert(
      { ...v4, family: 6, addresses: Array<string>(MAX_ADDRESSES).fill('2001:db8::1') },
      key,
    );
    expect(biggest.length).toBe(MAX_PACKET_BYTES);
    expect(MAX_PACKET_BYTES).toBe(1088);
  });

  it('carries priority 0 and 255, VRID 1 and 255, 10 ms to 255 s, the largest counter', () => {
    const again = (patch: Partial<Advert>) =>
      ok(decodeAdvert(encodeAdvert({ ...v4, ...patch }, key), strict));
    for (const priority of [0, 1, 254, 255]) expect(again({ priority }).priority).toBe(priority);
    for (const vrid of [1, 255]) expect(again({ vrid }).vrid).toBe(vrid);
    for (const advertIntMs of [10, 50, 1000, 255_000])
      expect(again({ advertIntMs }).advertIntMs).toBe(advertIntMs);
    for (const counter of [0n, (1n << 64n) - 1n]) expect(again({ counter }).counter).toBe(counter);
    expect(again({ restarting: false }).restarting).toBe(false);
  });

  it('returns addresses in canonical text', () => {
    const a: Advert = {
      ...v6,
      addresses: ['2001:DB8:0:0:0:0:0:1', '0:0:0:0:0:0:0:0', '::FFFF:c612:1'],
    };
    expect(ok(decodeAdvert(encodeAdvert(a, null), open)).addresses).toEqual([
      '2001:db8::1',
      '::',
      '::ffff:198.18.0.1',
    ]);
  });

  it('matches the pinned packet; the MAC is plain HMAC-SHA256 over everything before it', () => {
    const buf = encodeAdvert(v4, key);
    const hex = buf.toString('hex');
    expect(hex).toBe(PINNED);
    const body = buf.subarray(0, buf.length - MAC_BYTES);
    expect(buf.subarray(-MAC_BYTES)).toEqual(createHmac('sha256', keyBytes).update(body).digest());
  });

  it('peeks the routing fields of a plausible packet only', () => {
    expect(peekHeader(encodeAdvert(v4, key))).toEqual({
      type: 1,
      authType: 1,
      vrid: 51,
      family: 4,
    });
    expect(peekHeader(Buffer.alloc(40))).toBeNull();
    expect(peekHeader(Buffer.from('LVHB'))).toBeNull();
  });
});

/** Header fields, then the two addresses, then the MAC (docs/heartbeat-protocol.md example). */
const PINNED =
  '4c564842' + // magic "LVHB"
  '01' + // version
  '01' + // type: advert
  '01' + // auth: HMAC-SHA256
  '01' + // flags: restarting
  '33' + // VRID 51
  '96' + // priority 150
  '04' + // family IPv4
  '02' + // 2 addresses
  '00000032' + // 50 ms
  '0123456789abcdef' + // sender id
  '000000000000002a' + // counter 42
  'c612000a' +
  'c612000b' +
  '1ea4f20625ae3f9e280889a6c92bb52b0470f122e30d9097a71ba141ee63a860';

describe('encode refuses what no receiver would accept', () => {
  const bad: [string, Partial<Advert>][] = [
    ['VRID 0', { vrid: 0 }],
    ['VRID 256', { vrid: 256 }],
    ['priority 256', { priority: 256 }],
    ['priority -1', { priority: -1 }],
    ['fractional priority', { priority: 1.5 }],
    ['interval 9 ms', { advertIntMs: 9 }],
    ['fractional interval', { advertIntMs: 50.5 }],
    ['interval over 255 s', { advertIntMs: 255_001 }],
    ['family 5', { family: 5 as 4 }],
    ['65 addresses', { addresses: Array<string>(65).fill('198.18.0.1') }],
    ['an IPv6 address in an IPv4 advert', { addresses: ['2001:db8::1'] }],
    ['not an address', { addresses: ['vip'] }],
    ['an address with a zone', { family: 6, addresses: ['fe80::1%eth0'] }],
    ['a short sender id', { senderId: '0123456789abcd' }],
    ['an upper-case sender id', { senderId: '0123456789ABCDEF' }],
    ['a zero sender id', { senderId: '0000000000000000' }],
    ['a negative counter', { counter: -1n }],
    ['a counter over 64 bits', { counter: 1n << 64n }],
    ['a number counter', { counter: 1 as unknown as bigint }],
  ];
  for (const [name, patch] of bad)
    it(name, () => {
      expect(() => encodeAdvert({ ...v4, ...patch }, key)).toThrow(RangeError);
    });
  it('an empty key', () => {
    expect(() => encodeAdvert(v4, { bytes: Buffer.alloc(0) })).toThrow(RangeError);
  });
});

describe('decode rejections (each reason, never a throw)', () => {
  const signed = encodeAdvert(v4, key);
  const plain = encodeAdvert(v4, null);
  const patched = (b: Buffer, at: number, value: number): Buffer => {
    const c = Buffer.from(b);
    c[at] = value;
    return c;
  };
  /** Re-sign a changed packet: the checks after the MAC must catch what a key holder wrote. */
  const resign = (b: Buffer): Buffer => {
    const body = b.subarray(0, b.length - MAC_BYTES);
    return Buffer.concat([body, createHmac('sha256', keyBytes).update(body).digest()]);
  };
  const signedWith = (at: number, value: number) => resign(patched(signed, at, value));
  const withInterval = (ms: number) => {
    const c = Buffer.from(signed);
    c.writeUInt32BE(ms, Offset.advertIntMs);
    return resign(c);
  };
  const signedZeroId = () => {
    const c = Buffer.from(signed);
    c.fill(0, Offset.senderId, Offset.senderId + 8);
    return resign(c);
  };

  const cases: [string, Uint8Array, DecodeFailureReason, DecodeExpect?][] = [
    ['empty', Buffer.alloc(0), 'too-short'],
    ['just the magic', Buffer.from('LVHB'), 'too-short'],
    ['a header one byte short', plain.subarray(0, HEADER_BYTES - 1), 'too-short'],
    ['over the maximum size', Buffer.alloc(MAX_PACKET_BYTES + 1), 'too-long'],
    [
      'a valid packet with a big tail',
      Buffer.concat([signed, Buffer.alloc(MAX_PACKET_BYTES)]),
      'too-long',
    ],
    ['bad magic', patched(plain, 0, 0x4d), 'bad-magic', open],
    [
      'a keepalived VRRPv2 packet',
      Buffer.from('2133016401010000c612000a0000000000000000000000000000000000000000', 'hex'),
      'bad-magic',
    ],
    ['version 0', patched(plain, Offset.version, 0), 'bad-version'],
    ['version 2', patched(signed, Offset.version, 2), 'bad-version'],
    ['unknown auth type', patched(plain, Offset.authType, 2), 'bad-auth-type', open],
    ['no MAC while a key is required', plain, 'unauthenticated'],
    [
      'no MAC, requireAuth without a key',
      plain,
      'unauthenticated',
      { key: null, requireAuth: true },
    ],
    ['a MAC and no key here', signed, 'auth-mismatch', open],
    ['the wrong key', signed, 'bad-mac', { key: otherKey, requireAuth: true }],
    ['a changed byte under the MAC', patched(signed, Offset.priority, 255), 'bad-mac'],
    ['a MAC cut short', signed.subarray(0, signed.length - 1), 'bad-mac'],
    [
      'a MAC with no room',
      Buffer.concat([plain.subarray(0, 32)]).fill(1, 6, 7),
      'truncated',
      strict,
    ],
    ['type 0 (signed)', signedWith(Offset.type, 0), 'bad-type'],
    ['type 2: admin-state is not an advert', patched(plain, Offset.type, 2), 'bad-type', open],
    ['reserved flag bits (signed)', signedWith(Offset.flags, 0x03), 'malformed'],
    ['reserved flag bits (unsigned)', patched(plain, Offset.flags, 0x80), 'malformed', open],
    ['family 0', patched(plain, Offset.family, 0), 'malformed', open],
    ['family 5 (signed)', signedWith(Offset.family, 5), 'malformed'],
    [
      'count beyond the maximum',
      patched(plain, Offset.count, MAX_ADDRESSES + 1),
      'malformed',
      open,
    ],
    ['count larger than the packet', patched(plain, Offset.count, 3), 'truncated', open],
    ['count smaller than the packet', patched(plain, Offset.count, 1), 'trailing-bytes', open],
    ['a trailing byte (unsigned)', Buffer.concat([plain, Buffer.of(0)]), 'trailing-bytes', open],
    [
      'a trailing byte signed in',
      resign(
        Buffer.concat([signed.subarray(0, -MAC_BYTES), Buffer.of(0), signed.subarray(-MAC_BYTES)]),
      ),
      'trailing-bytes',
    ],
    ['IPv6 count on IPv4 bytes', patched(plain, Offset.family, 6), 'truncated', open],
    ['VRID 0 (signed)', signedWith(Offset.vrid, 0), 'malformed'],
    ['VRID 0 (unsigned)', patched(plain, Offset.vrid, 0), 'malformed', open],
    ['interval 9 ms', withInterval(9), 'malformed'],
    ['interval 0', withInterval(0), 'malformed'],
    ['interval over 255 s', withInterval(255_001), 'malformed'],
    ['sender id 0', signedZeroId(), 'malformed'],
    ['another VRID', signed, 'wrong-vrid', { ...strict, vrid: 52 }],
    ['the other family', signed, 'wrong-family', { ...strict, family: 6 }],
  ];
  for (const [name, buf, want, expect_] of cases)
    it(`${name} → ${want}`, () => {
      expect(reason(decodeAdvert(buf, expect_ ?? strict))).toBe(want);
    });

  it('a non-buffer is malformed, not a throw', () => {
    expect(reason(decodeAdvert('LVHB' as unknown as Buffer, strict))).toBe('malformed');
    expect(reason(decodeAdvert(null as unknown as Buffer, strict))).toBe('malformed');
  });

  it('accepts an unauthenticated advert when a key is held but not required', () => {
    expect(reason(decodeAdvert(plain, { key, requireAuth: false }))).toBe('ok');
  });

  it('the expected VRID and family pass', () => {
    expect(reason(decodeAdvert(signed, { ...strict, vrid: 51, family: 4 }))).toBe('ok');
  });

  it('decodes a Uint8Array view into a larger buffer', () => {
    const big = new Uint8Array(signed.length + 10);
    big.set(signed, 5);
    expect(ok(decodeAdvert(big.subarray(5, 5 + signed.length), strict))).toEqual(v4);
  });
});

describe('a flipped bit anywhere in an authenticated packet', () => {
  for (const [name, a] of [
    ['IPv4', v4],
    ['IPv6', v6],
  ] as const) {
    it(`${name}: never accepted; bad-mac past the auth type byte`, () => {
      const buf = encodeAdvert(a, key);
      for (let at = 0; at < buf.length; at++) {
        for (let bit = 0; bit < 8; bit++) {
          const c = Buffer.from(buf);
          c[at] = (c[at] ?? 0) ^ (1 << bit);
          const r = reason(decodeAdvert(c, strict));
          expect(r, `byte ${at} bit ${bit}`).not.toBe('ok');
          // magic, version and the auth type are read before the MAC (to find the MAC at all).
          if (at < Offset.magic + 4) expect(r).toBe('bad-magic');
          else if (at === Offset.version) expect(r).toBe('bad-version');
          else if (at === Offset.authType)
            expect(['unauthenticated', 'bad-auth-type']).toContain(r);
          else expect(r, `byte ${at} bit ${bit}`).toBe('bad-mac');
        }
      }
    });
  }
});
