/**
 * The admin state on disk: one JSON file in the state directory, written atomically
 * (temp file in the same directory, fsync, rename over, fsync the directory) so a crash at any
 * moment leaves either the old or the new file. The file carries a format version and the
 * SHA-256 of its payload, so a torn or edited file is detected. A corrupt file is set aside as
 * `admin-state.json.corrupt-<time>` and reported — never silently dropped or overwritten.
 *
 * File format (version 1):
 *   { "format": "lvsd-admin-state", "version": 1, "sha256": HEX, "payload": TEXT }
 * where TEXT is the JSON of the encoded state (a string, so the checksum covers exact bytes).
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { posix as path } from 'node:path';
import { decodeState, encodeState } from './codec.js';
import { emptyState, type AdminState } from './state.js';

export const STATE_FILE = 'admin-state.json';
export const FORMAT = 'lvsd-admin-state';
export const FORMAT_VERSION = 1;
const TMP_PREFIX = `.${STATE_FILE}.tmp-`;

export type LoadOutcome =
  | { readonly kind: 'missing'; readonly state: AdminState; readonly file: string }
  | { readonly kind: 'loaded'; readonly state: AdminState; readonly file: string }
  /** Set aside (renamed to `keptAs`); the daemon starts from an empty state and must say so loudly. */
  | {
      readonly kind: 'corrupt';
      readonly state: AdminState;
      readonly file: string;
      readonly reason: string;
      readonly keptAs: string;
    }
  /** Written by a newer lvsd: left in place, and the store refuses to overwrite it. */
  | {
      readonly kind: 'too-new';
      readonly state: AdminState;
      readonly file: string;
      readonly version: number;
    };

export function encodeFile(state: AdminState): string {
  const payload = JSON.stringify(encodeState(state));
  return `${JSON.stringify({ format: FORMAT, version: FORMAT_VERSION, sha256: sha256(payload), payload })}\n`;
}

export type ParsedFile =
  { ok: true; state: AdminState } | { ok: false; reason: string; tooNew?: number };

/** Checks and decodes a file's text (pure apart from hashing). */
export function decodeFile(text: string): ParsedFile {
  if (text.length === 0) return { ok: false, reason: 'the file is empty' };
  let outer: unknown;
  try {
    outer = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON (torn write?): ${(err as Error).message}` };
  }
  if (outer === null || typeof outer !== 'object')
    return { ok: false, reason: 'not an lvsd admin state file' };
  const o = outer as Record<string, unknown>;
  if (o['format'] !== FORMAT) return { ok: false, reason: `format is not "${FORMAT}"` };
  const version = o['version'];
  if (typeof version !== 'number' || !Number.isInteger(version))
    return { ok: false, reason: 'no format version' };
  if (version > FORMAT_VERSION)
    return {
      ok: false,
      reason: `format version ${version} is newer than this lvsd`,
      tooNew: version,
    };
  const payload = o['payload'];
  if (typeof payload !== 'string' || typeof o['sha256'] !== 'string')
    return { ok: false, reason: 'no payload or checksum' };
  if (sha256(payload) !== o['sha256'])
    return { ok: false, reason: 'checksum mismatch: the payload was changed or torn' };
  let inner: unknown;
  try {
    inner = JSON.parse(payload);
  } catch (err) {
    return { ok: false, reason: `payload is not JSON: ${(err as Error).message}` };
  }
  const decoded = decodeState(inner);
  return decoded.ok ? decoded : { ok: false, reason: `payload: ${decoded.reason}` };
}

export interface AdminStoreOptions {
  readonly dir: string;
  /** Wall-clock ms, for the name of a set-aside file. */
  readonly wallMs?: () => number;
}

export class AdminStore {
  readonly file: string;
  private readonly wallMs: () => number;
  private writing: Promise<void> = Promise.resolve();
  private pending: AdminState | undefined;
  private refuseWrites: string | undefined;
  private seq = 0;

  constructor(private readonly opts: AdminStoreOptions) {
    this.file = path.join(opts.dir, STATE_FILE);
    this.wallMs = opts.wallMs ?? (() => Date.now());
  }

  /** Reads the state. Never throws for a bad file (see LoadOutcome); throws for I/O errors. */
  async load(): Promise<LoadOutcome> {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o750 });
    await this.removeStaleTemps();
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { kind: 'missing', state: emptyState, file: this.file };
      throw err;
    }
    const parsed = decodeFile(text);
    if (parsed.ok) return { kind: 'loaded', state: parsed.state, file: this.file };
    if (parsed.tooNew !== undefined) {
      this.refuseWrites = `${this.file} was written by a newer lvsd (format ${parsed.tooNew})`;
      return { kind: 'too-new', state: emptyState, file: this.file, version: parsed.tooNew };
    }
    const keptAs = await freeName(
      `${this.file}.corrupt-${new Date(this.wallMs()).toISOString().replace(/[-:.]/g, '')}`,
    );
    await rename(this.file, keptAs);
    await fsyncDir(this.opts.dir);
    return { kind: 'corrupt', state: emptyState, file: this.file, reason: parsed.reason, keptAs };
  }

  /**
   * Writes the state atomically. Saves are serialised; when several are queued only the
   * newest is written. Resolves when a write that includes this state is durable.
   */
  save(state: AdminState): Promise<void> {
    if (this.refuseWrites)
      return Promise.reject(new Error(`${this.refuseWrites}: not overwritten`));
    const first = this.pending === undefined;
    this.pending = state;
    if (!first) return this.writing;
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        const s = this.pending;
        this.pending = undefined;
        if (s) await this.write(s);
      });
    return this.writing;
  }

  private async write(state: AdminState): Promise<void> {
    const tmp = path.join(this.opts.dir, `${TMP_PREFIX}${process.pid}-${++this.seq}`);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(encodeFile(state), 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await fsyncDir(this.opts.dir);
  }

  /** Temp files a killed writer left behind (never the state file itself). */
  private async removeStaleTemps(): Promise<void> {
    for (const name of await readdir(this.opts.dir)) {
      if (name.startsWith(TMP_PREFIX))
        await unlink(path.join(this.opts.dir, name)).catch(() => undefined);
    }
  }
}

/** `base`, or `base-2`, `base-3`… if taken: an earlier bad file is never overwritten. */
async function freeName(base: string): Promise<string> {
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    try {
      await lstat(name);
    } catch {
      return name;
    }
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
