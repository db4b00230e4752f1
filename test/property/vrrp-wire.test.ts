/** fast-check properties of the heartbeat codec (src/vrrp/wire). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalAddress } from '../../src/vrrp/wire/address.js';
import {
  decodeAdvert,
  encodeAdvert,
  type Advert,
  type DecodeExpect,
} from '../../src/vrrp/wire/advert.js';
import { MAX_ADDRESSES, MAX_PACKET_BYTES } from '../../src/vrrp/wire/format.js';
import { accept, initialReplayState } from '../../src/vrrp/wire/replay.js';

const keyArb = fc
  .uint8Array({ minLength: 32, maxLength: 64 })
  .map((b) => ({ bytes: Buffer.from(b) }));

const senderIdArb = fc
  .uint8Array({ minLength: 8, maxLength: 8 })
  .filter((b) => b.some((x) => x !== 0))
  .map((b) => Buffer.from(b).toString('hex'));

const advertArb: fc.Arbitrary<Advert> = fc.constantFrom(4 as const, 6 as const).chain((family) =>
  fc.record({
    vrid: fc.integer({ min: 1, max: 255 }),
    priority: fc.integer({ min: 0, max: 255 }),
    advertIntMs: fc.oneof(
      fc.constantFrom(10, 50, 1000, 255_000),
      fc.integer({ min: 10, max: 255_000 }),
    ),
    restarting: fc.boolean(),
    family: fc.constant(family),
    addresses: fc.array(family === 4 ? fc.ipV4() : fc.ipV6(), { maxLength: MAX_ADDRESSES }),
    senderId: senderIdArb,
    counter: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  }),
);

const expectArb: fc.Arbitrary<DecodeExpect> = fc.record({
  key: fc.option(keyArb, { nil: null }),
  requireAuth: fc.boolean(),
});

const canonical = (a: Advert): Advert => ({
  ...a,
  addresses: a.addresses.map((x) => canonicalAddress(x, a.family) ?? `not canonical: ${x}`),
});

describe('heartbeat codec properties', () => {
  it('decode never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: MAX_PACKET_BYTES + 16 }), expectArb, (bytes, exp) => {
        const r = decodeAdvert(bytes, exp);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('decode never throws on near-valid packets (valid ones with random bytes changed or cut)', () => {
    fc.assert(
      fc.property(
        advertArb,
        fc.option(keyArb, { nil: null }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (a, key, edits, cut) => {
          const buf = encodeAdvert(a, key);
          for (const [at, value] of edits) buf[at % buf.length] = value;
          const view = buf.subarray(0, buf.length - (cut % 3 === 0 ? cut % 40 : 0));
          const r = decodeAdvert(view, { key, requireAuth: key !== null });
          if (r.ok) expect(r.advert.addresses.length).toBeLessThanOrEqual(MAX_ADDRESSES);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('encode → decode is the identity (addresses in canonical text), with and without a key', () => {
    fc.assert(
      fc.property(advertArb, fc.option(keyArb, { nil: null }), (a, key) => {
        const buf = encodeAdvert(a, key);
        expect(buf.length).toBeLessThanOrEqual(MAX_PACKET_BYTES);
        const r = decodeAdvert(buf, { key, requireAuth: key !== null });
        expect(r).toEqual({ ok: true, advert: canonical(a), authenticated: key !== null });
      }),
      { numRuns: 500 },
    );
  });

  it('any single-byte change to an authenticated packet is rejected', () => {
    fc.assert(
      fc.property(
        advertArb,
        keyArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (a, key, pos, delta) => {
          const buf = encodeAdvert(a, key);
          const at = pos % buf.length;
          buf[at] = ((buf[at] ?? 0) + delta) & 0xff;
          expect(decodeAdvert(buf, { key, requireAuth: true }).ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a packet signed with another key is rejected', () => {
    fc.assert(
      fc.property(advertArb, keyArb, keyArb, (a, k1, k2) => {
        fc.pre(!k1.bytes.equals(k2.bytes));
        const r = decodeAdvert(encodeAdvert(a, k1), { key: k2, requireAuth: true });
        expect(r).toMatchObject({ ok: false, reason: 'bad-mac' });
      }),
      { numRuns: 300 },
    );
  });

  it('the replay guard never accepts the same (sender id, counter) twice', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            source: fc.constantFrom('198.18.0.2', '198.18.0.3'),
            senderId: fc.constantFrom('a000000000000001', 'a000000000000002', 'a000000000000003'),
            counter: fc.bigInt({ min: 0n, max: 20n }),
          }),
          { maxLength: 60 },
        ),
        (msgs) => {
          let s = initialReplayState({ capacity: 8, idsPerSource: 4 });
          const seen = new Set<string>();
          const last = new Map<string, bigint>();
          for (const msg of msgs) {
            const v = accept(s, msg);
            s = v.state;
            if (!v.ok) continue;
            const id = `${msg.senderId}/${msg.counter}`;
            expect(seen.has(id)).toBe(false);
            expect(msg.counter > (last.get(msg.senderId) ?? -1n)).toBe(true);
            seen.add(id);
            last.set(msg.senderId, msg.counter);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
