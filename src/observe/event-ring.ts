/**
 * The daemon's memory of recent events: a bounded ring fed from the event stream, read by
 * `lvsd events` (GET /v1/events) and the status page. Bounded twice, so a storm cannot grow
 * it: at most `maxEvents` records (default 10,000) and at most `maxBytes` of their JSON
 * (default 8 MiB); the oldest go first. Each record is serialised once, when it arrives, so
 * every stream client sends the same bytes without re-encoding them.
 *
 * Pure: no timers, no I/O. Listeners are told synchronously after a push and must only note
 * the news (a stream client schedules its own write): the ring runs inside EventBus.publish.
 */
import type { AnyEvent } from '../lib/events.js';

export const DEFAULT_RING_EVENTS = 10_000;
export const DEFAULT_RING_BYTES = 8 * 1024 * 1024;

/** One held event and its NDJSON line (without the newline). */
export interface HeldEvent {
  readonly event: AnyEvent;
  readonly line: string;
}

export interface EventRingOptions {
  readonly maxEvents?: number;
  readonly maxBytes?: number;
}

export class EventRing {
  private readonly slots: (HeldEvent | undefined)[];
  /** Index of the oldest held record. */
  private head = 0;
  private count = 0;
  private bytes = 0;
  private lastSeq = 0;
  private readonly listeners = new Set<(newest: number) => void>();
  readonly maxEvents: number;
  readonly maxBytes: number;

  constructor(opts: EventRingOptions = {}) {
    this.maxEvents = Math.max(1, Math.floor(opts.maxEvents ?? DEFAULT_RING_EVENTS));
    this.maxBytes = Math.max(1, Math.floor(opts.maxBytes ?? DEFAULT_RING_BYTES));
    this.slots = new Array<HeldEvent | undefined>(this.maxEvents);
  }

  push(event: AnyEvent): void {
    const line = JSON.stringify(event);
    // A single record larger than the byte bound is still kept (alone): losing it silently
    // would leave a hole in the sequence that no reader could explain.
    while (
      this.count > 0 &&
      (this.count === this.maxEvents || this.bytes + line.length > this.maxBytes)
    )
      this.dropOldest();
    this.slots[(this.head + this.count) % this.maxEvents] = { event, line };
    this.count++;
    this.bytes += line.length;
    this.lastSeq = event.seq;
    for (const l of this.listeners) l(event.seq);
  }

  /** Sequence number of the oldest record held; undefined when empty. */
  get oldestSeq(): number | undefined {
    return this.count === 0 ? undefined : this.at(0).event.seq;
  }

  /** Sequence number of the newest event seen (0 before the first). */
  get newestSeq(): number {
    return this.lastSeq;
  }

  get size(): number {
    return this.count;
  }

  /** JSON bytes held (UTF-16 code units: a close, cheap upper bound for ASCII-heavy events). */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Up to `max` records with seq > `seq`, oldest first. */
  after(seq: number, max: number): HeldEvent[] {
    const out: HeldEvent[] = [];
    const first = this.indexAfter(seq);
    for (let i = first; i < this.count && out.length < max; i++) out.push(this.at(i));
    return out;
  }

  /** The newest `n` events, oldest first. */
  recent(n: number): AnyEvent[] {
    const out: AnyEvent[] = [];
    for (let i = Math.max(0, this.count - Math.max(0, n)); i < this.count; i++)
      out.push(this.at(i).event);
    return out;
  }

  /** Called with the newest seq after each push. Returns the unsubscribe function. */
  onPush(listener: (newest: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private at(i: number): HeldEvent {
    const h = this.slots[(this.head + i) % this.maxEvents];
    if (!h) throw new Error(`event ring slot ${i} of ${this.count} is empty`);
    return h;
  }

  /** The first index whose seq is > `seq` (seqs are increasing: binary search). */
  private indexAfter(seq: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).event.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private dropOldest(): void {
    const h = this.at(0);
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.maxEvents;
    this.count--;
    this.bytes -= h.line.length;
  }
}
