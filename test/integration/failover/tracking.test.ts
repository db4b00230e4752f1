/**
 * Tracked scripts (vrrp_script + track_script) and tracked interfaces on the NAT pair with two
 * real `lvsd run` daemons: a failing check or a tracked link going down moves the VIP.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { VIP, type PairConfig } from '../../helpers/director-lab.js';
import { probeNetns } from '../../helpers/netns.js';
import { useDirectorLab } from './suite.js';

const probe = probeNetns();
const ADVERT = 0.1;
const TAKEOVER_MS = 1_500;

describe.skipIf(!probe.ok)(
  `tracking ${probe.ok ? '' : `(skipped: ${probe.reason})`}`,
  { timeout: 30_000 },
  () => {
    let flag = '';
    let check = '';
    const lab = useDirectorLab('fot', async (l) => {
      flag = join(l.dir, 'fail-dir1');
      check = l.file('check.sh', `#!/bin/sh\ntest ! -e ${flag}\n`, 0o755);
      // A spare link in dir1 for track_interface (a veth pair inside dir1).
      await l.net.veth({ ns: l.ns.dir1, ifname: 'trk0' }, { ns: l.ns.dir1, ifname: 'trk1' });
    });
    beforeEach(async () => {
      rmSync(flag, { force: true });
      await lab().ip('dir1', ['link', 'set', 'trk0', 'up']);
      await lab().reset();
    });

    const script = (weight?: number): string =>
      [
        'vrrp_script chk {',
        `  script "${check}"`,
        '  interval 0.2',
        '  timeout 1',
        '  fall 1',
        '  rise 1',
        ...(weight === undefined ? [] : [`  weight ${weight}`]),
        '}',
      ].join('\n');

    it('a failing track_script puts the sync group in FAULT and dir2 takes over; recovery fails back', async () => {
      const c1: PairConfig = {
        priority: 150,
        advertInt: ADVERT,
        top: script(),
        front: '  track_script {\n    chk\n  }',
      };
      await lab().startPair(c1, { priority: 100, advertInt: ADVERT });
      expect(await lab().reaches()).toBe('dir1');
      writeFileSync(flag, '');
      expect(existsSync(flag)).toBe(true);
      expect(await lab().waitHolder('dir2', TAKEOVER_MS + 400)).toBe(true);
      expect(await lab().states('dir1')).toEqual({ FRONT: 'FAULT', BACK: 'FAULT' });
      const st = await lab().status('dir1');
      expect(st.vrrp.find((i) => i.name === 'FRONT')?.tracking).toContainEqual(
        expect.objectContaining({ kind: 'script', name: 'chk', ok: false }),
      );
      expect(await lab().reaches()).toBe('dir2');
      rmSync(flag);
      expect(await lab().waitHolder('dir1', 3_000)).toBe(true);
      expect(await lab().reaches()).toBe('dir1');
    });

    it('a failing weighted track_script lowers the priority below the peer: dir2 takes over', async () => {
      const c1: PairConfig = {
        priority: 150,
        advertInt: ADVERT,
        frontOnly: true,
        top: script(-60),
        front: '  track_script {\n    chk\n  }',
      };
      await lab().startPair(c1, { priority: 100, advertInt: ADVERT, frontOnly: true });
      expect(await lab().waitHolder('dir1', 3_000, false)).toBe(true);
      writeFileSync(flag, '');
      expect(await lab().waitHolder('dir2', TAKEOVER_MS + 400, false)).toBe(true);
      const s1 = await lab().status('dir1');
      const front = s1.vrrp.find((i) => i.name === 'FRONT');
      expect(front?.state).toBe('BACKUP');
      expect(front?.priority).toBe(90);
      expect(await lab().reaches()).toBe('dir2');
      rmSync(flag);
      expect(await lab().waitHolder('dir1', 3_000, false)).toBe(true);
    });

    it('a tracked interface going down → FAULT on dir1, dir2 MASTER; back up → dir1 again', async () => {
      const c1: PairConfig = {
        priority: 150,
        advertInt: ADVERT,
        front: '  track_interface {\n    trk0\n  }',
      };
      await lab().startPair(c1, { priority: 100, advertInt: ADVERT });
      expect(await lab().reaches()).toBe('dir1');
      await lab().ip('dir1', ['link', 'set', 'trk0', 'down']);
      expect(await lab().waitState('dir1', 'FAULT', 1_000)).toBe(true);
      expect(await lab().waitHolder('dir2', TAKEOVER_MS)).toBe(true);
      expect(await lab().holders(VIP)).toEqual(['dir2']);
      expect(await lab().reaches()).toBe('dir2');
      await lab().ip('dir1', ['link', 'set', 'trk0', 'up']);
      expect(await lab().waitHolder('dir1', 3_000)).toBe(true);
      expect(await lab().states('dir2')).toEqual({ FRONT: 'BACKUP', BACK: 'BACKUP' });
    });
  },
);
