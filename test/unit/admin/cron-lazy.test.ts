/**
 * The configuration code loads node-cron only for a file with maintenance windows
 * (src/admin/cron.ts). This file imports nothing that imports the scheduler, so node-cron is
 * not loaded until loadConfigAsync needs it (vitest gives each test file its own modules).
 */
import { describe, expect, it } from 'vitest';
import { loadedCron } from '../../../src/admin/cron.js';
import {
  describedHost,
  loadConfig,
  loadConfigAsync,
  type LoadOptions,
} from '../../../src/config/index.js';
import { MemorySource } from '../../../src/keepalived-config/index.js';

const servers =
  'virtual_server 198.18.0.10 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 198.18.1.11 80 {\n }\n}\n';
const windows =
  'lvsd {\n maintenance tcp:198.18.0.10:80 198.18.1.11:80 {\n  at "0 3 * * 0"\n  for 30m\n }\n}\n';

function options(text: string): LoadOptions {
  return {
    source: new MemorySource({ '/k/keepalived.conf': text }),
    host: describedHost({ interfaces: ['lo'], executables: [], users: ['root'] }),
    configId: 'test',
    hostname: 'test',
  };
}

describe('node-cron is loaded on demand', () => {
  it('runs in order: without windows nothing loads; a window loads it; then sync works', async () => {
    const plain = await loadConfigAsync('/k/keepalived.conf', options(servers));
    expect(plain.exitStatus).toBe(0);
    expect(loadedCron()).toBeUndefined();

    // The synchronous loader refuses to guess when it would need node-cron and has none.
    expect(() => loadConfig('/k/keepalived.conf', options(servers + windows))).toThrow(
      /node-cron is not loaded/,
    );

    const r = await loadConfigAsync('/k/keepalived.conf', options(servers + windows));
    expect(loadedCron()).toBeDefined();
    expect(r.diagnostics).toEqual([]);
    expect(r.config?.daemon.maintenance.map((w) => w.cron)).toEqual(['0 3 * * 0']);
    // Loaded once, the synchronous path gives the same result.
    const again = loadConfig('/k/keepalived.conf', options(servers + windows));
    expect(again.config?.daemon.maintenance).toEqual(r.config?.daemon.maintenance);
  });
});
