/**
 * One DirectorLab per test file: built (with traffic: echo services and the client's prober)
 * before the file's tests, disposed after them (LVSD_KEEP_LAB=1 keeps its scratch folder:
 * configs and daemon logs). Returns a getter: `const lab = useDirectorLab('fop')`, then
 * `lab().startPair(…)` inside the tests.
 */
import { afterAll, beforeAll } from 'vitest';
import { directorLab, type DirectorLab } from '../../helpers/director-lab.js';

export function useDirectorLab(
  tag: string,
  setup?: (lab: DirectorLab) => Promise<void>,
): () => DirectorLab {
  let lab: DirectorLab | undefined;
  beforeAll(async () => {
    lab = await directorLab(tag);
    await setup?.(lab);
    await lab.startTraffic();
  }, 30_000);
  afterAll(async () => {
    await lab?.dispose(process.env.LVSD_KEEP_LAB === '1');
  });
  return () => {
    if (lab === undefined) throw new Error(`lab ${tag} is not built (beforeAll failed?)`);
    return lab;
  };
}
