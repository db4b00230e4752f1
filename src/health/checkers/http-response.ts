/**
 * A bounded, incremental HTTP/1.x response parser for health checks. Pure: it is fed bytes and
 * told about EOF, and never touches sockets or timers, so its tests need none.
 *
 * Bounds: the status line and headers may take at most `maxHeaderBytes` (chunked trailers count
 * against the same cap), the decoded body at most `maxBodyBytes`. A declared Content-Length over
 * the cap fails at once, before any body is read. Garbage is recognised from the first bytes
 * (they must be a prefix of "HTTP/"), not after a header cap's worth of it.
 *
 * Framing follows RFC 9112 §6.3: no body for 1xx/204/304; Transfer-Encoding ending in chunked
 * is de-chunked; other Transfer-Encodings and a missing Content-Length read to close.
 * The body is passed to `onBody` (the checker's MD5) and never buffered here.
 */

export type ParseFailureCode = 'protocol' | 'body_too_large' | 'reset';

export type ParseOutcome =
  | { readonly kind: 'more' }
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly code: ParseFailureCode; readonly reason: string };

export interface ResponseLimits {
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
}

const MORE: ParseOutcome = { kind: 'more' };
const DONE: ParseOutcome = { kind: 'done' };
const HTTP_PREFIX = Buffer.from('HTTP/', 'latin1');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?:[ \t].*)?$/;
/** A chunk-size line longer than this is hostile, not a chunk extension anyone uses. */
const MAX_CHUNK_LINE = 1024;
const LF = 0x0a;
const CR = 0x0d;

type State = 'head' | 'length' | 'chunk_size' | 'chunk_data' | 'chunk_crlf' | 'trailers' | 'close';

function fail(code: ParseFailureCode, reason: string): ParseOutcome {
  return { kind: 'error', code, reason };
}

/** Up to 24 bytes of what the peer sent, safe to put in a log line. */
function snippet(buf: Buffer): string {
  return JSON.stringify(buf.subarray(0, 24).toString('latin1'));
}

export class HttpResponseParser {
  status = 0;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion = 0;
  bodyBytes = 0;
  private state: State = 'head';
  private finished: ParseOutcome | undefined;
  /** Head bytes (or a partial chunk-size / trailer line) carried over between reads. */
  private carry: Buffer | undefined;
  private remaining = 0;
  private headBytes = 0;

  constructor(
    private readonly limits: ResponseLimits,
    private readonly onBody?: (chunk: Buffer) => void,
  ) {}

  /** Feed bytes. The buffer may be reused by the caller afterwards: nothing keeps a reference. */
  feed(buf: Buffer): ParseOutcome {
    if (this.finished !== undefined) return this.finished;
    let pos = 0;
    while (pos < buf.length) {
      const r = this.step(buf, pos);
      if (typeof r !== 'number') return (this.finished = r);
      pos = r;
    }
    return this.state === 'length' && this.remaining === 0 ? (this.finished = DONE) : MORE;
  }

  /** The peer closed its side. */
  end(): ParseOutcome {
    if (this.finished !== undefined) return this.finished;
    let r: ParseOutcome;
    switch (this.state) {
      case 'close':
        r = DONE;
        break;
      case 'head':
        r =
          this.carry === undefined
            ? fail('reset', 'connection closed before a response')
            : fail('protocol', 'connection closed inside the response headers');
        break;
      case 'length':
        r = fail(
          'protocol',
          `body truncated: ${this.bodyBytes} of ${this.bodyBytes + this.remaining} bytes`,
        );
        break;
      default:
        r = fail('protocol', 'chunked body truncated');
    }
    return (this.finished = r);
  }

  /** Consume from `pos`; return the new position, or a final outcome. */
  private step(buf: Buffer, pos: number): number | ParseOutcome {
    switch (this.state) {
      case 'head':
        return this.stepHead(buf, pos);
      case 'length': {
        const n = Math.min(this.remaining, buf.length - pos);
        this.body(buf, pos, pos + n);
        this.remaining -= n;
        // Bytes after the declared length are ignored: we asked for Connection: close.
        return this.remaining === 0 ? DONE : pos + n;
      }
      case 'close': {
        if (this.bodyBytes + buf.length - pos > this.limits.maxBodyBytes) return this.tooLarge();
        this.body(buf, pos, buf.length);
        return buf.length;
      }
      case 'chunk_size':
        return this.stepLine(buf, pos, MAX_CHUNK_LINE, (line) => this.chunkSize(line));
      case 'chunk_data': {
        const n = Math.min(this.remaining, buf.length - pos);
        this.body(buf, pos, pos + n);
        this.remaining -= n;
        if (this.remaining === 0) this.state = 'chunk_crlf';
        return pos + n;
      }
      case 'chunk_crlf':
        return this.stepLine(buf, pos, 2, (line) => {
          if (line.length !== 0) return fail('protocol', 'chunk not followed by CRLF');
          this.state = 'chunk_size';
          return MORE;
        });
      case 'trailers':
        return this.stepLine(buf, pos, this.limits.maxHeaderBytes, (line) => {
          this.headBytes += line.length + 2;
          if (this.headBytes > this.limits.maxHeaderBytes) return this.headersTooLarge();
          return line.length === 0 ? DONE : MORE;
        });
    }
  }

  private body(buf: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.bodyBytes += end - start;
    this.onBody?.(buf.subarray(start, end));
  }

  private tooLarge(): ParseOutcome {
    return fail('body_too_large', `body larger than ${this.limits.maxBodyBytes} bytes`);
  }

