/**
 * One client's event stream (GET /v1/events): NDJSON, one LvsdEvent per line, read from the
 * shared ring through a cursor (the rules are in event-stream-policy.ts).
 *
 * The daemon is never slowed by a client: the ring tells the stream of a new event inside
 * EventBus.publish, and all the stream does there is an O(1) check and scheduling its own
 * write (setImmediate). Writes go out one batch at a time, and the next batch only after the
 * socket has drained, so a client's memory in the daemon is its cursor plus at most one batch
 * in the socket's queue. A client that falls too far behind gets the final SLOW_CONSUMER line
 * and the end of the response; if it reads nothing more, its socket is destroyed after
 * `lingerMs`.
 */
import type { ServerResponse } from 'node:http';
import {
  DEFAULT_STREAM_LIMITS,
  finalLine,
  streamStart,
  verdict,
  type StreamLimits,
} from './event-stream-policy.js';
import type { EventFeed, EventStreamSpec } from './types.js';
import { EVENTS_HEADERS, NDJSON_TYPE } from './constants.js';

/** Batches written per turn of the event loop while a backlog is sent (fairness to the daemon). */
const BATCHES_PER_TURN = 4;

export class EventStream {
  private cursor: number;
  private readonly liveFrom: number;
  /** A one-shot read ends at the newest event when it started. */
  private readonly endAt: number;
  private scheduled = false;
  private waitingDrain = false;
  private ended = false;
  /** lvsd is stopping: send what is held, then the final line. */
  private stopping = false;
  private readonly unsubscribe: () => void;
  private linger: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly feed: EventFeed,
    private readonly spec: EventStreamSpec,
    private readonly limits: StreamLimits = DEFAULT_STREAM_LIMITS,
    private readonly onEnd: (s: EventStream) => void = () => undefined,
  ) {
    const start = streamStart(spec.since, feed.oldestSeq, feed.newestSeq);
    this.cursor = start.cursor;
    this.liveFrom = feed.newestSeq;
    this.endAt = feed.newestSeq;
    const headers: Record<string, string> = {
      'content-type': NDJSON_TYPE,
      'cache-control': 'no-store',
      [EVENTS_HEADERS.newest]: String(feed.newestSeq),
    };
    if (feed.oldestSeq !== undefined) headers[EVENTS_HEADERS.oldest] = String(feed.oldestSeq);
    if (start.gap) headers[EVENTS_HEADERS.gap] = `${start.gap.from}-${start.gap.to}`;
    if (start.ahead) headers[EVENTS_HEADERS.ahead] = '1';
    res.writeHead(200, headers);
    res.flushHeaders();
    this.unsubscribe = spec.follow
      ? feed.onPush((newest) => {
          this.onPush(newest);
        })
      : () => undefined;
    res.once('close', () => {
      this.finish();
    });
    res.on('drain', () => {
      this.waitingDrain = false;
      this.schedule();
    });
    this.schedule();
  }

  /** The seq of the last event handed to the socket. */
  get lastSeq(): number {
    return this.cursor;
  }

  /**
   * Daemon shutdown: send the events still held for this client (its last ones are the
   * daemon's own stopping events), then the final line. `now`: no more waiting (the server's
   * close deadline passed): the final line goes out after what was already sent.
   */
  stop(now = false): void {
    this.stopping = true;
    if (now) this.end(finalLine({ kind: 'stopping' }, this.cursor, this.limits));
    else this.schedule();
  }

  /** Inside EventBus.publish: decide, schedule, return. Never writes here. */
  private onPush(newest: number): void {
    if (this.ended) return;
    const v = verdict(
      { cursor: this.cursor, liveFrom: this.liveFrom, follow: this.spec.follow },
      newest,
      this.feed.oldestSeq,
      this.limits,
    );
    if (v.kind === 'cut') this.end(finalLine(v, this.cursor, this.limits));
    else this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.waitingDrain || this.ended) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    for (let turn = 0; turn < BATCHES_PER_TURN && !this.ended && !this.waitingDrain; turn++) {
      // The cursor may have fallen out of the ring while this client waited for a drain.
      const v = verdict(
        { cursor: this.cursor, liveFrom: this.liveFrom, follow: this.spec.follow },
        this.feed.newestSeq,
        this.feed.oldestSeq,
        this.limits,
      );
      if (v.kind === 'cut') {
        this.end(finalLine(v, this.cursor, this.limits));
        return;
      }
      const batch = this.feed.after(this.cursor, this.limits.batchEvents);
      let text = '';
      let last = this.cursor;
      for (const held of batch) {
        if (!this.spec.follow && held.event.seq > this.endAt) break;
        if (text !== '' && text.length + held.line.length > this.limits.batchBytes) break;
        text += `${held.line}\n`;
        last = held.event.seq;
      }
      if (text === '') {
        if (this.stopping) this.end(finalLine({ kind: 'stopping' }, this.cursor, this.limits));
        else if (!this.spec.follow) this.end(undefined);
        return; // following: the next push schedules us again
      }
      this.cursor = last;
      if (!this.res.write(text)) this.waitingDrain = true;
    }
    if (!this.waitingDrain) this.schedule();
  }

  private end(last: object | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.unsubscribe();
    this.res.end(last === undefined ? undefined : `${JSON.stringify(last)}\n`);
    if (last !== undefined) {
      // A client that reads nothing would hold the socket (and the queued bytes) forever.
      this.linger = setTimeout(() => this.res.destroy(), this.limits.lingerMs);
      this.linger.unref();
    }
  }

  private finish(): void {
    this.ended = true;
    this.unsubscribe();
    if (this.linger) clearTimeout(this.linger);
    this.onEnd(this);
  }
}
