import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../../src/health/due-queue.js';

describe('DueQueue', () => {
  it('pops by time, FIFO among equal times, across interleaved pushes and pops', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant(-1)), { maxLength: 300 }),
        (ops) => {
          const q = new DueQueue<number>();
          // The model: a list kept sorted by (time, insertion number).
          const model: { at: number; n: number }[] = [];
          let n = 0;
          for (const op of ops) {
            if (op >= 0) {
              expect(q.push(op, n)).toBe(n); // the insertion number, usable as a token
              model.push({ at: op, n: n++ });
              model.sort((a, b) => a.at - b.at || a.n - b.n);
            } else {
              const want = model.shift();
              expect(q.peekAtMs()).toBe(want?.at ?? Infinity);
              expect(q.peekValue()).toBe(want?.n);
              expect(q.peekSeq()).toBe(want?.n ?? -1);
              expect(q.pop()).toBe(want?.n);
            }
            expect(q.size).toBe(model.length);
          }
          const rest: number[] = [];
          for (let v = q.pop(); v !== undefined; v = q.pop()) rest.push(v);
          expect(rest).toEqual(model.map((m) => m.n));
          expect(q.peek()).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('peek reports the earliest item and clear empties the queue', () => {
    const q = new DueQueue<string>();
    q.push(5, 'b');
    q.push(3, 'a');
    expect(q.peek()).toEqual({ atMs: 3, seq: 1, value: 'a' });
    q.clear();
    expect(q.size).toBe(0);
    expect(q.peekAtMs()).toBe(Infinity);
    expect(q.pop()).toBeUndefined();
  });
});
