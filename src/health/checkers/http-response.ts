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
const HTTP_1_DOT = Buffer.from('HTTP/1.', 'latin1');
/** A chunk-size line longer than this is hostile, not a chunk extension anyone uses. */
const MAX_CHUNK_LINE = 1024;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

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
    const r = this.parseHead(data, headEnd);
    if (r !== MORE) return r;
    // Resume in `buf` right after the head (its end lies within this read's bytes).
    return pos + headEnd - prev;
  }

  /**
   * Parse status line + headers (`data[0, headEnd)`); choose body framing. Byte-level: the head
   * is split into lines (`\r?\n`) by index, header names are compared in place, and strings are
   * made only for the values lvsd reads (Content-Length, Transfer-Encoding) or for an error
   * message: a per-check split/trim/toLowerCase of every header line was most of the parser's
   * cost (bench/probe-cpu).
   */
  private parseHead(data: Buffer, headEnd: number): ParseOutcome {
    let lineStart = 0;
    let lf = lineEndAt(data, 0, headEnd);
    let lineEnd = trimCr(data, 0, lf);
    if (!this.statusLine(data, 0, lineEnd)) {
      const line = data.toString('latin1', 0, Math.min(lineEnd, 64));
      return fail('protocol', `bad status line ${JSON.stringify(line)}`);
    }
    let contentLength: number | undefined;
    let transferEncoding: string | undefined;
    while (lf < headEnd) {
      lineStart = lf + 1;
      lf = lineEndAt(data, lineStart, headEnd);
      lineEnd = trimCr(data, lineStart, lf);
      if (lineEnd === lineStart) continue;
      const first = data[lineStart];
      if (first === SP || first === HTAB) continue; // obs-fold: not one we read
      const colon = data.indexOf(COLON, lineStart);
      if (colon <= lineStart || colon >= lineEnd) {
        const line = data.toString('latin1', lineStart, Math.min(lineEnd, lineStart + 64));
        return fail('protocol', `malformed header line ${JSON.stringify(line)}`);
      }
      const name = headerName(data, lineStart, colon);
      if (name === OTHER) continue;
      const [vs, ve] = trimmed(data, colon + 1, lineEnd);
      if (name === CONTENT_LENGTH) {
        const n = digitsValue(data, vs, ve);
        if (n >= 0) {
          if (contentLength !== undefined && contentLength !== n)
            return fail('protocol', 'conflicting Content-Length');
          contentLength = n;
          continue;
        }
        // "5, 5" is legal (repeated header folded); differing values are request smuggling bait.
        const value = data.toString('latin1', vs, ve);
        for (const part of value.split(',')) {
          const v = part.trim();
          if (!/^\d{1,15}$/.test(v))
            return fail('protocol', `bad Content-Length ${JSON.stringify(value.slice(0, 32))}`);
          const k = Number(v);
          if (contentLength !== undefined && contentLength !== k)
            return fail('protocol', 'conflicting Content-Length');
          contentLength = k;
        }
      } else {
        const value = data.toString('latin1', vs, ve);
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

  /** `HTTP/1.x NNN` then nothing or a [ \t] and a reason without CR; sets status/version. */
  private statusLine(data: Buffer, start: number, end: number): boolean {
    const n = end - start;
    if (n < 12 || data.compare(HTTP_1_DOT, 0, HTTP_1_DOT.length, start, start + 7) !== 0) {
      return false;
    }
    const minor = (data[start + 7] as number) - 0x30;
    if ((minor !== 0 && minor !== 1) || data[start + 8] !== SP) return false;
    let status = 0;
    for (let i = start + 9; i < start + 12; i++) {
      const d = (data[i] as number) - 0x30;
      if (d < 0 || d > 9) return false;
      status = status * 10 + d;
    }
    if (n > 12) {
      const sep = data[start + 12];
      if (sep !== SP && sep !== HTAB) return false;
      // The reason phrase may hold anything but a line terminator (a lone CR).
      const cr = data.indexOf(CR, start + 13);
      if (cr >= 0 && cr < end) return false;
    }
    this.minorVersion = minor;
    this.status = status;
    return true;
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

/** The header names the parser reads; everything else is OTHER. */
const OTHER = 0;
const CONTENT_LENGTH = 1;
const TRANSFER_ENCODING = 2;
const NAME_CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const NAME_TRANSFER_ENCODING = Buffer.from('transfer-encoding', 'latin1');

/** Index of the LF ending the line that starts at `from`, or `end` (the head's last line). */
function lineEndAt(data: Buffer, from: number, end: number): number {
  const lf = data.indexOf(LF, from);
  return lf < 0 || lf > end ? end : lf;
}

/** `lf` minus one CR before it (split(/\r?\n/) semantics), not before `start`. */
function trimCr(data: Buffer, start: number, lf: number): number {
  return lf > start && data[lf - 1] === CR ? lf - 1 : lf;
}

/** What String.prototype.trim removes, restricted to latin1 bytes. */
function isTrimmable(b: number | undefined): boolean {
  return b === SP || (b !== undefined && b >= 0x09 && b <= 0x0d) || b === 0xa0;
}

function trimmed(data: Buffer, start: number, end: number): [number, number] {
  let s = start;
  let e = end;
  while (s < e && isTrimmable(data[s])) s++;
  while (e > s && isTrimmable(data[e - 1])) e--;
  return [s, e];
}

/** Which header `data[start, colon)` names, after trimming, ASCII case-insensitively. */
function headerName(data: Buffer, start: number, colon: number): number {
  const [s, e] = trimmed(data, start, colon);
  const n = e - s;
  const want =
    n === NAME_CONTENT_LENGTH.length
      ? NAME_CONTENT_LENGTH
      : n === NAME_TRANSFER_ENCODING.length
        ? NAME_TRANSFER_ENCODING
        : undefined;
  if (want === undefined) return OTHER;
  for (let i = 0; i < n; i++) {
    const b = data[s + i] as number;
    // Only ASCII letters fold (latin1 letters lower-case to non-ASCII ones).
    const lower = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
    if (lower !== want[i]) return OTHER;
  }
  return want === NAME_CONTENT_LENGTH ? CONTENT_LENGTH : TRANSFER_ENCODING;
}

/** `data[start, end)` as a number if it is 1 to 15 decimal digits, else -1. */
function digitsValue(data: Buffer, start: number, end: number): number {
  const n = end - start;
  if (n < 1 || n > 15) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = (data[i] as number) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
