/**
 * Unicast adverts (unicast_src_ip + unicast_peer) on a network without multicast: the bridge
 * floods no multicast to the directors' ports (`mcast_flood off`), checked first to really
 * split a multicast pair (both become MASTER), then the unicast pair elects one MASTER and
 * fails over on a crash and on a clean stop.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DIP, VIP, type PairConfig } from '../../helpers/director-lab.js';
import { probeNetns } from '../../helpers/netns.js';
import { useDirectorLab } from './suite.js';

const probe = probeNetns();
const U1: PairConfig = { priority: 150, advertInt: 0.1, unicast: true };
const U2: PairConfig = { priority: 100, advertInt: 0.1, unicast: true };

describe.skipIf(!probe.ok)(
  `unicast adverts, multicast blocked ${probe.ok ? '' : `(skipped: ${probe.reason})`}`,
  { timeout: 30_000 },
  () => {
    const lab = useDirectorLab('fou');
    beforeEach(async () => {
      await lab().reset();
    });

    it('the block works: a multicast pair splits (both MASTER)', async () => {
      await lab().multicast(false);
      await lab().startDaemon('dir1', { priority: 150, advertInt: 0.1 });
      await lab().startDaemon('dir2', { priority: 100, advertInt: 0.1 });
      expect(await lab().waitState('dir1', 'MASTER', 3_000)).toBe(true);
      expect(await lab().waitState('dir2', 'MASTER', 3_000)).toBe(true);
      expect((await lab().holders(VIP)).sort()).toEqual(['dir1', 'dir2']);
    });

    it('unicast: one MASTER, crash → dir2 takes over, restart → fail-back', async () => {
      await lab().multicast(false);
      await lab().startPair(U1, U2);
      await new Promise((r) => setTimeout(r, 400));
      expect(await lab().holders(VIP)).toEqual(['dir1']);
      expect(await lab().holders(DIP)).toEqual(['dir1']);
      expect(await lab().reaches()).toBe('dir1');
      const t = await lab().crash('dir1');
      expect(await lab().waitHolder('dir2', 1_500)).toBe(true);
      expect(await lab().reaches()).toBe('dir2');
      console.log(`unicast crash: client outage ${lab().outage(t, 'dir1', 'dir2')?.toFixed(0)} ms`);
      await lab().flush('dir1');
      await lab().linksUp('dir1');
      await lab().startDaemon('dir1', U1);
      expect(await lab().waitHolder('dir1', 3_000)).toBe(true);
      expect(await lab().states('dir2')).toEqual({ FRONT: 'BACKUP', BACK: 'BACKUP' });
      expect(await lab().reaches()).toBe('dir1');
    });

    it('unicast: clean stop hands over at once', async () => {
      await lab().multicast(false);
      await lab().startPair(U1, U2);
      const t = Date.now();
      const stopped = lab().stop('dir1');
      expect(await lab().waitHolder('dir2', 500)).toBe(true);
      expect(Date.now() - t).toBeLessThan(300);
      expect(await stopped).toEqual({ code: 0, signal: null });
      expect(await lab().reaches()).toBe('dir2');
    });
  },
);
