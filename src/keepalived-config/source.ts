/**
 * The parser reads files only through this port, so the package stays pure and tests can hand it
 * an in-memory tree. `node-source.ts` is the implementation over node:fs.
 */
export type ReadResult =
  | { readonly ok: true; readonly text: string }
  | {
      readonly ok: false;
      readonly reason: 'missing' | 'directory' | 'unreadable' | 'too-large';
      readonly detail: string;
    };

export interface SourceReader {
  /** Reads a whole file as UTF-8. */
  read(path: string): ReadResult;
  /** Names in a directory (not paths), or undefined if it cannot be listed. */
  list(dir: string): readonly string[] | undefined;
  /** True if the path exists (file or directory). */
  exists(path: string): boolean;
  /** A stable identity for cycle detection (the real path), or the path itself. */
  identity(path: string): string;
}

/** An in-memory tree of files, for tests and for configs embedded in the program. */
export class MemorySource implements SourceReader {
  private readonly files = new Map<string, string>();
  constructor(files: Record<string, string> = {}) {
    for (const [path, text] of Object.entries(files)) this.files.set(path, text);
  }
  set(path: string, text: string): void {
    this.files.set(path, text);
  }
  read(path: string): ReadResult {
    const text = this.files.get(path);
    if (text !== undefined) return { ok: true, text };
    if (this.isDir(path)) return { ok: false, reason: 'directory', detail: 'is a directory' };
    return { ok: false, reason: 'missing', detail: 'no such file' };
  }
  list(dir: string): readonly string[] | undefined {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    const names = new Set<string>();
    for (const path of this.files.keys()) {
      if (!path.startsWith(prefix)) continue;
      const name = path.slice(prefix.length).split('/')[0];
      if (name) names.add(name);
    }
    return names.size > 0 ? [...names].sort() : undefined;
  }
  exists(path: string): boolean {
    return this.files.has(path) || this.isDir(path);
  }
  identity(path: string): string {
    return path;
  }
  private isDir(path: string): boolean {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    for (const p of this.files.keys()) if (p.startsWith(prefix)) return true;
    return false;
  }
}
