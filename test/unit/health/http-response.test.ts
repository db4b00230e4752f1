// The parser is pure; it lives beside the checker tests because the checkers own it.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  findHeadEnd,
  HttpResponseParser,
  type ParseOutcome,
} from '../../../src/health/checkers/http-response.js';

const LIMITS = { maxHeaderBytes: 1024, maxBodyBytes: 4096 };

interface Parsed {
  outcome: ParseOutcome;
  status: number;
  body: string;
}

/** Feed `input` in the given pieces (then EOF unless the parser finished). */
function parse(input: string | Buffer, splits: number[] = [], limits = LIMITS): Parsed {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const chunks: Buffer[] = [];
  const p = new HttpResponseParser(limits, (c) => chunks.push(Buffer.from(c)));
  let outcome: ParseOutcome = { kind: 'more' };
  let prev = 0;
  for (const at of [
    ...splits.filter((s) => s > 0 && s < bytes.length).sort((a, b) => a - b),
    bytes.length,
  ]) {
    if (at <= prev) continue;
    // A fresh copy each time, then scribble over it: the parser must not keep references.
    const piece = Buffer.from(bytes.subarray(prev, at));
    outcome = p.feed(piece);
    piece.fill(0x7e);
    prev = at;
    if (outcome.kind !== 'more') break;
  }
  if (outcome.kind === 'more') outcome = p.end();
  return { outcome, status: p.status, body: Buffer.concat(chunks).toString('latin1') };
}

const everyByte = (s: string): number[] => Array.from({ length: s.length }, (_, i) => i);

