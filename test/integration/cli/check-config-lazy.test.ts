/**
 * check-config loads node-cron (and node:crypto) only for a file that declares maintenance
 * windows: a real `lvsd check-config` process from dist/, watched by a probe loaded with
 * `node --import` (test/fixtures/probe/loaded-modules.mjs) that reports the built-in modules
 * and the dist/ files the process loaded. The output is the same either way (windows are
 * checked with node-cron's own messages).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const bin = path.join(repo, 'bin/lvsd.js');
const probe = path.join(repo, 'test/fixtures/probe/loaded-modules.mjs');
let dir: string;

const servers = `virtual_server 198.18.0.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 1
    }
}
`;
const windows = `lvsd {
    maintenance tcp:198.18.0.10:80 198.18.1.11:80 {
        at "61 3 * * 0"
        for 30m
    }
}
`;

interface Loaded {
  builtins: string[];
  files: string[];
}

async function checkConfig(file: string) {
  const r = await execa('node', ['--import', probe, bin, 'check-config', '-f', file], {
    reject: false,
    cwd: dir,
    timeout: 30_000,
  });
  const last = r.stderr.trimEnd().split('\n').pop() ?? '{}';
  return { exitCode: r.exitCode, stdout: r.stdout, loaded: JSON.parse(last) as Loaded };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-lazy-'));
  writeFileSync(path.join(dir, 'plain.conf'), servers);
  writeFileSync(path.join(dir, 'windows.conf'), servers + windows);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('check-config loads node-cron only when a file has maintenance windows', () => {
  it('a file without windows: no node-cron chunk, no node:crypto, no child_process', async () => {
    const r = await checkConfig('plain.conf');
    expect(r.exitCode).toBe(0);
    expect(r.loaded.files).toContain('dist/check-config.mjs');
    expect(r.loaded.files.filter((f) => f.includes('node-cron'))).toEqual([]);
    expect(r.loaded.builtins).not.toContain('crypto');
    expect(r.loaded.builtins).not.toContain('child_process');
  });

  it('a file with a window: node-cron is loaded and checks the expression', async () => {
    const r = await checkConfig('windows.conf');
    expect(r.loaded.files).toContain('dist/chunks/node-cron.mjs');
    expect(r.exitCode).toBe(5);
    expect(r.stdout).toContain(
      "windows.conf:10:5: warning: maintenance tcp:198.18.0.10:80 198.18.1.11:80: invalid cron expression '61 3 * * 0': minute: 61 is a invalid expression for minute [lvsd-block]",
    );
  });
});
