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

  /** Add an item; returns its insertion number (unique for the queue's life, clear() included),
   * which callers may keep as a token to recognise this very slot later (peekSeq). */
  push(atMs: number, value: T): number {
    const seq = this.seq++;
    let i = this.values.length;
    this.at.push(atMs);
    this.seqs.push(seq);
    this.values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.precedes(atMs, seq, parent)) break;
      this.move(i, parent);
      i = parent;
    }
    this.set(i, atMs, seq, value);
    return seq;
  }

  /** Time of the earliest item; Infinity when empty. */
  peekAtMs(): number {
    return this.values.length === 0 ? Infinity : (this.at[0] as number);
  }

  /** The earliest item's insertion number (as push returned it); -1 when empty. */
  peekSeq(): number {
    return this.values.length === 0 ? -1 : (this.seqs[0] as number);
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
    const n = this.values.length;
    if (n === 0) return undefined;
    const top = this.values[0];
    const lastAt = this.at.pop() as number;
    const lastSeq = this.seqs.pop() as number;
    const lastValue = this.values.pop() as T;
    const m = n - 1;
    if (m === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= m) break;
      const r = l + 1;
      const c = r < m && this.precedes(this.at[r] as number, this.seqs[r] as number, l) ? r : l;
      if (this.precedes(lastAt, lastSeq, c)) break;
      this.move(i, c);
      i = c;
    }
    this.set(i, lastAt, lastSeq, lastValue);
    return top;
  }

  clear(): void {
    this.at.length = 0;
    this.seqs.length = 0;
    this.values.length = 0;
  }

  /** (atMs, seq) comes before item j. */
  private precedes(atMs: number, seq: number, j: number): boolean {
    const jAt = this.at[j] as number;
    return atMs < jAt || (atMs === jAt && seq < (this.seqs[j] as number));
  }

  private move(to: number, from: number): void {
    this.set(to, this.at[from] as number, this.seqs[from] as number, this.values[from] as T);
  }

  private set(i: number, atMs: number, seq: number, value: T): void {
    this.at[i] = atMs;
    this.seqs[i] = seq;
    this.values[i] = value;
  }
}
