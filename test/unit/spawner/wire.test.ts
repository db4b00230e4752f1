import { describe, expect, it } from 'vitest';
import {
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  LineSplitter,
} from '../../../src/spawner/wire.js';

const target = { argv: ['/bin/true'], timeoutMs: 1000, dynamic: false };

describe('spawner wire: requests', () => {
  it('round-trips a script request and a cancel', () => {
    const req = {
      id: 7,
      op: 'script' as const,
      target: {
        ...target,
        user: 'nobody',
        group: 65534,
        maxOutputBytes: 4096,
        scriptSecurity: true,
        killGraceMs: 200,
        env: { A: 'b' },
        cwd: '/',
      },
    };
    expect(decodeRequest(encodeRequest(req).trimEnd())).toEqual({ ok: true, value: req });
    expect(decodeRequest(encodeRequest({ id: 8, op: 'cancel' }))).toEqual({
      ok: true,
      value: { id: 8, op: 'cancel' },
    });
  });

  it('drops fields it does not know: nothing unchecked reaches the runner', () => {
    const d = decodeRequest(
      JSON.stringify({ id: 1, op: 'script', target: { ...target, shell: true, detached: false } }),
    );
    expect(d).toEqual({ ok: true, value: { id: 1, op: 'script', target } });
  });

  it.each([
    ['not json', 'not JSON', undefined],
    ['[1,2]', 'not a JSON object', undefined],
    ['{"op":"cancel"}', 'missing id', undefined],
    ['{"id":-1,"op":"cancel"}', 'missing id', undefined],
    ['{"id":1.5,"op":"cancel"}', 'missing id', undefined],
    ['{"id":3,"op":"spawn"}', 'unknown op spawn', 3],
    ['{"id":3,"op":"script"}', 'target is not an object', 3],
    [
      '{"id":3,"op":"script","target":{"argv":[],"timeoutMs":1,"dynamic":false}}',
      'argv must be a non-empty list',
      3,
    ],
    [
      '{"id":3,"op":"script","target":{"argv":[1],"timeoutMs":1,"dynamic":false}}',
      'argv must be strings',
      3,
    ],
    [
      '{"id":3,"op":"script","target":{"argv":["x"],"timeoutMs":0,"dynamic":false}}',
      'timeoutMs out of range',
      3,
    ],
    [
      '{"id":3,"op":"script","target":{"argv":["x"],"timeoutMs":1e12,"dynamic":false}}',
      'timeoutMs out of range',
      3,
    ],
    [
      '{"id":3,"op":"script","target":{"argv":["x"],"timeoutMs":5,"dynamic":"yes"}}',
      'dynamic must be a boolean',
      3,
    ],
    [
      '{"id":3,"op":"script","target":{"argv":["x"],"timeoutMs":5,"dynamic":false,"user":""}}',
      'bad user',
      3,
    ],
    [
      '{"id":3,"op":"script","target":{"argv":["x"],"timeoutMs":5,"dynamic":false,"env":{"A":1}}}',
      'env must map names to strings',
      3,
    ],
  ])('refuses %s', (line, why, id) => {
    expect(decodeRequest(line)).toEqual({ ok: false, why, ...(id === undefined ? {} : { id }) });
  });
});

describe('spawner wire: tool runs', () => {
  const exec = {
    file: 'ipvsadm',
    args: ['-R'],
    input: '-A -t 198.18.0.10:80 -s rr\n',
    timeoutMs: 30_000,
    maxBufferBytes: 1024,
    env: { LC_ALL: 'C' },
    stripFinalNewline: false,
  };

  it('round-trips a request and an outcome', () => {
    expect(decodeRequest(encodeRequest({ id: 1, op: 'exec', exec }))).toEqual({
      ok: true,
      value: { id: 1, op: 'exec', exec },
    });
    const outcome = {
      exitCode: 2,
      stdout: '',
      stderr: 'Protocol not available\n',
      timedOut: false,
      overflow: false,
    };
    expect(decodeReply(encodeReply({ kind: 'exec', id: 1, outcome }))).toEqual({
      ok: true,
      value: { kind: 'exec', id: 1, outcome },
    });
    const failed = { signal: 'SIGKILL', stdout: '', stderr: '', timedOut: true, overflow: false };
    expect(decodeReply(encodeReply({ kind: 'exec', id: 2, outcome: failed }))).toMatchObject({
      ok: true,
    });
  });

  it.each([
    [{ ...exec, file: '' }, 'exec needs a file'],
    [{ ...exec, args: 'x' }, 'args must be a list'],
    [{ ...exec, args: [1] }, 'args must be strings'],
    [{ ...exec, maxBufferBytes: 64 * 1024 * 1024 }, 'maxBufferBytes out of range'],
    [{ ...exec, input: 1 }, 'input must be a string'],
    [{ ...exec, stripFinalNewline: 'no' }, 'stripFinalNewline must be a boolean'],
  ])('refuses a bad request (%#)', (bad, why) => {
    expect(decodeRequest(JSON.stringify({ id: 4, op: 'exec', exec: bad }))).toEqual({
      ok: false,
      why,
      id: 4,
    });
  });

  it('refuses a corrupted outcome', () => {
    const good = { stdout: '', stderr: '', timedOut: false, overflow: false };
    for (const [outcome, why] of [
      [{ ...good, stdout: 1 }, 'missing output'],
      [{ ...good, timedOut: 'no' }, 'missing flags'],
      [{ ...good, exitCode: 300 }, 'bad exitCode'],
      [{ ...good, errno: 5 }, 'bad errno'],
    ] as const)
      expect(decodeReply(JSON.stringify({ kind: 'exec', id: 5, outcome }))).toEqual({
        ok: false,
        why,
        id: 5,
      });
  });
});

