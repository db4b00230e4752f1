/**
 * Maintenance windows on a fake clock (vitest fake timers drive node-cron, which reads the
 * global Date and setTimeout), including both daylight-saving changes in Europe/Berlin.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MaintScheduler, windowProblem } from '../../../src/admin/schedule.js';
import { AdminService, type AdminStateStore } from '../../../src/admin/service.js';
import { emptyState, type AdminState, type MaintWindow } from '../../../src/admin/state.js';
import type { LoadOutcome } from '../../../src/admin/store.js';
import type { Clock } from '../../../src/lib/clock.js';

const clock: Clock = { wallMs: () => Date.now(), monotonicMs: () => Date.now() };
const quiet = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};
const H = 3_600_000;

function win(cron: string, timezone = 'Europe/Berlin', durationMs = H): MaintWindow {
  return {
    id: 'w1',
    vs: 'tcp:198.18.0.10:80',
    rs: '198.18.1.11:80',
    cron,
    durationMs,
    timezone,
    reason: 'patch',
    by: 'ops',
    at: 0,
  };
}

class MemoryStore implements AdminStateStore {
  saved: AdminState[] = [];
  constructor(private readonly initial: AdminState = emptyState) {}
  load(): Promise<LoadOutcome> {
    return Promise.resolve({ kind: 'missing', state: this.initial, file: 'mem' });
  }
  save(state: AdminState): Promise<void> {
    this.saved.push(state);
    return Promise.resolve();
  }
}

beforeEach(() => {
  // setImmediate too: lvsd's timers run their callback in the check phase (timer-port.ts).
  vi.useFakeTimers({
    toFake: [
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'Date',
      'setImmediate',
      'clearImmediate',
    ],
  });
});
afterEach(() => {
  vi.useRealTimers();
});

async function firesBetween(w: MaintWindow, fromUtc: number, days: number): Promise<string[]> {
  vi.setSystemTime(fromUtc);
  const fired: string[] = [];
  const s = new MaintScheduler({
    clock,
    onFire: () => fired.push(new Date().toISOString()),
    onExpiry: () => undefined,
    logger: quiet,
  });
  s.sync([w]);
  await vi.advanceTimersByTimeAsync(days * 24 * H);
  await s.stop();
  return fired;
}

describe('MaintScheduler', () => {
  it('fires at the cron time in the window’s zone, not the host’s', async () => {
    expect(
      await firesBetween(win('0 3 * * *', 'America/New_York'), Date.UTC(2026, 0, 10, 0), 2),
    ).toEqual(['2026-01-10T08:00:00.000Z', '2026-01-11T08:00:00.000Z']);
  });

  it('spring forward (Europe/Berlin, 2026-03-29): 02:30 does not exist, so that day has no window', async () => {
    expect(await firesBetween(win('30 2 * * *'), Date.UTC(2026, 2, 27, 12), 4)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('spring forward: a window at 03:00 local keeps its local time, one hour earlier in UTC', async () => {
    expect(await firesBetween(win('0 3 * * *'), Date.UTC(2026, 2, 28, 12), 2)).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T01:00:00.000Z',
    ]);
  });

  it('fall back (Europe/Berlin, 2026-10-25): 02:30 happens twice, the window runs once', async () => {
    expect(await firesBetween(win('30 2 * * *'), Date.UTC(2026, 9, 23, 12), 3)).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T01:30:00.000Z', // the second 02:30 (CET)
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('sync replaces a changed window and drops a removed one', async () => {
    vi.setSystemTime(Date.UTC(2026, 0, 1, 0));
    const fired: string[] = [];
    const s = new MaintScheduler({
      clock,
      onFire: (id) => fired.push(id),
      onExpiry: () => undefined,
      logger: quiet,
    });
    s.sync([win('0 * * * *', 'UTC')]);
    expect(s.nextRun('w1')).toBe(Date.UTC(2026, 0, 1, 1));
    s.sync([win('30 * * * *', 'UTC')]);
    expect(s.nextRun('w1')).toBe(Date.UTC(2026, 0, 1, 0, 30));
    s.sync([]);
    await vi.advanceTimersByTimeAsync(2 * H);
    expect(fired).toEqual([]);
    await s.stop();
  });

  it('windowProblem names a bad cron field or zone', () => {
    expect(windowProblem('0 3 * * 0', 'UTC')).toBeUndefined();
    expect(windowProblem('61 3 * * 0', 'UTC')).toMatch(/invalid cron expression '61 3 \* \* 0'/);
    expect(windowProblem('0 3 * * 0', 'Mars/Olympus')).toMatch(/unknown time zone 'Mars\/Olympus'/);
  });
});

describe('AdminService with windows', () => {
  async function open(store = new MemoryStore()) {
    const changes: string[] = [];
    const { service } = await AdminService.open({
      store,
      clock,
      director: 'd1',
      onChange: (c) => changes.push(c.kind === 'command' ? c.command.type : c.kind),
    });
    return { service, store, changes };
  }

  it('drains at the cron time for the duration, then undrains', async () => {
    vi.setSystemTime(Date.UTC(2026, 0, 1, 2, 59));
    const { service, changes } = await open();
    const add = await service.run({
      type: 'maint-add',
      vs: 'tcp:198.18.0.10:80',
      rs: '198.18.1.11:80',
      cron: '0 3 * * *',
      durationMs: 30 * 60_000,
      timezone: 'UTC',
      reason: 'patch',
      by: 'ops',
    });
    expect(add).toMatchObject({ ok: true, window: { id: 'd1-1' } });
    expect(service.windows()[0]?.nextRun).toBe(Date.UTC(2026, 0, 1, 3));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(service.drainOf('tcp:198.18.0.10:80', '198.18.1.11:80')).toMatchObject({
      via: 'schedule',
      until: Date.UTC(2026, 0, 1, 3, 30),
      window: 'd1-1',
    });
    // + 1: the expiry's timer hands its callback to the check phase, the next fake tick.
    await vi.advanceTimersByTimeAsync(30 * 60_000 + 1);
    expect(service.drained('tcp:198.18.0.10:80', '198.18.1.11:80')).toBe(false);
    expect(changes).toEqual(['maint-add', 'window-start', 'expired']);
    await service.stop();
  });

  it('a drain made by hand during the window outlives it', async () => {
    vi.setSystemTime(Date.UTC(2026, 0, 1, 2, 59));
    const { service } = await open();
    await service.run({
      type: 'maint-add',
      vs: 'tcp:198.18.0.10:80',
      rs: '198.18.1.11:80',
      cron: '0 3 * * *',
      durationMs: 30 * 60_000,
      timezone: 'UTC',
      reason: '',
      by: 'ops',
    });
    await vi.advanceTimersByTimeAsync(61_000);
    await service.run({
      type: 'drain',
      vs: 'tcp:198.18.0.10:80',
      rs: '198.18.1.11:80',
      by: 'alice',
      via: 'admin-socket',
    });
    await vi.advanceTimersByTimeAsync(2 * H);
    expect(service.drainOf('tcp:198.18.0.10:80', '198.18.1.11:80')?.by).toBe('alice');
    await service.stop();
  });

  it('a window in force when lvsd restarts keeps its end; one already over is expired at start', async () => {
    vi.setSystemTime(Date.UTC(2026, 0, 1, 2, 59));
    const first = await open();
    await first.service.run({
      type: 'maint-add',
      vs: 'tcp:198.18.0.10:80',
      rs: '198.18.1.11:80',
      cron: '0 3 * * *',
      durationMs: 30 * 60_000,
      timezone: 'UTC',
      reason: '',
      by: 'ops',
    });
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    await first.service.stop();
    const saved = first.store.saved.at(-1) ?? emptyState;
    const again = await open(new MemoryStore(saved));
    expect(again.service.drained('tcp:198.18.0.10:80', '198.18.1.11:80')).toBe(true);
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    expect(again.service.drained('tcp:198.18.0.10:80', '198.18.1.11:80')).toBe(false);
    await again.service.stop();
    vi.setSystemTime(Date.UTC(2026, 0, 1, 5));
    const late = await open(new MemoryStore(saved));
    expect(late.service.drained('tcp:198.18.0.10:80', '198.18.1.11:80')).toBe(false);
    expect(late.changes).toEqual(['expired']);
    await late.service.stop();
  });

  it('a bad cron expression is refused and nothing is saved', async () => {
    const { service, store } = await open();
    const r = await service.run({
      type: 'maint-add',
      vs: 'a',
      rs: 'b',
      cron: 'every sunday',
      durationMs: H,
      timezone: 'UTC',
      reason: '',
      by: 'ops',
    });
    expect(r).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(store.saved).toEqual([]);
    await service.stop();
  });

  it('a change that cannot be saved is rolled back and the error thrown', async () => {
    const store = new MemoryStore();
    store.save = () => Promise.reject(new Error('disk full'));
    const { service } = await open(store);
    await expect(
      service.run({ type: 'drain', vs: 'a', rs: 'b', by: 'x', via: 'admin-socket' }),
    ).rejects.toThrow('disk full');
    expect(service.drained('a', 'b')).toBe(false);
    await service.stop();
  });
});
