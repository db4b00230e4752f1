/** The admin state file: atomic writes, corruption detected and set aside, kill -9 at any moment. */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeState } from '../../../src/admin/codec.js';
import { apply, emptyState, type AdminState } from '../../../src/admin/state.js';
import { AdminStore, decodeFile, encodeFile, STATE_FILE } from '../../../src/admin/store.js';
import { bundle } from './bundle.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sample(n = 1): AdminState {
  let s = emptyState;
  for (let i = 0; i < n; i++)
    s = apply(
      s,
      {
        type: 'drain',
        vs: 'tcp:198.18.0.10:80',
        rs: `198.18.1.${10 + i}:80`,
        by: 'alice',
        via: 'admin-socket',
        reason: `r${i}`,
        director: 'd1',
      },
      1000 + i,
    ).state;
  return s;
}

describe('AdminStore', () => {
  it('a missing file is an empty state', async () => {
    const r = await new AdminStore({ dir: path.join(dir, 'sub') }).load();
    expect(r.kind).toBe('missing');
    expect(r.state.counter).toBe(0);
  });

  it('saves atomically (mode 0600, no temp files left) and loads the same state', async () => {
    const store = new AdminStore({ dir });
    await store.save(sample(3));
    expect(readdirSync(dir)).toEqual([STATE_FILE]);
    expect(statSync(path.join(dir, STATE_FILE)).mode & 0o777).toBe(0o600);
    const r = await new AdminStore({ dir }).load();
    expect(r.kind).toBe('loaded');
    expect(encodeState(r.state)).toEqual(encodeState(sample(3)));
  });

  it('queued saves coalesce: the newest state is what ends on disk', async () => {
    const store = new AdminStore({ dir });
    await Promise.all([1, 2, 3, 4, 5].map((n) => store.save(sample(n))));
    const r = await store.load();
    expect(r.state.counter).toBe(5);
  });

  it.each([
    [
      'truncated by hand',
      (f: string) => {
        truncateSync(f, Math.floor(statSync(f).size / 2));
      },
      /not JSON/,
    ],
    [
      'emptied',
      (f: string) => {
        truncateSync(f, 0);
      },
      /empty/,
    ],
    [
      'payload edited (valid JSON, wrong checksum)',
      (f: string) => {
        writeFileSync(f, readFileSync(f, 'utf8').replace('alice', 'mallo'));
      },
      /checksum mismatch/,
    ],
    [
      'not ours',
      (f: string) => {
        writeFileSync(f, '{"hello":1}');
      },
      /format/,
    ],
  ])('a file %s is detected, set aside and reported', async (_name, damage, reason) => {
    const f = path.join(dir, STATE_FILE);
    await new AdminStore({ dir }).save(sample(2));
    const before = readFileSync(f, 'utf8');
    damage(f);
    const damaged = readFileSync(f);
    const store = new AdminStore({ dir, wallMs: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) });
    const r = await store.load();
    expect(r.kind).toBe('corrupt');
    if (r.kind !== 'corrupt') return;
    expect(r.reason).toMatch(reason);
    expect(r.keptAs).toBe(`${f}.corrupt-20260102T030405006Z`);
    expect(readFileSync(r.keptAs)).toEqual(damaged);
    expect(() => statSync(f)).toThrow();
    expect(before.length).toBeGreaterThan(0);
    // The daemon goes on with an empty state and can save again.
    await store.save(sample(1));
    expect((await store.load()).kind).toBe('loaded');
  });

  it('a file from a newer lvsd is left in place and never overwritten', async () => {
    const f = path.join(dir, STATE_FILE);
    const text = JSON.stringify({
      format: 'lvsd-admin-state',
      version: 99,
      sha256: '',
      payload: '',
    });
    writeFileSync(f, text);
    const store = new AdminStore({ dir });
    expect(await store.load()).toMatchObject({ kind: 'too-new', version: 99 });
    await expect(store.save(sample(1))).rejects.toThrow(/newer lvsd/);
    expect(readFileSync(f, 'utf8')).toBe(text);
  });

  it('temp files of a killed writer are removed on load; the state file is kept', async () => {
    await new AdminStore({ dir }).save(sample(1));
    writeFileSync(path.join(dir, `.${STATE_FILE}.tmp-123-1`), '{"torn');
    const r = await new AdminStore({ dir }).load();
    expect(r.kind).toBe('loaded');
    expect(readdirSync(dir)).toEqual([STATE_FILE]);
  });

  it('an unreadable file is an I/O error, not "corrupt" (nothing is set aside)', async () => {
    if (process.getuid?.() === 0) return; // root reads anything
    await new AdminStore({ dir }).save(sample(1));
    chmodSync(path.join(dir, STATE_FILE), 0);
    await expect(new AdminStore({ dir }).load()).rejects.toThrow(/EACCES/);
  });

  it('decodeFile round-trips encodeFile', () => {
    const r = decodeFile(encodeFile(sample(4)));
    expect(r.ok && encodeState(r.state)).toEqual(encodeState(sample(4)));
  });
});

describe('kill -9 during writes', () => {
  let script: string;
  beforeAll(async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'lvsd-writer-'));
    script = await bundle(new URL('./fixtures/store-writer.ts', import.meta.url).pathname, out);
  });

  it('the state always loads as the last acknowledged state or the one in flight', async () => {
    const iterations = 30;
    let acked = 0;
    for (let i = 0; i < iterations; i++) {
      const child = spawn(process.execPath, [script, dir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let buf = '';
      let saves = 0;
      const killAfter = 1 + Math.floor(Math.random() * 25);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.stdout.on('data', (chunk: Buffer) => {
          buf += chunk.toString();
          for (const m of buf.matchAll(/saved (\d+)\n/g)) acked = Math.max(acked, Number(m[1]));
          saves = (buf.match(/saved/g) ?? []).length;
          if (saves >= killAfter) {
            // Kill a little later, at a random point of the next write.
            setTimeout(() => child.kill('SIGKILL'), Math.random() * 3);
          }
        });
        child.on('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      expect(buf).not.toMatch(/bad/);
      const r = await new AdminStore({ dir }).load();
      expect(r.kind, `iteration ${i}: ${r.kind === 'corrupt' ? r.reason : ''}`).toBe('loaded');
      expect(r.state.counter).toBeGreaterThanOrEqual(acked);
      expect(r.state.counter).toBeLessThanOrEqual(acked + 1);
      acked = r.state.counter;
    }
    expect(acked).toBeGreaterThan(iterations);
  }, 60_000);
});
