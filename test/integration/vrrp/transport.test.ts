/**
 * The UDP advert transport between two directors in their own network namespaces on one bridge
 * (root only; skipped with the reason otherwise). Each director's transport runs in a child
 * process inside its namespace (fixtures/transport-peer.ts).
 *
 * Proves: multicast over 224.0.0.18 and ff02::12 reaches the other director and not the
 * sender itself (loopback off); 20 adverts 50 ms apart all arrive, each within 50 ms; with the
 * switch flooding no multicast (bridge ports `mcast_flood off`), multicast adverts are lost —
 * and unicast (unicast_src_ip / unicast_peer) still works; `checkSource` drops a non-peer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ADVERT_PORT } from '../../../src/vrrp/drivers/transport.js';
import { announceSkip } from '../../ipvs/helpers.js';
import { probeNetns } from '../../helpers/netns.js';
import { IP, IP6, makeLan, type Lan } from './lan.js';
import { bundlePeer, Peer, type Bundle } from './peer.js';

const probe = probeNetns();
announceSkip('vrrp transport in network namespaces', probe);

describe.skipIf(!probe.ok)('UdpTransport between two namespaces', { timeout: 60_000 }, () => {
  let lan: Lan;
  let bundle: Bundle;
  const peers: Peer[] = [];

  function peer(ns: string, options: ConstructorParameters<typeof Peer>[3]): Peer {
    const p = new Peer(lan.lab, ns, bundle, options);
    peers.push(p);
    return p;
  }

  async function closeAll(): Promise<void> {
    for (const p of peers.splice(0)) p.close();
    await new Promise((r) => setTimeout(r, 100));
  }

  beforeAll(async () => {
    bundle = await bundlePeer();
    lan = await makeLan('tr');
  });
  afterAll(async () => {
    await closeAll();
    await lan?.lab.dispose();
    bundle?.dispose();
  });

  it('multicast IPv4 reaches the other director, not the sender', async () => {
    const a = peer(lan.dir1, {
      mode: 'multicast',
      family: 4,
      interfaceName: 'eth0',
      interfaceAddress: IP.dir1,
    });
    const b = peer(lan.dir2, {
      mode: 'multicast',
      family: 4,
      interfaceName: 'eth0',
      interfaceAddress: IP.dir2,
    });
    await Promise.all([a.start(), b.start()]);
    a.send('advert-from-dir1');
    expect(await b.until(() => b.received.length === 1, 3_000)).toBe(true);
    expect(b.received[0]).toMatchObject({
      data: 'advert-from-dir1',
      from: { address: IP.dir1, port: DEFAULT_ADVERT_PORT, family: 'IPv4' },
    });
    // Give a looped-back copy time to arrive: there must be none.
    await new Promise((r) => setTimeout(r, 200));
    expect(a.received).toEqual([]);
    const sa = await a.getStats();
    expect(sa.sent).toBe(1);
    expect(sa.dropped.self).toBe(0); // loopback off: nothing even came back to be dropped
    await closeAll();
  });

  it('multicast IPv6 (ff02::12 on eth0) reaches the other director', async () => {
    const a = peer(lan.dir1, { mode: 'multicast', family: 6, interfaceName: 'eth0' });
    const b = peer(lan.dir2, { mode: 'multicast', family: 6, interfaceName: 'eth0' });
    await Promise.all([a.start(), b.start()]);
    b.send('v6-advert');
    expect(await a.until(() => a.received.length === 1, 3_000)).toBe(true);
    expect(a.received[0]?.data).toBe('v6-advert');
    expect(a.received[0]?.from.family).toBe('IPv6');
    // The kernel picks the source: dir2's link-local on eth0, or its global address while the
    // link-local is still tentative (a namespace made a moment ago).
    expect(a.received[0]?.from.address).toMatch(/^(fe80::18:ff:fe00:2%eth0|2001:db8::2)$/);
    await new Promise((r) => setTimeout(r, 200));
    expect(b.received).toEqual([]);
    await closeAll();
  });

  it('sub-second adverts: 20 datagrams 50 ms apart all arrive, each within 50 ms', async () => {
    const a = peer(lan.dir1, {
      mode: 'multicast',
      family: 4,
      interfaceName: 'eth0',
      interfaceAddress: IP.dir1,
    });
    const b = peer(lan.dir2, {
      mode: 'multicast',
      family: 4,
      interfaceName: 'eth0',
      interfaceAddress: IP.dir2,
    });
    await Promise.all([a.start(), b.start()]);
    for (let i = 0; i < 20; i++) {
      a.send(`n${i}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await b.until(() => b.received.length === 20, 3_000)).toBe(true);
    expect(b.received.map((r) => r.data)).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`));
    // Arrival gaps stay near the 50 ms send interval (no batching, no stalls).
    const gaps = b.received.slice(1).map((r, i) => r.atMs - (b.received[i]?.atMs ?? 0));
    expect(Math.max(...gaps)).toBeLessThan(100);
    await closeAll();
  });

  it('without multicast on the switch, multicast adverts are lost and unicast still works', async () => {
    await lan.multicast(false);
    try {
      const ma = peer(lan.dir1, {
        mode: 'multicast',
        family: 4,
        interfaceName: 'eth0',
        interfaceAddress: IP.dir1,
      });
      const mb = peer(lan.dir2, {
        mode: 'multicast',
        family: 4,
        interfaceName: 'eth0',
        interfaceAddress: IP.dir2,
      });
      await Promise.all([ma.start(), mb.start()]);
      ma.send('lost');
      expect(await mb.until(() => mb.received.length > 0, 500)).toBe(false);
      expect((await ma.getStats()).sent).toBe(1); // it left dir1; the switch dropped it
      await closeAll();

      const ua = peer(lan.dir1, { mode: 'unicast', sourceAddress: IP.dir1, peers: [IP.dir2] });
      const ub = peer(lan.dir2, {
        mode: 'unicast',
        sourceAddress: IP.dir2,
        peers: [IP.dir1],
        checkSource: true,
      });
      await Promise.all([ua.start(), ub.start()]);
      ua.send('unicast-advert');
      expect(await ub.until(() => ub.received.length === 1, 3_000)).toBe(true);
      expect(ub.received[0]).toMatchObject({ data: 'unicast-advert', from: { address: IP.dir1 } });
      ub.send('reply');
      expect(await ua.until(() => ua.received.length === 1, 3_000)).toBe(true);

      // The client is not a configured peer of dir2: checkSource drops it and counts it.
      const stranger = peer(lan.client, {
        mode: 'unicast',
        sourceAddress: IP.client,
        peers: [IP.dir2],
      });
      await stranger.start();
      stranger.send('forged');
      await new Promise((r) => setTimeout(r, 300));
      expect(ub.received.map((r) => r.data)).toEqual(['unicast-advert']);
      expect((await ub.getStats()).dropped.notPeer).toBe(1);
      await closeAll();
    } finally {
      await lan.multicast(true);
    }
  });

  it('a unicast_src_ip that is not local fails to open with TRANSPORT_OPEN', async () => {
    const p = peer(lan.dir1, { mode: 'unicast', sourceAddress: IP.dir2, peers: [IP.dir1] });
    await expect(p.start(5_000)).rejects.toThrow(/TRANSPORT_OPEN cannot open advert socket/);
    await closeAll();
  });

  it('IPv6 unicast between global addresses', async () => {
    const a = peer(lan.dir1, { mode: 'unicast', sourceAddress: IP6.dir1, peers: [IP6.dir2] });
    const b = peer(lan.dir2, { mode: 'unicast', sourceAddress: IP6.dir2, peers: [IP6.dir1] });
    await Promise.all([a.start(), b.start()]);
    a.send('v6-unicast');
    expect(await b.until(() => b.received.length === 1, 3_000)).toBe(true);
    expect(b.received[0]?.from.address).toBe(IP6.dir1);
    await closeAll();
  });
});
