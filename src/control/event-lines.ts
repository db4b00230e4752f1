/**
 * Reading an event stream (GET /v1/events) on the client side: bytes → lines → what each line
 * is. Every line is an LvsdEvent, except a last `{ "error": … }` line when lvsd ended the
 * stream early (SLOW_CONSUMER, UNAVAILABLE). A line longer than the bound is an error, so a
 * stream that is not lvsd's cannot grow the reader's memory.
 */
import type { ApiErrorBody } from './errors.js';
import type { AnyEvent } from '../lib/events.js';

/** Far beyond any event (an ipvs.applied of 10,000 lines is ~600 KiB). */
export const MAX_EVENT_LINE = 4 * 1024 * 1024;

export type StreamLine =
  | { readonly kind: 'event'; readonly event: AnyEvent; readonly line: string }
  | { readonly kind: 'end'; readonly error: ApiErrorBody['error']; readonly line: string };

export class LineTooLong extends Error {
  constructor(readonly limit: number) {
    super(`an event stream line is longer than ${limit} characters`);
    this.name = 'LineTooLong';
  }
}

/** Splits text arriving in chunks into complete lines (without the newline). */
export class LineSplitter {
  private rest = '';
  constructor(private readonly maxLine = MAX_EVENT_LINE) {}

  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    if (this.rest.length > this.maxLine) throw new LineTooLong(this.maxLine);
    for (const p of parts) if (p.length > this.maxLine) throw new LineTooLong(this.maxLine);
    return parts.filter((p) => p !== '');
  }

  /** What is left when the stream ends: a last line without a newline, if any. */
  flush(): string | undefined {
    const r = this.rest;
    this.rest = '';
    return r === '' ? undefined : r;
  }
}

/** What one line is; undefined: neither an event nor an error body (not lvsd's stream). */
export function classifyLine(line: string): StreamLine | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o['seq'] === 'number' && typeof o['name'] === 'string' && 'data' in o)
    return { kind: 'event', event: v as AnyEvent, line };
  const e = o['error'] as Record<string, unknown> | undefined;
  if (e && typeof e['code'] === 'string' && typeof e['message'] === 'string')
    return { kind: 'end', error: e as unknown as ApiErrorBody['error'], line };
  return undefined;
}
