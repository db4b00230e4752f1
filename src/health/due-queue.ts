/**
 * A binary min-heap of timed items, ordered by time then insertion order (so items due at the
 * same instant come out FIFO). The scheduler keeps all due times and timeout deadlines here and
 * arms ONE timer for the earliest; cancelled items are left in place and skipped when they
 * surface (lazy deletion), which keeps cancel O(1).
 */
export interface Timed<T> {
  readonly atMs: number;
  readonly seq: number;
  readonly value: T;
}

export class DueQueue<T> {
  private readonly heap: Timed<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(atMs: number, value: T): void {
    const item: Timed<T> = { atMs, seq: this.seq++, value };
    const h = this.heap;
    let i = h.length;
    h.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Timed<T>;
      if (!before(item, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = item;
  }

  peek(): Timed<T> | undefined {
    return this.heap[0];
  }

  pop(): Timed<T> | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let child = l;
      if (r < n && before(h[r] as Timed<T>, h[l] as Timed<T>)) child = r;
      const c = h[child] as Timed<T>;
      if (!before(c, last)) break;
      h[i] = c;
      i = child;
    }
    h[i] = last;
    return top;
  }

  clear(): void {
    this.heap.length = 0;
  }
}

function before<T>(a: Timed<T>, b: Timed<T>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
