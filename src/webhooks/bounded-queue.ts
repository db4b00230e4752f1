/**
 * A queue with a hard length: when full, the oldest entry is dropped and counted, since for
 * alerting the newest news matters most and memory must stay bounded whatever a receiver
 * does. Pure.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0;
  dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${String(capacity)}`);
  }

  /** Returns the entry dropped to make room, if any. */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.length >= this.capacity) {
      dropped = this.shift();
      this.dropped += 1;
    }
    this.items.push(item);
    return dropped;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head] as T;
    this.head += 1;
    // Compact now and then so shifting stays O(1) amortised without keeping dead slots.
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  get length(): number {
    return this.items.length - this.head;
  }
}
