/** SourceReader over node:fs (the shell side of the parser package). */
import { isAscii } from 'node:buffer';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import type { ReadResult, SourceReader } from './source.js';

export interface NodeSourceOptions {
  /** Files larger than this are refused (a config is text, not a log file). */
  readonly maxFileBytes?: number;
}

export function nodeSource(options: NodeSourceOptions = {}): SourceReader {
  const maxBytes = options.maxFileBytes ?? 64 * 1024 * 1024;
  return {
    read(path: string): ReadResult {
      try {
        const st = statSync(path);
        if (st.isDirectory()) return { ok: false, reason: 'directory', detail: 'is a directory' };
        if (st.size > maxBytes) {
          return { ok: false, reason: 'too-large', detail: `${st.size} bytes, limit ${maxBytes}` };
        }
        // Nearly every config is ASCII, which reads the same as latin1: a plain copy, where
        // UTF-8 decoding checks every byte (2 of 5 ms on a 2.8 MB file).
        const bytes = readFileSync(path);
        return { ok: true, text: bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8') };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          return { ok: false, reason: 'missing', detail: 'no such file' };
        }
        if (code === 'EISDIR') return { ok: false, reason: 'directory', detail: 'is a directory' };
        return { ok: false, reason: 'unreadable', detail: code ?? String(err) };
      }
    },
    list(dir: string): readonly string[] | undefined {
      try {
        return readdirSync(dir).sort();
      } catch {
        return undefined;
      }
    },
    exists(path: string): boolean {
      try {
        statSync(path);
        return true;
      } catch {
        return false;
      }
    },
    identity(path: string): string {
      try {
        return realpathSync(path);
      } catch {
        return path;
      }
    },
  };
}
