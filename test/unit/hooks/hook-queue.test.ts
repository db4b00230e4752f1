import { describe, expect, it } from 'vitest';
import { HookQueue } from '../../../src/hooks/hook-queue.js';

describe('hook queue policy', () => {
  it('one subject runs one job at a time, in order', () => {
    const q = new HookQueue<string>({ maxConcurrent: 8, maxPerSubject: 8, maxSubjects: 8 });
    q.push('VI_1', 'backup');
    q.push('VI_1', 'master');
    expect(q.take().map((j) => j.job)).toEqual(['backup']);
    expect(q.take()).toEqual([]);
    q.done('VI_1');
    expect(q.take().map((j) => j.job)).toEqual(['master']);
  });

  it('a busy subject never holds another; the global cap holds', () => {
    const q = new HookQueue<string>({ maxConcurrent: 2, maxPerSubject: 8, maxSubjects: 8 });
    for (const s of ['a', 'b', 'c']) q.push(s, `${s}1`);
    q.push('a', 'a2');
    expect(q.take().map((j) => j.job)).toEqual(['a1', 'b1']);
    expect(q.runningCount).toBe(2);
    q.done('a');
    expect(q.take().map((j) => j.job)).toEqual(['c1']);
    q.done('b');
    expect(q.take().map((j) => j.job)).toEqual(['a2']);
  });

  it('drops the oldest waiting job of a subject when full, and counts it', () => {
    const q = new HookQueue<number>({ maxConcurrent: 1, maxPerSubject: 2, maxSubjects: 8 });
    q.push('s', 1);
    q.push('s', 2);
    expect(q.push('s', 3)).toEqual({ dropped: 1 });
    expect(q.dropped).toBe(1);
    expect(q.take().map((j) => j.job)).toEqual([2]);
  });

  it('refuses a new subject beyond the subject cap', () => {
    const q = new HookQueue<number>({ maxConcurrent: 1, maxPerSubject: 2, maxSubjects: 1 });
    q.push('a', 1);
    expect(q.push('b', 1)).toEqual({ refused: true });
    expect(q.refused).toBe(1);
    expect(q.waitingCount).toBe(1);
  });
});
