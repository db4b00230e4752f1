/** The admin reducer: drain/undrain/maint/window-start/expire as tables of (state, command) → result. */
import { describe, expect, it } from 'vitest';
import {
  apply,
  drainOf,
  emptyState,
  expire,
  liveWindows,
  nextExpiry,
  type AdminCommand,
  type AdminState,
} from '../../../src/admin/state.js';
import { decodeState, encodeState } from '../../../src/admin/codec.js';

const VS = 'tcp:198.18.0.10:80';
const RS = '198.18.1.11:80';
const T0 = Date.UTC(2026, 2, 1, 12);

function run(state: AdminState, cmds: AdminCommand[], now = T0): AdminState {
  for (const c of cmds) state = apply(state, c, now).state;
  return state;
}

const drain = (extra: Partial<Extract<AdminCommand, { type: 'drain' }>> = {}): AdminCommand => ({
  type: 'drain',
  vs: VS,
  rs: RS,
  by: 'alice',
  via: 'admin-socket',
  director: 'd1',
  reason: 'kernel upgrade',
  ...extra,
});
const undrain: AdminCommand = {
  type: 'undrain',
  vs: VS,
  rs: RS,
  by: 'bob',
  via: 'admin-socket',
  director: 'd1',
};
const addWindow: AdminCommand = {
  type: 'maint-add',
  vs: VS,
  rs: RS,
  cron: '0 3 * * 0',
  durationMs: 3_600_000,
  timezone: 'Europe/Berlin',
  reason: 'weekly patching',
  by: 'ops',
  director: 'd1',
};

describe('drain and undrain', () => {
  it('drain records who, how, when and why, and bumps the Lamport counter', () => {
    const t = apply(emptyState, drain(), T0);
    expect(t.result).toEqual({
      ok: true,
      changed: true,
      override: {
        kind: 'drain',
        by: 'alice',
        via: 'admin-socket',
        at: T0,
        reason: 'kernel upgrade',
      },
      previous: null,
    });
    expect(t.state.counter).toBe(1);
    expect(t.state.overrides.get(`${VS}/${RS}`)?.version).toEqual({ counter: 1, director: 'd1' });
    expect(drainOf(t.state, VS, RS)?.by).toBe('alice');
  });

  it('the same drain again changes nothing and keeps the original time', () => {
    const s = run(emptyState, [drain()]);
    const t = apply(s, drain(), T0 + 5000);
    expect(t.result).toMatchObject({ ok: true, changed: false });
    expect(t.state).toBe(s);
    expect(drainOf(t.state, VS, RS)?.at).toBe(T0);
  });

  it('a drain with a new reason replaces the old one', () => {
    const s = run(emptyState, [drain()]);
    const t = apply(s, drain({ by: 'carol', reason: 'disk' }), T0 + 1);
    expect(t.result).toMatchObject({ ok: true, changed: true, previous: { by: 'alice' } });
    expect(drainOf(t.state, VS, RS)).toMatchObject({ by: 'carol', reason: 'disk' });
    expect(t.state.counter).toBe(2);
  });

  it('undrain leaves a tombstone (so it replicates) and reports what it ended', () => {
    const s = run(emptyState, [drain()]);
    const t = apply(s, undrain, T0 + 10);
    expect(t.result).toMatchObject({
      ok: true,
      changed: true,
      override: null,
      previous: { by: 'alice' },
    });
    expect(drainOf(t.state, VS, RS)).toBeUndefined();
    expect(t.state.overrides.get(`${VS}/${RS}`)).toEqual({
      vs: VS,
      rs: RS,
      version: { counter: 2, director: 'd1' },
      override: null,
    });
  });

  it('undrain of a server that is not drained succeeds and changes nothing', () => {
    const t = apply(emptyState, undrain, T0);
    expect(t.result).toEqual({ ok: true, changed: false, override: null, previous: null });
    expect(t.state).toBe(emptyState);
  });
});

