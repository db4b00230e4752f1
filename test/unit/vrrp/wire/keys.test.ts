import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AUTH_PASS_SALT,
  checkKeyFileMode,
  keyFromAuthPass,
  MAX_KEY_FILE_BYTES,
  parseKeyFile,
  type KeyFileResult,
} from '../../../../src/vrrp/wire/keys.js';

/** RFC 5869 HKDF-SHA256 written out with HMAC only, as an independent check. */
function hkdf(ikm: Buffer, salt: string, info: string, length: number): Buffer {
  const prk = createHmac('sha256', salt).update(ikm).digest();
  let t = Buffer.alloc(0);
  const out: Buffer[] = [];
  for (let i = 1; out.length * 32 < length; i++) {
    t = createHmac('sha256', prk)
      .update(Buffer.concat([t, Buffer.from(info), Buffer.of(i)]))
      .digest();
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, length);
}

describe('keyFromAuthPass', () => {
  it('is pinned: pass "secret", VRID 51, IPv4', () => {
    const k = keyFromAuthPass('secret', 51, 4);
    expect(k.bytes.toString('hex')).toBe(
      '597ffa94ea77aeb732ccd4f0778f1ee72936087e8ac2ffed3f599dd0b3f744f5',
    );
    expect(k.weak).toBe(true);
    expect(k.origin).toBe('auth-pass');
  });

  it('is HKDF-SHA256 with the documented salt and info', () => {
    for (const [pass, vrid, family] of [
      ['secret', 51, 4],
      ['', 1, 6],
      ['pässwörd', 255, 6],
    ] as const)
      expect(keyFromAuthPass(pass, vrid, family).bytes).toEqual(
        hkdf(Buffer.from(pass, 'utf8'), AUTH_PASS_SALT, `vrid=${vrid} family=${family}`, 32),
      );
  });

  it('is stable, and differs by pass, VRID and family', () => {
    const a = keyFromAuthPass('secret', 51, 4).bytes.toString('hex');
    expect(keyFromAuthPass('secret', 51, 4).bytes.toString('hex')).toBe(a);
    const others = [
      keyFromAuthPass('secreT', 51, 4),
      keyFromAuthPass('secret', 52, 4),
      keyFromAuthPass('secret', 51, 6),
    ].map((k) => k.bytes.toString('hex'));
    expect(new Set([a, ...others]).size).toBe(4);
    expect(keyFromAuthPass('secret', 52, 4).bytes.toString('hex')).toBe(
      'c51010f84cf9b5149fd4d6254f30b562c711a79091ad16fa2181b0270618949b',
    );
  });
});

function okKey(r: KeyFileResult): { hex: string; encoding: string } {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  expect(r.key.weak).toBe(false);
  expect(r.key.origin).toBe('key-file');
  return { hex: r.key.bytes.toString('hex'), encoding: r.encoding };
}

function code(r: KeyFileResult): string {
  return r.ok ? 'ok' : r.code;
}

const HEX64 = '5f1e6a0b93c24d7e8a1f0c3b2d4e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70';

describe('parseKeyFile', () => {
  it('reads 64 hex digits, any case, with a trailing newline (openssl rand -hex 32)', () => {
    expect(okKey(parseKeyFile(`${HEX64}\n`))).toEqual({ hex: HEX64, encoding: 'hex' });
    expect(okKey(parseKeyFile(`  ${HEX64.toUpperCase()}\r\n`)).hex).toBe(HEX64);
    expect(okKey(parseKeyFile(Buffer.from(HEX64))).hex).toBe(HEX64);
  });

  it('reads longer hex keys and hex wrapped over lines', () => {
    expect(okKey(parseKeyFile(`${HEX64}${HEX64}`)).hex).toBe(HEX64 + HEX64);
    expect(okKey(parseKeyFile(`${HEX64.slice(0, 32)}\n${HEX64.slice(32)}\n`)).hex).toBe(HEX64);
  });

  it('reads base64, standard or URL-safe, padded or not (openssl rand -base64 32)', () => {
    const bytes = Buffer.from(HEX64, 'hex');
    for (const text of [
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
      `${bytes.toString('base64')}\n`,
    ])
      expect(okKey(parseKeyFile(text))).toEqual({ hex: HEX64, encoding: 'base64' });
    const long = Buffer.concat([bytes, bytes]).toString('base64');
    expect(okKey(parseKeyFile(`${long.slice(0, 64)}\n${long.slice(64)}\n`)).hex).toBe(
      HEX64 + HEX64,
    );
  });

  it('reads raw binary keys byte for byte, a final 0x0a included', () => {
    const raw = Buffer.concat([Buffer.from(HEX64, 'hex'), Buffer.of(0x0a)]);
    expect(okKey(parseKeyFile(raw))).toEqual({ hex: raw.toString('hex'), encoding: 'raw' });
  });

  const bad: [string, string | Buffer, string][] = [
    ['an empty file', '', 'empty'],
    ['only white space', ' \n\t\n', 'empty'],
    ['too large', Buffer.alloc(MAX_KEY_FILE_BYTES + 1, 0x80), 'too-large'],
    ['62 hex digits', HEX64.slice(0, 62), 'too-short'],
    ['63 hex digits', HEX64.slice(0, 63), 'bad-hex'],
    ['base64 of 31 bytes', Buffer.alloc(31, 9).toString('base64'), 'too-short'],
    ['31 raw bytes', Buffer.from(HEX64, 'hex').subarray(1), 'too-short'],
    ['a passphrase', 'correct horse battery staple, fairly long\n', 'not-key-text'],
    ['mixed base64 alphabets', 'a+b/c-d_'.repeat(6), 'not-key-text'],
    ['64 zero digits', '0'.repeat(64), 'degenerate'],
    ['32 raw 0xff bytes', Buffer.alloc(32, 0xff), 'degenerate'],
  ];
  for (const [name, contents, want] of bad)
    it(`refuses ${name} (${want}) and says how to make a key`, () => {
      const r = parseKeyFile(contents);
      expect(code(r)).toBe(want);
      if (!r.ok) expect(r.message).toContain('openssl rand -hex 32');
    });
});

describe('checkKeyFileMode', () => {
  const REG = 0o100000;
  it('accepts 0600 and 0400 owned by root or by lvsd', () => {
    for (const mode of [0o600, 0o400, 0o700, REG | 0o600, REG | 0o400])
      for (const uid of [0, 990]) expect(checkKeyFileMode(mode, uid, 990)).toEqual({ ok: true });
  });

  it('refuses group or other bits, naming the mode', () => {
    for (const mode of [0o640, 0o604, 0o644, 0o660, 0o666, 0o601, REG | 0o610]) {
      const r = checkKeyFileMode(mode, 0, 0);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('too-open');
        expect(r.message).toContain(`0${(mode & 0o777).toString(8)}`);
      }
    }
  });

  it('refuses another owner', () => {
    const r = checkKeyFileMode(0o600, 1000, 990);
    expect(r).toMatchObject({ ok: false, code: 'wrong-owner' });
  });

  it('refuses what is not a regular file (directory, fifo, symlink as lstat sees it)', () => {
    for (const type of [0o040000, 0o010000, 0o120000])
      expect(checkKeyFileMode(type | 0o600, 0, 0)).toMatchObject({
        ok: false,
        code: 'not-regular',
      });
  });
});
