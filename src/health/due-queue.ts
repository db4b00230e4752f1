/**
 * A binary min-heap of timed items, ordered by time then insertion order (so items due at the
 * same instant come out FIFO). The scheduler keeps all due times and timeout deadlines here and
 * arms ONE timer for the earliest; cancelled items are left in place and skipped when they
 * surface (lazy deletion), which keeps cancel O(1).
 *
 * Times, insertion numbers and values live in three parallel arrays, not in one object per item:
 * a sift compares only the two number arrays (contiguous memory) instead of touching a cold
 * object on every level, and a push allocates nothing. With 1,000 checks cycling through the
 * heap, those object visits were a visible share of the scheduler's per-check CPU
 * (bench/probe-cpu, perf).
 */
export interface Timed<T> {
  readonly atMs: number;
  readonly seq: number;
  readonly value: T;
}

export class DueQueue<T> {
  private readonly at: number[] = [];
  private readonly seqs: number[] = [];
  private readonly values: T[] = [];
  private seq = 0;

  get size(): number {
    return this.values.length;
  }

  push(atMs: number, value: T): void {
    const { at, seqs, values } = this;
    const seq = this.seq++;
    let i = values.length;
    at.push(atMs);
    seqs.push(seq);
    values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pAt = at[parent] as number;
      if (!(atMs < pAt || (atMs === pAt && seq < (seqs[parent] as number)))) break;
      at[i] = pAt;
      seqs[i] = seqs[parent] as number;
      values[i] = values[parent] as T;
      i = parent;
    }
    at[i] = atMs;
    seqs[i] = seq;
    values[i] = value;
  }

  /** Time of the earliest item; Infinity when empty. */
  peekAtMs(): number {
    return this.values.length === 0 ? Infinity : (this.at[0] as number);
  }

  /** The earliest item's value. */
  peekValue(): T | undefined {
    return this.values[0];
  }

  /** The earliest item (allocates; the scheduler uses peekAtMs / peekValue). */
  peek(): Timed<T> | undefined {
    if (this.values.length === 0) return undefined;
    return { atMs: this.at[0] as number, seq: this.seqs[0] as number, value: this.values[0] as T };
  }

  /** Remove the earliest item; returns its value. */
  pop(): T | undefined {
    const { at, seqs, values } = this;
    const n = values.length;
    if (n === 0) return undefined;
    const top = values[0];
    const lastAt = at.pop() as number;
    const lastSeq = seqs.pop() as number;
    const lastValue = values.pop() as T;
    const m = n - 1;
    if (m === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= m) break;
      const r = l + 1;
      let c = l;
      if (r < m && earlier(at, seqs, r, l)) c = r;
      const cAt = at[c] as number;
      if (!(cAt < lastAt || (cAt === lastAt && (seqs[c] as number) < lastSeq))) break;
      at[i] = cAt;
      seqs[i] = seqs[c] as number;
      values[i] = values[c] as T;
      i = c;
    }
    at[i] = lastAt;
    seqs[i] = lastSeq;
    values[i] = lastValue;
    return top;
  }

  clear(): void {
    this.at.length = 0;
    this.seqs.length = 0;
    this.values.length = 0;
  }
}

function earlier(at: readonly number[], seqs: readonly number[], a: number, b: number): boolean {
  const x = at[a] as number;
  const y = at[b] as number;
  return x < y || (x === y && (seqs[a] as number) < (seqs[b] as number));
}