describe('maintenance windows', () => {
  it('maint-add creates a window with a deterministic id', () => {
    const t = apply(emptyState, addWindow, T0);
    expect(t.result).toMatchObject({
      ok: true,
      changed: true,
      window: { id: 'd1-1', cron: '0 3 * * 0' },
    });
    expect(liveWindows(t.state).map((w) => w.id)).toEqual(['d1-1']);
  });

  it('maint-add refuses a zero duration and changes nothing', () => {
    const t = apply(emptyState, { ...addWindow, durationMs: 0 }, T0);
    expect(t.result).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    expect(t.state).toBe(emptyState);
  });

  it('window-start drains via schedule until start + duration; expire ends it', () => {
    const s = run(emptyState, [addWindow]);
    const t = apply(s, { type: 'window-start', id: 'd1-1', director: 'd1' }, T0 + 100);
    expect(t.result).toMatchObject({ ok: true, changed: true });
    const o = drainOf(t.state, VS, RS);
    expect(o).toEqual({
      kind: 'drain',
      by: 'ops',
      via: 'schedule',
      at: T0 + 100,
      reason: 'weekly patching',
      until: T0 + 100 + 3_600_000,
      window: 'd1-1',
    });
    expect(nextExpiry(t.state)).toBe(T0 + 100 + 3_600_000);
    expect(expire(t.state, T0 + 3_600_099).expired).toEqual([]);
    const e = expire(t.state, T0 + 3_600_100);
    expect(e.expired).toHaveLength(1);
    expect(drainOf(e.state, VS, RS)).toBeUndefined();
    expect(e.state.overrides.get(`${VS}/${RS}`)).toMatchObject({ override: null, expired: true });
    // drainOf with a time already treats it as over, before expire runs.
    expect(drainOf(t.state, VS, RS, T0 + 3_600_100)).toBeUndefined();
  });

  it('a window does not take over a drain made by hand, and its end does not undo it', () => {
    const s = run(emptyState, [addWindow, drain()]);
    const t = apply(s, { type: 'window-start', id: 'd1-1', director: 'd1' }, T0);
    expect(t.result).toMatchObject({
      ok: true,
      changed: false,
      skipped: 'already drained by alice (admin-socket)',
    });
    expect(expire(t.state, T0 + 10 * 3_600_000).expired).toEqual([]);
    expect(drainOf(t.state, VS, RS)?.by).toBe('alice');
  });

  it('an operator drain during a window replaces it and survives the window end', () => {
    let s = run(emptyState, [addWindow]);
    s = apply(s, { type: 'window-start', id: 'd1-1', director: 'd1' }, T0).state;
    s = apply(s, drain(), T0 + 1).state;
    expect(drainOf(s, VS, RS)).not.toHaveProperty('until');
    expect(expire(s, T0 + 10 * 3_600_000).expired).toEqual([]);
  });

  it('maint-cancel removes the window and ends its own drain, not someone else’s', () => {
    let s = run(emptyState, [addWindow]);
    s = apply(s, { type: 'window-start', id: 'd1-1', director: 'd1' }, T0).state;
    const t = apply(s, { type: 'maint-cancel', id: 'd1-1', by: 'ops', director: 'd1' }, T0 + 5);
    expect(t.result).toMatchObject({ ok: true, changed: true, override: null });
    expect(drainOf(t.state, VS, RS)).toBeUndefined();
    expect(liveWindows(t.state)).toEqual([]);

    const s2 = run(emptyState, [addWindow, drain()]);
    const t2 = apply(s2, { type: 'maint-cancel', id: 'd1-1', by: 'ops', director: 'd1' }, T0);
    expect(drainOf(t2.state, VS, RS)?.by).toBe('alice');
  });

  it('maint-cancel and window-start of an unknown window are NOT_FOUND', () => {
    expect(
      apply(emptyState, { type: 'maint-cancel', id: 'x', by: 'o', director: 'd1' }, T0).result,
    ).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    });
    expect(
      apply(emptyState, { type: 'window-start', id: 'x', director: 'd1' }, T0).result,
    ).toMatchObject({
      ok: false,
      code: 'NOT_FOUND',
    });
  });
});

describe('codec', () => {
  it('round-trips a state with drains, tombstones and windows', () => {
    let s = run(emptyState, [
      addWindow,
      drain(),
      undrain,
      drain({ vs: 'fwm:7', rs: '198.18.1.13:0' }),
    ]);
    s = apply(s, { type: 'window-start', id: 'd1-1', director: 'd1' }, T0).state;
    const back = decodeState(JSON.parse(JSON.stringify(encodeState(s))));
    expect(back.ok).toBe(true);
    if (back.ok) expect(encodeState(back.state)).toEqual(encodeState(s));
  });

  it('refuses a payload of the wrong shape with the first thing wrong', () => {
    expect(decodeState({ counter: 1, overrides: [{ vs: 'a' }], windows: [] })).toEqual({
      ok: false,
      reason: 'overrides[0].rs: expected a string',
    });
    expect(decodeState({ counter: -1, overrides: [], windows: [] })).toMatchObject({ ok: false });
  });
});
