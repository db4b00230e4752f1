/** Maintenance windows declared in the lvsd block: parsed, checked, and synced into admin state. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdminService, type AdminStateStore } from '../../../src/admin/service.js';
import { emptyState, merge, type AdminState } from '../../../src/admin/state.js';
import type { LoadOutcome } from '../../../src/admin/store.js';
import { describedHost, loadConfig } from '../../../src/config/index.js';
import { nodeSource } from '../../../src/keepalived-config/index.js';
import type { Clock } from '../../../src/lib/clock.js';

const clock: Clock = { wallMs: () => Date.now(), monotonicMs: () => Date.now() };
const dir = mkdtempSync(join(tmpdir(), 'lvsd-cfg-windows-'));
const VS = 'tcp:198.18.0.10:80';
const RS = '198.18.1.11:80';

function load(maint: string) {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(
    f,
    `virtual_server 198.18.0.10 80 {
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 1
    }
}
lvsd {
${maint}
}
`,
  );
  return loadConfig(f, {
    source: nodeSource(),
    host: describedHost({ interfaces: ['lo'], executables: [] }),
    configId: 't',
    hostname: 't',
  });
}

class MemoryStore implements AdminStateStore {
  state: AdminState = emptyState;
  load(): Promise<LoadOutcome> {
    return Promise.resolve({ kind: 'missing', state: this.state, file: 'mem' });
  }
  save(state: AdminState): Promise<void> {
    this.state = state;
    return Promise.resolve();
  }
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 0, 4, 2, 0));
});
afterEach(() => {
  vi.useRealTimers();
});

const weekly = `maintenance ${VS} ${RS} {
    at "0 3 * * 0"
    for 30m
    timezone Europe/Berlin
    reason "weekly patching"
}`;

describe('maintenance in the lvsd block', () => {
  it('is parsed with a content id, checked, and reported with its line', () => {
    const r = load(weekly);
    expect(r.config?.daemon.maintenance).toEqual([
      {
        id: expect.stringMatching(/^cfg-[0-9a-f]{12}$/) as unknown,
        vs: VS,
        rs: RS,
        cron: '0 3 * * 0',
        durationMs: 30 * 60_000,
        timezone: 'Europe/Berlin',
        reason: 'weekly patching',
      },
    ]);
    expect(load(weekly).config?.daemon.maintenance[0]?.id).toBe(
      r.config?.daemon.maintenance[0]?.id,
    );
    const bad = load(
      `maintenance ${VS} 198.18.1.99:80 {\n at "0 3 * * 0"\n for 1h\n}\nmaintenance ${VS} ${RS} {\n at "61 3 * * 0"\n for 1h\n}\nmaintenance ${VS} ${RS} {\n at "0 3 * * 0"\n for soon\n}`,
    );
    expect(bad.config?.daemon.maintenance).toEqual([]);
    const text = bad.diagnostics.map((d) => `${d.at?.line ?? 0}: ${d.message}`).join('\n');
    expect(text).toMatch(
      /^\d+: maintenance: tcp:198.18.0.10:80 has no real server 198.18.1.99:80/m,
    );
    expect(text).toMatch(/invalid cron expression '61 3 \* \* 0'/);
    expect(text).toMatch(/'soon' is not a duration/);
  });

  it('syncs into admin state: added once, cancelled when gone from the config', async () => {
    const store = new MemoryStore();
    const { service } = await AdminService.open({ store, clock, director: 'dir1' });
    const windows = load(weekly).config?.daemon.maintenance ?? [];
    await service.syncConfigWindows(windows);
    await service.syncConfigWindows(windows);
    expect(service.windows().map((w) => [w.id, w.by, w.reason])).toEqual([
      [windows[0]?.id, 'config', 'weekly patching'],
    ]);
    // An operator's own window is not the configuration's to cancel.
    await service.run({
      type: 'maint-add',
      vs: VS,
      rs: RS,
      cron: '0 4 * * *',
      durationMs: 60_000,
      timezone: 'UTC',
      reason: 'ops',
      by: 'alice',
    });
    await service.syncConfigWindows([]);
    expect(service.windows().map((w) => w.by)).toEqual(['alice']);
    await service.stop();
  });

  it('both directors declare the same window: replication merges it into one', async () => {
    const windows = load(weekly).config?.daemon.maintenance ?? [];
    const a = await AdminService.open({ store: new MemoryStore(), clock, director: 'dir1' });
    const b = await AdminService.open({ store: new MemoryStore(), clock, director: 'dir2' });
    await a.service.syncConfigWindows(windows);
    await b.service.syncConfigWindows(windows);
    const merged = merge(a.service.state, b.service.state);
    expect([...merged.windows.values()].filter((e) => e.window).length).toBe(1);
    await a.service.stop();
    await b.service.stop();
  });
});
