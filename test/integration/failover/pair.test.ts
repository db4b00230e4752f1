/**
 * Two real `lvsd run` daemons on the NAT pair (test/helpers/director-lab.ts): election, crash,
 * clean stop, fail-back with and without pre-emption, split brain. Sub-second adverts (ruling
 * 15: sub-second timing is tested here on the host). The bounds are master-down intervals plus
 * a margin for a loaded 2-core machine; the client's outage is printed for the record.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DIP, MAC, VIP, type PairConfig } from '../../helpers/director-lab.js';
import { probeNetns } from '../../helpers/netns.js';
import { useDirectorLab } from './suite.js';

const probe = probeNetns();
const ADVERT = 0.1;
// Master-down for dir2 (priority 100) at 100 ms adverts: 3 × 100 + 61 = 361 ms after the last
// advert heard. Bound: that plus process start-up noise on a busy machine.
const TAKEOVER_MS = 1_500;
const D1: PairConfig = { priority: 150, advertInt: ADVERT };
const D2: PairConfig = { priority: 100, advertInt: ADVERT };

describe.skipIf(!probe.ok)(
  `failover of two lvsd daemons ${probe.ok ? '' : `(skipped: ${probe.reason})`}`,
  { timeout: 30_000 },
  () => {
    const lab = useDirectorLab('fop');
    beforeEach(async () => {
      await lab().reset();
    });

    it('starts with exactly one MASTER holding VIP and DIP (timing fast defaults)', async () => {
      await lab().startPair({ priority: 150 }, { priority: 100 });
      await new Promise((r) => setTimeout(r, 500));
      expect(await lab().holders(VIP)).toEqual(['dir1']);
      expect(await lab().holders(DIP)).toEqual(['dir1']);
      expect(await lab().states('dir1')).toEqual({ FRONT: 'MASTER', BACK: 'MASTER' });
      expect(await lab().states('dir2')).toEqual({ FRONT: 'BACKUP', BACK: 'BACKUP' });
      const s2 = await lab().status('dir2');
      expect(s2.vrrp.find((i) => i.name === 'FRONT')?.advertIntMs).toBe(80);
      expect(await lab().reaches()).toBe('dir1');
    });

    it('crash of the master (SIGKILL, links down): dir2 takes over, the client follows its GARP', async () => {
      await lab().startPair(D1, D2);
      expect(await lab().reaches()).toBe('dir1');
      expect(await lab().clientNeighbour()).toBe(MAC.dir1.front);
      const t = await lab().crash('dir1');
      expect(await lab().waitHolder('dir2', TAKEOVER_MS)).toBe(true);
      const took = Date.now() - t;
      expect(await lab().reaches()).toBe('dir2');
      expect(await lab().clientNeighbour()).toBe(MAC.dir2.front);
      expect(await lab().states('dir2')).toEqual({ FRONT: 'MASTER', BACK: 'MASTER' });
      console.log(
        `crash: VIP+DIP on dir2 after ${took} ms, client outage ${lab().outage(t, 'dir1', 'dir2')?.toFixed(0)} ms`,
      );
    });

    it('clean stop (SIGTERM): priority-0 handover, fast, VIPs removed from dir1', async () => {
      await lab().startPair(D1, D2);
      expect(await lab().reaches()).toBe('dir1');
      const t = Date.now();
      const stopped = lab().stop('dir1');
      expect(await lab().waitHolder('dir2', 500)).toBe(true);
      const took = Date.now() - t;
      expect(await stopped).toEqual({ code: 0, signal: null });
      // Far below the 361 ms master-down: the backup acted on the priority-0 advert.
      expect(took).toBeLessThan(300);
      expect(await lab().reaches()).toBe('dir2');
      const outage = lab().outage(t, 'dir1', 'dir2');
      console.log(
        `clean stop: VIP+DIP on dir2 after ${took} ms, client outage ${outage?.toFixed(0)} ms`,
      );
      expect(outage).toBeDefined();
      expect(outage ?? Infinity).toBeLessThan(150);
    });

    it('fail-back with preempt: the restarted dir1 takes VIP and DIP back, dir2 returns to BACKUP', async () => {
      await lab().startPair(D1, D2);
      await lab().crash('dir1');
      expect(await lab().waitHolder('dir2', TAKEOVER_MS)).toBe(true);
      await lab().flush('dir1');
      await lab().linksUp('dir1');
      const t = Date.now();
      await lab().startDaemon('dir1', D1);
      expect(await lab().waitHolder('dir1', 3_000)).toBe(true);
      expect(await lab().states('dir2')).toEqual({ FRONT: 'BACKUP', BACK: 'BACKUP' });
      expect(await lab().reaches()).toBe('dir1');
      console.log(`fail-back: client outage ${lab().outage(t, 'dir2', 'dir1')?.toFixed(0)} ms`);
    });

    it('preempt_delay 1: the restarted dir1 waits about a second before it takes the VIP back', async () => {
      const c1: PairConfig = { ...D1, preemptDelay: 1 };
      await lab().startPair(c1, D2);
      await lab().crash('dir1');
      expect(await lab().waitHolder('dir2', TAKEOVER_MS)).toBe(true);
      await lab().flush('dir1');
      await lab().linksUp('dir1');
      await lab().startDaemon('dir1', c1);
      const started = Date.now();
      expect(await lab().waitState('dir1', 'BACKUP', 2_000)).toBe(true);
      expect(await lab().waitHolder('dir1', 4_000)).toBe(true);
      const waited = Date.now() - started;
      console.log(`preempt_delay 1: dir1 took the VIP back ${waited} ms after its socket answered`);
      expect(waited).toBeGreaterThanOrEqual(900);
      expect(await lab().reaches()).toBe('dir1');
    });

    it('nopreempt: the restarted dir1 stays BACKUP, dir2 keeps the VIP', async () => {
      const c1: PairConfig = { ...D1, nopreempt: true };
      const c2: PairConfig = { ...D2, nopreempt: true };
      await lab().startPair(c1, c2);
      await lab().crash('dir1');
      expect(await lab().waitHolder('dir2', TAKEOVER_MS)).toBe(true);
      await lab().flush('dir1');
      await lab().linksUp('dir1');
      await lab().startDaemon('dir1', c1);
      expect(await lab().waitState('dir1', 'BACKUP', 3_000)).toBe(true);
      // Many master-down intervals: still dir2.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await lab().holders(VIP)).toEqual(['dir2']);
      expect(await lab().holders(DIP)).toEqual(['dir2']);
      expect(await lab().states('dir1')).toEqual({ FRONT: 'BACKUP', BACK: 'BACKUP' });
      expect(await lab().reaches()).toBe('dir2');
    });

    it("split brain: dir2's links cut silently (switch side) then restored → one MASTER again", async () => {
      await lab().startPair(D1, D2);
      await lab().switchPort('dir2', 'front', false);
      await lab().switchPort('dir2', 'back', false);
      // dir2 hears no one: it becomes MASTER too (both hold the VIP) — the client still
      // reaches dir1, whose port is attached.
      expect(await lab().waitState('dir2', 'MASTER', TAKEOVER_MS)).toBe(true);
      expect(await lab().states('dir1')).toEqual({ FRONT: 'MASTER', BACK: 'MASTER' });
      expect(await lab().reaches()).toBe('dir1');
      await lab().switchPort('dir2', 'front', true);
      await lab().switchPort('dir2', 'back', true);
      expect(await lab().waitHolder('dir1', 2_000)).toBe(true);
      expect(await lab().states('dir2')).toEqual({ FRONT: 'BACKUP', BACK: 'BACKUP' });
      expect(await lab().reaches()).toBe('dir1');
    });

    it("split link: dir2's front link down → dir2 FAULT, never MASTER; restored → BACKUP", async () => {
      await lab().startPair(D1, D2);
      await lab().ip('dir2', ['link', 'set', 'eth0', 'down']);
      expect(await lab().waitState('dir2', 'FAULT', 1_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 600));
      expect(await lab().holders(VIP)).toEqual(['dir1']);
      expect(await lab().states('dir2')).toEqual({ FRONT: 'FAULT', BACK: 'FAULT' });
      await lab().ip('dir2', ['link', 'set', 'eth0', 'up']);
      expect(await lab().waitState('dir2', 'BACKUP', 2_000)).toBe(true);
      expect(await lab().waitHolder('dir1', 1_000)).toBe(true);
      expect(await lab().reaches()).toBe('dir1');
    });

    it('kill -9 of the daemon only (host up, VIP left on dir1): dir2 takes over, the client follows; the restarted dir1 preempts, one holder again', async () => {
      await lab().startPair(D1, D2);
      expect(await lab().reaches()).toBe('dir1');
      const t = Date.now();
      await lab().kill9('dir1');
      expect(await lab().waitState('dir2', 'MASTER', TAKEOVER_MS)).toBe(true);
      expect(await lab().reaches()).toBe('dir2');
      expect(await lab().clientNeighbour()).toBe(MAC.dir2.front);
      console.log(`kill -9: client outage ${lab().outage(t, 'dir1', 'dir2')?.toFixed(0)} ms`);
      await lab().startDaemon('dir1', D1);
      expect(await lab().waitHolder('dir1', 3_000)).toBe(true);
      expect(await lab().reaches()).toBe('dir1');
      expect(await lab().clientNeighbour()).toBe(MAC.dir1.front);
    });

    it('SIGUSR2 (stop for a restart) keeps the VIPs and the peer waits: no takeover, the client keeps reaching dir1', async () => {
      await lab().startPair(D1, D2);
      expect(await lab().reaches()).toBe('dir1');
      const t = Date.now();
      // 75: stopped for a restart (the systemd unit starts it again at once).
      expect(await lab().stop('dir1', 'SIGUSR2')).toEqual({ code: 75, signal: null });
      expect(await lab().holders(VIP)).toEqual(['dir1']);
      await lab().startDaemon('dir1', D1);
      await new Promise((r) => setTimeout(r, 500));
      expect(await lab().holders(VIP)).toEqual(['dir1']);
      expect(await lab().holders(DIP)).toEqual(['dir1']);
      expect(await lab().states('dir2')).toEqual({ FRONT: 'BACKUP', BACK: 'BACKUP' });
      const seen = new Set(
        lab()
          .answersSince(t)
          .map((a) => a.who),
      );
      expect([...seen]).toEqual(['dir1']);
      expect(await lab().reaches()).toBe('dir1');
    });
  },
);
