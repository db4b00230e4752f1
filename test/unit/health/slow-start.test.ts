import { describe, expect, it } from 'vitest';
import {
  initialState,
  reconfigure,
  step,
  type HealthEffect,
  type RealServerState,
} from '../../../src/health/fsm.js';
import {
  defaultSlowStartStepMs,
  slowStartNextStepMs,
  slowStartWeight,
} from '../../../src/health/slow-start.js';
import { checker, fail, kinds, pass, server } from './fixtures.js';

describe('slowStartWeight', () => {
  const rows: readonly [number, number, number, number, number][] = [
    // configured, upSince, now, period, expected
    [100, 0, 0, 10_000, 1],
    [100, 0, 100, 10_000, 1],
    [100, 0, 2_500, 10_000, 25],
    [100, 0, 5_000, 10_000, 50],
    [100, 0, 9_999, 10_000, 99],
    [100, 0, 10_000, 10_000, 100],
    [100, 0, 99_999, 10_000, 100],
    [100, 1_000, 500, 10_000, 1], // clock before upSince: still ramping from 1
    [1, 0, 10, 10_000, 1],
    [0, 0, 5_000, 10_000, 0],
    [100, 0, 5_000, 0, 100], // slow start off
    [2_147_483_647, 0, 5_000, 10_000, 1_073_741_823],
  ];
  for (const [configured, since, now, period, expected] of rows) {
    it(`w=${configured} t=${now - since}/${period} -> ${expected}`, () => {
      expect(slowStartWeight(configured, since, now, period)).toBe(expected);
    });
  }

  it('is monotonic over the ramp', () => {
    let prev = 0;
    for (let t = 0; t <= 60_000; t += 37) {
      const w = slowStartWeight(250, 0, t, 60_000);
      expect(w).toBeGreaterThanOrEqual(prev);
      prev = w;
    }
    expect(prev).toBe(249);
    expect(slowStartWeight(250, 0, 60_000, 60_000)).toBe(250);
  });
});

describe('slowStartNextStepMs', () => {
  it('steps when the weight changes, no sooner than the spacing', () => {
    // weight 10 over 10 s: changes every 1000 ms (spacing 100 ms does not bind).
    expect(slowStartNextStepMs(10, 0, 0, 10_000)).toBe(2000); // 1 -> 2 at 2000 ms
    expect(slowStartNextStepMs(10, 0, 2000, 10_000)).toBe(3000);
    expect(slowStartNextStepMs(10, 0, 9000, 10_000)).toBe(10_000);
    expect(slowStartNextStepMs(10, 0, 10_000, 10_000)).toBeNull();
  });

  it('large weights are capped to ~100 steps', () => {
    expect(defaultSlowStartStepMs(10_000)).toBe(100);
    expect(slowStartNextStepMs(1_000_000, 0, 0, 10_000)).toBe(100);
    let steps = 0;
    let at: number | null = 0;
    while (at !== null) {
      at = slowStartNextStepMs(1_000_000, 0, at, 10_000);
      steps++;
    }
    expect(steps).toBeLessThanOrEqual(101);
  });

  it('every step changes the weight', () => {
    for (const configured of [2, 3, 7, 100, 255, 1000]) {
      let at: number | null = 0;
      let prev = slowStartWeight(configured, 0, 0, 7_777);
      while (at !== null) {
        at = slowStartNextStepMs(configured, 0, at, 7_777);
        if (at === null) break;
        const w = slowStartWeight(configured, 0, at, 7_777);
        expect(w).toBeGreaterThan(prev);
        prev = w;
      }
      expect(prev).toBe(configured);
    }
  });

  it('nothing to ramp for weight 0 or 1, or period 0', () => {
    expect(slowStartNextStepMs(1, 0, 0, 10_000)).toBeNull();
    expect(slowStartNextStepMs(0, 0, 0, 10_000)).toBeNull();
    expect(slowStartNextStepMs(10, 0, 0, 0)).toBeNull();
  });
});

