/**
 * The harness's own contract for daemon exits (test/helpers/director-lab.ts): `stop()` reports
 * how the daemon ended also when it had already exited before the call (the exit handler drops
 * it from the running set first), and `lastExit()` keeps the code or signal per director.
 */
import { describe, expect, it } from 'vitest';
import { probeNetns } from '../../helpers/netns.js';
import { useDirectorLab } from './suite.js';

const probe = probeNetns();

describe.skipIf(!probe.ok)(
  `director lab: daemon exits ${probe.ok ? '' : `(skipped: ${probe.reason})`}`,
  { timeout: 30_000 },
  () => {
    const lab = useDirectorLab('lvdx');

    it('stop() of a daemon that already exited returns its exit code, not null', async () => {
      await lab().reset();
      const h = await lab().startDaemon('dir1', { priority: 150, frontOnly: true });
      expect(lab().lastExit('dir1')).toBeUndefined();
      process.kill(h.pid, 'SIGTERM');
      expect(await h.exited).toEqual({ code: 0, signal: null });
      expect(lab().daemon('dir1')).toBeUndefined();
      expect(await lab().stop('dir1')).toEqual({ code: 0, signal: null });
    });

    it('a daemon ended by a signal reports the signal; a new start forgets the old exit', async () => {
      await lab().reset();
      await lab().startDaemon('dir1', { priority: 150, frontOnly: true });
      await lab().kill9('dir1');
      expect(lab().lastExit('dir1')).toEqual({ code: null, signal: 'SIGKILL' });
      expect(await lab().stop('dir1')).toEqual({ code: null, signal: 'SIGKILL' });
      await lab().startDaemon('dir1', { priority: 150, frontOnly: true });
      expect(lab().lastExit('dir1')).toBeUndefined();
      expect(await lab().stop('dir1', 'SIGUSR2')).toEqual({ code: 75, signal: null });
    });

    it('stop() of a director that never ran a daemon returns null', async () => {
      expect(await lab().stop('dir2')).toBeNull();
    });
  },
);