describe('HttpResponseParser', () => {
  it.each([
    ['content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA', 200, 'hello'],
    ['read-to-close', 'HTTP/1.0 200 OK\r\n\r\nuntil close', 200, 'until close'],
    [
      'chunked + ext + trailer',
      'HTTP/1.1 201 C\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: 1\r\n\r\n',
      201,
      'abc0123456789',
    ],
    ['LF-only head', 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok', 200, 'ok'],
    ['no reason phrase', 'HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n', 503, ''],
    ['204 has no body', 'HTTP/1.1 204 No Content\r\n\r\nignored', 204, ''],
    [
      'gzip then chunked',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n',
      200,
      'z',
    ],
    [
      'te without chunked reads to close',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw',
      200,
      'raw',
    ],
    ['repeated equal content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\nx', 200, 'x'],
  ])('%s: same result whole and byte by byte', (_name, input, status, body) => {
    for (const splits of [[], everyByte(input)]) {
      const r = parse(input, splits);
      expect(r.outcome).toEqual({ kind: 'done' });
      expect(r.status).toBe(status);
      expect(r.body).toBe(body);
    }
  });

  it.each([
    [
      'garbage',
      'SSH-2.0-x\r\n',
      'protocol',
      'not an HTTP response (starts with "SSH-2.0-x\\r\\n")',
    ],
    ['one bad byte', 'X', 'protocol', 'not an HTTP response (starts with "X")'],
    [
      'bad status line',
      'HTTP/1.1 2000 OK\r\n\r\n',
      'protocol',
      'bad status line "HTTP/1.1 2000 OK"',
    ],
    ['HTTP/2 text', 'HTTP/2 200\r\n\r\n', 'protocol', 'bad status line "HTTP/2 200"'],
    [
      'header without colon',
      'HTTP/1.1 200 OK\r\nnocolon\r\n\r\n',
      'protocol',
      'malformed header line "nocolon"',
    ],
    [
      'bad content-length',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'protocol',
      'bad Content-Length "-1"',
    ],
    [
      'conflicting content-length',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx',
      'protocol',
      'conflicting Content-Length',
    ],
    [
      'truncated body',
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc',
      'protocol',
      'body truncated: 3 of 10 bytes',
    ],
    [
      'truncated head',
      'HTTP/1.1 200 OK\r\nA: b',
      'protocol',
      'connection closed inside the response headers',
    ],
    ['nothing at all', '', 'reset', 'connection closed before a response'],
    [
      'truncated chunked',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab',
      'protocol',
      'chunked body truncated',
    ],
    [
      'bad chunk size',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'protocol',
      'bad chunk size "zz"',
    ],
    [
      'chunk without CRLF',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n',
      'protocol',
      'chunk not followed by CRLF',
    ],
    [
      'declared length over cap',
      'HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n',
      'body_too_large',
      'body larger than 4096 bytes (Content-Length 5000)',
    ],
    [
      'chunk over cap',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1001\r\n',
      'body_too_large',
      'body larger than 4096 bytes',
    ],
    [
      'read-to-close over cap',
      `HTTP/1.0 200 OK\r\n\r\n${'b'.repeat(4097)}`,
      'body_too_large',
      'body larger than 4096 bytes',
    ],
    [
      'headers over cap',
      `HTTP/1.1 200 OK\r\nX: ${'h'.repeat(1100)}\r\n\r\n`,
      'body_too_large',
      'headers larger than 1024 bytes',
    ],
    [
      'unterminated head over cap',
      `HTTP/1.1 200 OK\r\nX: ${'h'.repeat(1100)}`,
      'body_too_large',
      'headers larger than 1024 bytes',
    ],
    [
      'trailers over cap',
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: ${'t'.repeat(1100)}\r\n\r\n`,
      'body_too_large',
      'headers larger than 1024 bytes',
    ],
  ])('%s → %s', (_name, input, code, reason) => {
    expect(parse(input).outcome).toEqual({ kind: 'error', code, reason });
    // Byte by byte, garbage is caught at its first byte, so only the quoted snippet differs.
    const split = parse(input, everyByte(input)).outcome;
    if (reason.startsWith('not an HTTP')) expect(split).toMatchObject({ kind: 'error', code });
    else expect(split).toEqual({ kind: 'error', code, reason });
  });

  it('judges garbage from the first bytes, not after a header cap', () => {
    const p = new HttpResponseParser(LIMITS);
    expect(p.feed(Buffer.from('HT'))).toEqual({ kind: 'more' });
    expect(p.feed(Buffer.from('XP'))).toMatchObject({ kind: 'error', code: 'protocol' });
  });

  it('keeps returning the final outcome after it finished', () => {
    const p = new HttpResponseParser(LIMITS);
    const done = p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    expect(done).toEqual({ kind: 'done' });
    expect(p.feed(Buffer.from('more'))).toBe(done);
    expect(p.end()).toBe(done);
  });

  it('findHeadEnd finds CRLFCRLF and LFLF, honouring `from`', () => {
    expect(findHeadEnd(Buffer.from('a\r\n\r\nb'), 0)).toBe(5);
    expect(findHeadEnd(Buffer.from('a\n\nb'), 0)).toBe(3);
    expect(findHeadEnd(Buffer.from('a\r\nb'), 0)).toBe(-1);
  });

  it('property: any split of a valid chunked response gives the same body and MD5', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (parts, splits) => {
          const body = parts.join('');
          const wire =
            'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
            parts
              .map((p) => `${Buffer.byteLength(p, 'latin1').toString(16)}\r\n${p}\r\n`)
              .join('') +
            '0\r\n\r\n';
          const total = Buffer.byteLength(wire, 'latin1');
          const r = parse(
            wire,
            splits.map((s) => s % total),
          );
          expect(r.outcome).toEqual({ kind: 'done' });
          const want = createHash('md5').update(Buffer.from(body, 'latin1')).digest('hex');
          expect(createHash('md5').update(Buffer.from(r.body, 'latin1')).digest('hex')).toBe(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: arbitrary bytes never throw and never exceed the caps', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), (bytes, prefixed) => {
        const input = Buffer.concat([
          Buffer.from(prefixed ? 'HTTP/1.1 200 OK\r\n' : ''),
          Buffer.from(bytes),
        ]);
        const r = parse(input, [7, 100, 1500], { maxHeaderBytes: 512, maxBodyBytes: 1024 });
        expect(['done', 'error']).toContain(r.outcome.kind);
        expect(r.body.length).toBeLessThanOrEqual(1024);
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * The string-based head parser the byte-level one replaced (split on /\r?\n/, trim,
 * toLowerCase), kept here as the reference: both must agree on every head, status and framing.
 */
function referenceHead(
  head: string,
): { error: string } | { status: number; minor: number; cl?: number; te?: string } {
  const lines = head.split(/\r?\n/);
  const m = /^HTTP\/1\.([01]) (\d{3})(?:[ \t].*)?$/.exec(lines[0] ?? '');
  if (m === null)
    return { error: `bad status line ${JSON.stringify((lines[0] ?? '').slice(0, 64))}` };
  let cl: number | undefined;
  let te: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '' || line.startsWith(' ') || line.startsWith('\t')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return { error: `malformed header line ${JSON.stringify(line.slice(0, 64))}` };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      for (const part of value.split(',')) {
        const v = part.trim();
        if (!/^\d{1,15}$/.test(v))
          return { error: `bad Content-Length ${JSON.stringify(value.slice(0, 32))}` };
        if (cl !== undefined && cl !== Number(v)) return { error: 'conflicting Content-Length' };
        cl = Number(v);
      }
    } else if (name === 'transfer-encoding') {
      te = te === undefined ? value : `${te}, ${value}`;
    }
  }
  return {
    status: Number(m[2]),
    minor: Number(m[1]),
    ...(cl === undefined ? {} : { cl }),
    ...(te === undefined ? {} : { te }),
  };
}

describe('HttpResponseParser head (byte-level) agrees with the string reference', () => {
  const piece = fc.constantFrom(
    'HTTP/1.1 ',
    'HTTP/1.0 ',
    'HTTP/1.2 ',
    'HTTP/2 ',
    '200',
    '503',
    '2000',
    '204',
    '304',
    '101',
    ' OK',
    '\tOK',
    'OK',
    '\r',
    '\n',
    '\r\n',
    ':',
    ' ',
    '\t',
    '\f',
    '\u00a0',
    ',',
    '5',
    '0',
    '12',
    '-1',
    'Content-Length',
    'content-LENGTH',
    'Content-Length ',
    'Transfer-Encoding',
    'TRANSFER-encoding',
    'chunked',
    'gzip',
    'X-Other',
    'x',
    'Host',
  );
  const ws = fc.array(fc.constantFrom(' ', '\t', '\f', '\v', '\r', '\u00a0', '\u0085'), {
    maxLength: 2,
  });
  const name = fc.constantFrom('Content-Length', 'content-length', 'Transfer-Encoding', 'X-A', '');
  const value = fc.constantFrom('5', '0', '2, 2', '1,2', '-1', '', 'chunked', 'gzip', '0x1');
  const headerLine = fc
    .tuple(ws, name, ws, fc.constantFrom(':', ''), ws, value, ws)
    .map(
      ([a, n, b, c, d, v, e]) => `${a.join('')}${n}${b.join('')}${c}${d.join('')}${v}${e.join('')}`,
    );
  const structured = fc
    .tuple(
      fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.0 204', 'HTTP/1.1 302 \rx'),
      fc.array(headerLine, { maxLength: 4 }),
      fc.constantFrom('\r\n', '\n'),
    )
    .map(([status, lines, eol]) => [status, ...lines].join(eol));
  const start = fc.constantFrom('HTTP/1.1 200', 'HTTP/1.0 404 Not Found', 'HTTP/1.1 ', 'HTTP/');
  it('status, minor version and outcome match for generated heads', () => {
    const seen = { errors: 0, parsed: 0 };
    fc.assert(
      fc.property(
        fc.oneof(
          structured,
          fc.tuple(start, fc.array(piece, { maxLength: 24 })).map(([a, b]) => a + b.join('')),
        ),
        fc.boolean(),
        (text, crlf) => {
          const head = `${text}${crlf ? '\r\n\r\n' : '\n\n'}`;
          const bytes = Buffer.from(head, 'latin1');
          const end = findHeadEnd(bytes, 0);
          if (end < 0) return;
          const headText = bytes.toString('latin1', 0, end);
          if (!headText.startsWith('HTTP/')) return; // garbage is rejected before the head parse
          const ref = referenceHead(headText);
          const p = new HttpResponseParser({ maxHeaderBytes: 4096, maxBodyBytes: 1 << 20 });
          const got = p.feed(Buffer.from(headText + 'x'.repeat(3), 'latin1'));
          if ('error' in ref) {
            seen.errors++;
            expect(got).toEqual({ kind: 'error', code: 'protocol', reason: ref.error });
            return;
          }
          seen.parsed++;
          expect(got.kind === 'error' && got.code === 'protocol').toBe(false);
          expect([p.status, p.minorVersion]).toEqual([ref.status, ref.minor]);
          const noBody = ref.status < 200 || ref.status === 204 || ref.status === 304;
          if (noBody) expect(got).toEqual({ kind: 'done' });
          else if (ref.te === undefined && ref.cl !== undefined && ref.cl <= 3)
            expect(got.kind).toBe('done');
        },
      ),
      { numRuns: 4000 },
    );
    // Not vacuous: both rejected and accepted heads were compared.
    expect(seen.errors).toBeGreaterThan(300);
    expect(seen.parsed).toBeGreaterThan(300);
  });
});