describe('FSM slow start', () => {
  const policy = server({ weight: 10, slowStartMs: 10_000 }, [checker({ retry: 0 })]);
  function drive(s: RealServerState, ok: boolean, now: number): [RealServerState, HealthEffect[]] {
    const t = step(s, { type: 'result', checker: 'tcp', outcome: ok ? pass() : fail() }, now);
    return [t.state, [...t.effects]];
  }

  it('no ramp at start-up (the server is in the table at its weight)', () => {
    const [s, effects] = drive(initialState(policy), true, 0);
    expect(s.weight).toBe(10);
    expect(kinds(effects)).toEqual([]);
  });

  it('no ramp for the first alpha pass (not a recovery)', () => {
    const alpha = server({ weight: 10, slowStartMs: 10_000 }, [checker({ alpha: true })]);
    const [s, effects] = drive(initialState(alpha), true, 0);
    expect(s.weight).toBe(10);
    expect(effects.find((e) => e.kind === 'up')).toMatchObject({ weight: 10 });
    expect(kinds(effects)).toEqual(['checker', 'up']);
  });

  it('recovery ramps 1 -> configured, driven by ramp events', () => {
    let s = initialState(policy);
    [s] = drive(s, false, 0);
    const [recovered, effects] = drive(s, true, 50_000);
    s = recovered;
    expect(effects.find((e) => e.kind === 'up')).toMatchObject({ weight: 1 });
    expect(effects).toContainEqual({ kind: 'schedule-ramp', atMs: 52_000 });
    const weights: number[] = [s.weight];
    let next = effects.find((e) => e.kind === 'schedule-ramp');
    while (next?.kind === 'schedule-ramp') {
      const t = step(s, { type: 'ramp' }, next.atMs);
      s = t.state;
      const w = t.effects.find((e) => e.kind === 'weight');
      if (w?.kind === 'weight') weights.push(w.weight);
      next = t.effects.find((e) => e.kind === 'schedule-ramp');
    }
    expect(weights).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(s.rampStartMs).toBeNull();
  });

  it('a failure during the ramp stops it; a stale ramp event does nothing', () => {
    let s = initialState(policy);
    [s] = drive(s, false, 0);
    [s] = drive(s, true, 1000);
    [s] = drive(s, false, 2000);
    expect(s.rampStartMs).toBeNull();
    const t = step(s, { type: 'ramp' }, 3000);
    expect(t.effects).toEqual([]);
    expect(t.state).toBe(s);
  });

  it('quorum counts the full weight during the ramp', async () => {
    const { quorumWeight } = await import('../../../src/health/fsm.js');
    let s = initialState(policy);
    [s] = drive(s, false, 0);
    [s] = drive(s, true, 1000);
    expect(s.weight).toBe(1);
    expect(quorumWeight(s)).toBe(10);
  });
});

describe('FSM reconfigure (reload)', () => {
  it('keeps health by checker id and clamps the failure count to the new budget', () => {
    let s = initialState(server({}, [checker({ retry: 3 })]));
    for (let i = 0; i < 3; i++)
      s = step(s, { type: 'result', checker: 'tcp', outcome: i === 0 ? pass() : fail() }, i).state;
    expect(s.checkers[0]).toMatchObject({ health: 'up', failures: 2 });
    const r = reconfigure(s, server({}, [checker({ retry: 1 })]), 10);
    expect(r.state.checkers[0]).toMatchObject({ health: 'up', failures: 1 });
    expect(step(r.state, { type: 'result', checker: 'tcp', outcome: fail() }, 11).state.up).toBe(
      false,
    );
  });

  it('a new weight is reported; removing the failing checker brings the server up', () => {
    const two = server({}, [checker({ id: 'a' }), checker({ id: 'b' })]);
    let s = initialState(two);
    s = step(s, { type: 'result', checker: 'b', outcome: fail() }, 1).state;
    expect(s.up).toBe(false);
    const r = reconfigure(s, server({ weight: 20 }, [checker({ id: 'a' })]), 2);
    expect(r.state.up).toBe(true);
    expect(r.effects).toContainEqual({
      kind: 'up',
      checker: 'reload',
      code: 'reload',
      startup: false,
      reason: 'reload',
      weight: 20,
    });
    const w = reconfigure(r.state, server({ weight: 5 }, [checker({ id: 'a' })]), 3);
    expect(w.effects).toEqual([{ kind: 'weight', weight: 5, previous: 20, reason: 'reload' }]);
  });

  it('a new alpha checker on an up server starts up; on a down server, down', () => {
    const up = initialState(server());
    const r = reconfigure(up, server({}, [checker(), checker({ id: 'new', alpha: true })]), 1);
    expect(r.state.up).toBe(true);
    const down = step(up, { type: 'result', checker: 'tcp', outcome: fail() }, 1).state;
    const d = reconfigure(down, server({}, [checker(), checker({ id: 'new', alpha: true })]), 2);
    expect(d.state.checkers[1]?.health).toBe('down');
  });
});