  private headersTooLarge(): ParseOutcome {
    return fail('body_too_large', `headers larger than ${this.limits.maxHeaderBytes} bytes`);
  }

  private stepHead(buf: Buffer, pos: number): number | ParseOutcome {
    const prev = this.carry?.length ?? 0;
    const data =
      prev === 0 ? buf.subarray(pos) : Buffer.concat([this.carry as Buffer, buf.subarray(pos)]);
    // Garbage check on the first bytes, so an SSH banner or a TLS alert fails at once.
    const probe = Math.min(data.length, HTTP_PREFIX.length);
    if (data.compare(HTTP_PREFIX, 0, probe, 0, probe) !== 0) {
      return fail('protocol', `not an HTTP response (starts with ${snippet(data)})`);
    }
    const headEnd = findHeadEnd(data, Math.max(0, prev - 3));
    if (headEnd < 0) {
      if (data.length > this.limits.maxHeaderBytes) return this.headersTooLarge();
      this.carry = Buffer.from(data); // copy: the caller may reuse `buf`
      return buf.length;
    }
    if (headEnd > this.limits.maxHeaderBytes) return this.headersTooLarge();
    this.carry = undefined;
    this.headBytes = headEnd;
    const r = this.parseHead(data.toString('latin1', 0, headEnd));
    if (r !== MORE) return r;
    // Resume in `buf` right after the head (its end lies within this read's bytes).
    return pos + headEnd - prev;
  }

  /** Parse status line + headers; choose body framing. */
  private parseHead(head: string): ParseOutcome {
    const lines = head.split(/\r?\n/);
    const m = STATUS_LINE.exec(lines[0] ?? '');
    if (m === null)
      return fail('protocol', `bad status line ${JSON.stringify((lines[0] ?? '').slice(0, 64))}`);
    this.minorVersion = Number(m[1]);
    this.status = Number(m[2]);
    let contentLength: number | undefined;
    let transferEncoding: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line === '') continue;
      if (line.startsWith(' ') || line.startsWith('\t')) continue; // obs-fold: not one we read
      const colon = line.indexOf(':');
      if (colon <= 0)
        return fail('protocol', `malformed header line ${JSON.stringify(line.slice(0, 64))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        // "5, 5" is legal (repeated header folded); differing values are request smuggling bait.
        for (const part of value.split(',')) {
          const v = part.trim();
          if (!/^\d{1,15}$/.test(v))
            return fail('protocol', `bad Content-Length ${JSON.stringify(value.slice(0, 32))}`);
          const n = Number(v);
          if (contentLength !== undefined && contentLength !== n)
            return fail('protocol', 'conflicting Content-Length');
          contentLength = n;
        }
      } else if (name === 'transfer-encoding') {
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
      }
    }
    if (this.status < 200 || this.status === 204 || this.status === 304) {
      this.state = 'length';
      this.remaining = 0;
      return DONE;
    }
    if (transferEncoding !== undefined) {
      const codings = transferEncoding.toLowerCase().split(',');
      this.state = codings[codings.length - 1]?.trim() === 'chunked' ? 'chunk_size' : 'close';
      return MORE;
    }
    if (contentLength !== undefined) {
      if (contentLength > this.limits.maxBodyBytes) {
        return fail(
          'body_too_large',
          `body larger than ${this.limits.maxBodyBytes} bytes (Content-Length ${contentLength})`,
        );
      }
      this.state = 'length';
      this.remaining = contentLength;
      return contentLength === 0 ? DONE : MORE;
    }
    this.state = 'close';
    return MORE;
  }

  /**
   * Collect one CRLF- (or LF-) terminated line of at most `max` bytes, then hand it (without the
   * terminator) to `done`. Partial lines are carried over between reads.
   */
  private stepLine(
    buf: Buffer,
    pos: number,
    max: number,
    done: (line: Buffer) => ParseOutcome,
  ): number | ParseOutcome {
    const lf = buf.indexOf(LF, pos);
    const end = lf < 0 ? buf.length : lf;
    const prev = this.carry?.length ?? 0;
    if (prev + end - pos > max + 1) {
      return this.state === 'trailers'
        ? this.headersTooLarge()
        : fail('protocol', 'chunk framing line too long');
    }
    const piece = buf.subarray(pos, end);
    const line = prev === 0 ? piece : Buffer.concat([this.carry as Buffer, piece]);
    if (lf < 0) {
      this.carry = Buffer.from(line);
      return buf.length;
    }
    this.carry = undefined;
    const text =
      line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
    const r = done(text);
    return r === MORE ? lf + 1 : r;
  }

  private chunkSize(line: Buffer): ParseOutcome {
    const text = line.toString('latin1');
    const m = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(text);
    if (m === null) return fail('protocol', `bad chunk size ${JSON.stringify(text.slice(0, 32))}`);
    const size = parseInt(m[1] as string, 16);
    if (size === 0) {
      this.state = 'trailers';
      return MORE;
    }
    if (this.bodyBytes + size > this.limits.maxBodyBytes) return this.tooLarge();
    this.remaining = size;
    this.state = 'chunk_data';
    return MORE;
  }
}

/**
 * Index just past the blank line that ends the head ("\r\n\r\n" or a lenient "\n\n"), or -1.
 * `from` lets a caller skip bytes it already scanned.
 */
export function findHeadEnd(data: Buffer, from: number): number {
  let i = data.indexOf(LF, from);
  while (i >= 0) {
    const next = data[i + 1];
    if (next === LF) return i + 2;
    if (next === CR && data[i + 2] === LF) return i + 3;
    i = data.indexOf(LF, i + 1);
  }
  return -1;
}
