/**
 * Advert keys (ruling 11), pure: the shell reads files and stats them; these functions decide.
 *
 * - keepalived `auth_pass` (auth_type PASS or AH) → a 32-byte key by HKDF-SHA256, flagged
 *   `weak`: an auth_pass is at most 8 characters, and anyone who captures one advert can try
 *   passwords offline against its MAC. It is still far better than keepalived's PASS, which
 *   sends the password in clear.
 * - a key file named in the lvsd block → its bytes (hex, base64 or raw, at least 32 bytes), used
 *   as the HMAC key as they are; the file must be 0600 or stricter and owned by root or by
 *   lvsd's own user.
 */
import { hkdfSync } from 'node:crypto';

export interface WireKey {
  readonly bytes: Buffer;
  /** Derived from a short password: check-config and the daemon warn. */
  readonly weak: boolean;
  readonly origin: 'auth-pass' | 'key-file';
}

export const KEY_BYTES = 32;
/** HKDF salt for auth_pass keys. Changing it changes every derived key: a format change. */
export const AUTH_PASS_SALT = 'lvsd heartbeat v1 auth_pass';

/**
 * HKDF-SHA256(ikm = UTF-8 of the pass, salt = AUTH_PASS_SALT, info = "vrid=N family=F", 32).
 * The VRID and family are in `info` so two instances that share a password (a common copy and
 * paste) still have different keys. PASS and AH give the same key: lvsd does not send AH, both
 * only name a shared password.
 */
export function keyFromAuthPass(pass: string, vrid: number, family: 4 | 6): WireKey {
  const info = `vrid=${vrid} family=${family}`;
  const bytes = Buffer.from(
    hkdfSync('sha256', Buffer.from(pass, 'utf8'), AUTH_PASS_SALT, info, KEY_BYTES),
  );
  return { bytes, weak: true, origin: 'auth-pass' };
}

export type KeyFileErrorCode =
  'empty' | 'too-large' | 'too-short' | 'bad-hex' | 'not-key-text' | 'degenerate';

export type KeyFileResult =
  | { readonly ok: true; readonly key: WireKey; readonly encoding: 'hex' | 'base64' | 'raw' }
  | { readonly ok: false; readonly code: KeyFileErrorCode; readonly message: string };

/** A key file larger than this is refused before it is looked at. */
export const MAX_KEY_FILE_BYTES = 4096;

const MAKE_ONE = 'make one with: openssl rand -hex 32 > FILE && chmod 600 FILE';
const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]+|[A-Za-z0-9_-]+)={0,2}$/;

function keyError(code: KeyFileErrorCode, message: string): KeyFileResult {
  return { ok: false, code, message: `${message}; ${MAKE_ONE}` };
}

function isTextByte(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || b === 0x09 || b === 0x0a || b === 0x0d;
}

function accepted(bytes: Buffer, encoding: 'hex' | 'base64' | 'raw'): KeyFileResult {
  if (bytes.length < KEY_BYTES)
    return keyError(
      'too-short',
      `the ${encoding} key has ${bytes.length} bytes, at least ${KEY_BYTES} are needed`,
    );
  if (bytes.every((b) => b === bytes[0]))
    return keyError('degenerate', `the ${encoding} key is one byte repeated, not a random key`);
  return { ok: true, key: { bytes, weak: false, origin: 'key-file' }, encoding };
}

/**
 * The key in a key file's contents. A file of text (printable ASCII and line breaks) holds
 * the key as hex (only hex digits: 64 or more, even) or base64 (standard or URL-safe, padding
 * optional, may be wrapped over lines), with surrounding white space ignored; any other text
 * (a passphrase) is refused. Any other file is the raw key, every byte as it is.
 */
export function parseKeyFile(contents: string | Uint8Array): KeyFileResult {
  const raw = typeof contents === 'string' ? Buffer.from(contents, 'utf8') : Buffer.from(contents);
  if (raw.length > MAX_KEY_FILE_BYTES)
    return keyError(
      'too-large',
      `the key file has ${raw.length} bytes, at most ${MAX_KEY_FILE_BYTES}`,
    );
  if (!raw.every(isTextByte)) return accepted(raw, 'raw');
  const text = raw.toString('latin1').trim();
  if (text === '') return keyError('empty', 'the key file is empty');
  const joined = text.replace(/\r?\n/g, '');
  if (HEX.test(joined)) {
    if (joined.length % 2 !== 0)
      return keyError('bad-hex', `the hex key has an odd number of digits (${joined.length})`);
    return accepted(Buffer.from(joined, 'hex'), 'hex');
  }
  const unpadded = joined.replace(/=+$/, '');
  if (BASE64.test(joined) && unpadded.length % 4 !== 1)
    return accepted(Buffer.from(unpadded, 'base64'), 'base64');
  return keyError(
    'not-key-text',
    'the key file holds text that is neither hex nor base64 (a passphrase is not a key)',
  );
}

export type KeyFileModeCode = 'not-regular' | 'too-open' | 'wrong-owner';

export type KeyFileModeResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: KeyFileModeCode; readonly message: string };

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/**
 * Whether a key file's stat may be trusted (ruling 11): a regular file (when `mode` carries the
 * file type bits, as fs.Stats.mode does), no permission bits for group or others (0600, 0400
 * or stricter), owned by root or by `processUid` (the user lvsd runs as). The shell should
 * fstat the descriptor it reads from, so the checked file is the file read.
 */
export function checkKeyFileMode(mode: number, uid: number, processUid: number): KeyFileModeResult {
  const type = mode & S_IFMT;
  if (type !== 0 && type !== S_IFREG)
    return { ok: false, code: 'not-regular', message: 'the key file is not a regular file' };
  if ((mode & 0o077) !== 0)
    return {
      ok: false,
      code: 'too-open',
      message: `the key file has mode ${octal(mode)}: group or others may read it; chmod 600 it`,
    };
  if (uid !== 0 && uid !== processUid)
    return {
      ok: false,
      code: 'wrong-owner',
      message: `the key file is owned by uid ${uid}, not root or lvsd's user (uid ${processUid})`,
    };
  return { ok: true };
}
