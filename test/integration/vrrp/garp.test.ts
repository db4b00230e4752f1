/**
 * Gratuitous ARP and unsolicited NA on a real segment (root only): a client and two directors
 * on one bridge. The VIP moves from dir1 to dir2 with the VIP driver; the client keeps dir1's
 * MAC until dir2 announces (the control step proves the announcement, not time, moved it).
 *
 * Proves: `arping -U` (request, keepalived's packet) and `arping -A` (reply) both replace an
 * existing client entry at once, even right after it was confirmed (within the 1 s locktime);
 * neither creates an entry the client did not have (arp_accept=0); the perl NA helper does the
 * same for IPv6; the schedule runner sends garpSchedule's rounds and stops on cancel; a GARP
 * for an address the director does not hold is reported, not thrown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArpingAnnouncer } from '../../../src/vrrp/drivers/garp-arping.js';
import { garpSchedule, startAnnouncements } from '../../../src/vrrp/drivers/garp.js';
import { IprouteVipDriver } from '../../../src/vrrp/drivers/vip-iproute.js';
import type { VipAddress } from '../../../src/vrrp/drivers/vip.js';
import { announceSkip } from '../../ipvs/helpers.js';
import { needTools, probeNetns, waitFor } from '../../helpers/netns.js';
import { MAC, makeLan, neighbour, touch, type Lan } from './lan.js';

const probe = needTools(probeNetns(), {
  arping: 'apt-get install iputils-arping',
  perl: 'apt-get install perl',
});
announceSkip('gratuitous ARP / unsolicited NA in network namespaces', probe);

const VIP4: VipAddress = { address: '198.18.0.10', prefixLength: 24, dev: 'eth0' };
const VIP6: VipAddress = { address: '2001:db8::10', prefixLength: 64, dev: 'eth0' };

describe.skipIf(!probe.ok)(
  'GARP / NA updates a client neighbour entry',
  { timeout: 60_000 },
  () => {
    let lan: Lan;
    let vip1: IprouteVipDriver;
    let vip2: IprouteVipDriver;

    beforeAll(async () => {
      lan = await makeLan('garp');
      vip1 = new IprouteVipDriver({ netns: lan.dir1 });
      vip2 = new IprouteVipDriver({ netns: lan.dir2 });
    });
    afterAll(async () => {
      await lan?.lab.dispose();
    });

    /** VIP on `from`, client talks to it (entry = from's MAC), VIP moves to `to` silently. */
    async function moveSilently(vip: VipAddress, from: 'dir1' | 'dir2'): Promise<void> {
      const [src, dst] = from === 'dir1' ? [vip1, vip2] : [vip2, vip1];
      await dst.remove(vip);
      await src.add(vip);
      await lan.lab.exec(lan.client, 'ip', ['neigh', 'flush', 'dev', 'eth0']);
      await touch(lan, vip.address);
      const before = await waitFor(async () => {
        const n = await neighbour(lan, vip.address);
        return n?.mac === MAC[from] && /REACHABLE|DELAY|STALE/.test(n.state) ? n : undefined;
      }, 3_000);
      expect(before?.mac).toBe(MAC[from]);
      await src.remove(vip);
      await dst.add(vip);
      // Control: without an announcement the client still has the old MAC.
      await new Promise((r) => setTimeout(r, 200));
      expect((await neighbour(lan, vip.address))?.mac).toBe(MAC[from]);
    }

    it('arping -U (request) moves the client to dir2 at once', async () => {
      await moveSilently(VIP4, 'dir1');
      const r = await new ArpingAnnouncer({ netns: lan.dir2 }).announce({
        dev: 'eth0',
        addresses: [VIP4.address],
      });
      expect(r).toEqual({ dev: 'eth0', sent: [VIP4.address], failed: [] });
      expect((await neighbour(lan, VIP4.address))?.mac).toBe(MAC.dir2);
    });

    it('arping -A (reply) moves it back to dir1 just as well', async () => {
      await moveSilently(VIP4, 'dir2');
      const r = await new ArpingAnnouncer({ netns: lan.dir1, mode: 'reply' }).announce({
        dev: 'eth0',
        addresses: [VIP4.address],
      });
      expect(r.sent).toEqual([VIP4.address]);
      expect((await neighbour(lan, VIP4.address))?.mac).toBe(MAC.dir1);
    });

    it('a gratuitous ARP does not create an entry the client did not have (arp_accept=0)', async () => {
      await lan.lab.exec(lan.client, 'ip', ['neigh', 'flush', 'dev', 'eth0']);
      await new ArpingAnnouncer({ netns: lan.dir1 }).announce({
        dev: 'eth0',
        addresses: [VIP4.address],
      });
      expect(await neighbour(lan, VIP4.address)).toBe(undefined);
    });

    it('an unsolicited NA (perl helper) moves an IPv6 client to dir2', async () => {
      await moveSilently(VIP6, 'dir1');
      const r = await new ArpingAnnouncer({ netns: lan.dir2 }).announce({
        dev: 'eth0',
        addresses: [VIP6.address],
      });
      expect(r).toEqual({ dev: 'eth0', sent: [VIP6.address], failed: [] });
      const after = await waitFor(async () => {
        const n = await neighbour(lan, VIP6.address);
        return n?.mac === MAC.dir2 ? n : undefined;
      }, 1_000);
      expect(after?.mac).toBe(MAC.dir2);
    });

    it('an address the director does not hold is reported as failed, per family', async () => {
      const r = await new ArpingAnnouncer({ netns: lan.dir1 }).announce({
        dev: 'eth0',
        addresses: ['198.18.0.99', '2001:db8::99', VIP6.address],
      });
      expect(r.sent).toEqual([]);
      // VIP6 sits on dir2 now: dir1 cannot send from it either
      expect(r.failed.map((f) => f.address).sort()).toEqual([
        '198.18.0.99',
        '2001:db8::10',
        '2001:db8::99',
      ]);
      expect(r.failed.find((f) => f.address === '198.18.0.99')?.reason).toMatch(
        /Cannot assign requested address/,
      );
      expect(r.failed.find((f) => f.address === '2001:db8::99')?.reason).toMatch(/bind:/);
    });

    it('runs the keepalived schedule (2 now + 2 after the delay) and cancel stops the rest', async () => {
      await vip1.add(VIP4);
      const announcer = new ArpingAnnouncer({ netns: lan.dir1 });
      const offsets = garpSchedule(300, 2);
      expect(offsets).toEqual([0, 0, 300, 300]);
      const t0 = performance.now();
      const run = startAnnouncements(
        announcer,
        [{ dev: 'eth0', addresses: [VIP4.address] }],
        offsets,
      );
      const results = await run.done;
      expect(results).toHaveLength(4);
      expect(results.every((r) => r.sent.length === 1 && r.failed.length === 0)).toBe(true);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(300);

      const cancelled = startAnnouncements(
        announcer,
        [{ dev: 'eth0', addresses: [VIP4.address] }],
        garpSchedule(5_000, 1),
      );
      cancelled.cancel(); // left MASTER: the delayed burst must not go out
      expect(await cancelled.done).toHaveLength(1);
      await vip1.remove(VIP4);
    });
  },
);