describe('spawner wire: replies', () => {
  const result = {
    ok: true,
    code: 'ok' as const,
    reason: 'exit status 3 (weight 1)',
    latencyMs: 9.2,
    weight: 1,
    detail: { exitCode: 3, output: 'hi\n', capturedBytes: 3, totalOutputBytes: 3 },
  };

  it('round-trips hello and results', () => {
    expect(decodeReply(encodeReply({ kind: 'hello', pid: 42, version: 1 }))).toEqual({
      ok: true,
      value: { kind: 'hello', pid: 42, version: 1 },
    });
    expect(decodeReply('{"kind":"hello","pid":42}')).toEqual({
      ok: false,
      why: 'hello without version',
    });
    expect(decodeReply(encodeReply({ kind: 'result', id: 9, result }))).toEqual({
      ok: true,
      value: { kind: 'result', id: 9, result },
    });
  });

  it.each([
    [{ kind: 'result', id: 1, result: { ...result, code: 'status' } }, 'unknown result code'],
    [{ kind: 'result', id: 1, result: { ...result, ok: false } }, 'ok does not match code'],
    [{ kind: 'result', id: 1, result: { ...result, weight: 300 } }, 'bad weight'],
    [{ kind: 'result', id: 1, result: { ...result, latencyMs: -1 } }, 'bad latencyMs'],
    [{ kind: 'result', id: 1, result: { ...result, reason: 5 } }, 'missing reason'],
    [{ kind: 'result', id: 1, result: { ...result, detail: { exitCode: 256 } } }, 'bad exitCode'],
    [{ kind: 'result', id: 1, result: { ...result, detail: { output: 1 } } }, 'bad output'],
  ])('refuses a corrupted result (%#) and names its id', (reply, why) => {
    expect(decodeReply(JSON.stringify(reply))).toEqual({ ok: false, why, id: 1 });
  });

  it('refuses lines that are not replies', () => {
    expect(decodeReply('{"kind":"hello"}')).toEqual({ ok: false, why: 'hello without pid' });
    expect(decodeReply('{"kind":"other"}')).toEqual({
      ok: false,
      why: 'unknown reply kind other',
    });
    expect(decodeReply('{"kind":"result","result":{}}')).toEqual({
      ok: false,
      why: 'missing id',
    });
  });
});

describe('LineSplitter', () => {
  it('joins lines split across chunks and skips empty ones', () => {
    const s = new LineSplitter(100);
    expect(s.push(Buffer.from('{"a":'))).toEqual([]);
    expect(s.push(Buffer.from('1}\n\n{"b"'))).toEqual(['{"a":1}']);
    expect(s.push(Buffer.from(':2}\n{"c":3}\n'))).toEqual(['{"b":2}', '{"c":3}']);
  });

  it('keeps a partial line when the chunk buffer is reused', () => {
    const s = new LineSplitter(100);
    const buf = Buffer.from('abc');
    s.push(buf);
    buf.write('xyz');
    expect(s.push(Buffer.from('d\n'))).toEqual(['abcd']);
  });

  it('drops an over-long line whole, counts it, and resumes at the next line', () => {
    const s = new LineSplitter(8);
    expect(s.push(Buffer.from('12345'))).toEqual([]);
    expect(s.push(Buffer.from('6789'))).toEqual([]); // 9 bytes: over
    expect(s.push(Buffer.from('more tail\nok\n'))).toEqual(['ok']);
    expect(s.overflows).toBe(1);
    expect(s.push(Buffer.from('12345678\n'))).toEqual(['12345678']); // exactly the cap
  });

  it('never holds more than the cap, however much garbage arrives', () => {
    const s = new LineSplitter(1024);
    for (let i = 0; i < 1000; i++) s.push(Buffer.alloc(64 * 1024, 0x41));
    expect(s.overflows).toBe(1);
    expect(s.push(Buffer.from('\n{"x":1}\n'))).toEqual(['{"x":1}']);
  });
});
