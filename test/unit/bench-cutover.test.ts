/** bench/cutover's outage definition: the longest answer gap that lost probes (0: none lost). */
import { describe, expect, it } from 'vitest';
import { outageOf } from '../../bench/cutover/run.js';

const at = (pairs: readonly [number, number][]): { seq: number; recv: number }[] =>
  pairs.map(([seq, recv]) => ({ seq, recv }));

describe('bench/cutover outageOf', () => {
  it('is 0 when every probe was answered, however uneven the spacing', () => {
    expect(
      outageOf(
        at([
          [1, 0],
          [2, 10],
          [3, 45],
          [4, 50],
        ]),
      ),
    ).toEqual({ outageMs: 0, lost: 0 });
  });
  it('takes the longest gap that lost probes and counts every lost probe', () => {
    const a = at([
      [1, 0],
      [2, 10],
      [5, 42],
      [6, 50],
      [20, 195],
      [21, 200],
    ]);
    expect(outageOf(a)).toEqual({ outageMs: 145, lost: 15 });
  });
  it('is 0 for no answers or one', () => {
    expect(outageOf([])).toEqual({ outageMs: 0, lost: 0 });
    expect(outageOf(at([[7, 3]]))).toEqual({ outageMs: 0, lost: 0 });
  });
});
