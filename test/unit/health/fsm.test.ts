import { describe, expect, it } from 'vitest';
import {
  desired,
  initialState,
  quorumWeight,
  step,
  stepChecker,
  type CheckerPolicy,
  type HealthEffect,
} from '../../../src/health/fsm.js';
import { isLvsdError } from '../../../src/lib/errors.js';
import { checker, fail, kinds, pass, runSequence, server } from './fixtures.js';

interface Row {
  readonly name: string;
  readonly checker: Partial<CheckerPolicy>;
  /** Results in order: P pass, F fail. */
  readonly seq: string;
  /** Server health after each result. */
  readonly health: string;
  /** Next check after each result: r = delay_loop, R = delay_before_retry. */
  readonly timing: string;
}

// keepalived semantics (no rise/fall): retry 2 means down on the 3rd consecutive failure.
const keepalivedRows: readonly Row[] = [
  { name: 'no alpha: first pass keeps it up', checker: {}, seq: 'P', health: 'U', timing: 'r' },
  {
    name: 'no alpha: first failure takes it down at once',
    checker: {},
    seq: 'F',
    health: 'D',
    timing: 'r',
  },
  {
    name: 'retry 2: down on the 3rd failure',
    checker: {},
    seq: 'PFFF',
    health: 'UUUD',
    timing: 'rRRr',
  },
  {
    name: 'retry 2: a pass resets the count',
    checker: {},
    seq: 'PFFPFFF',
    health: 'UUUUUUD',
    timing: 'rRRrRRr',
  },
  {
    name: 'retry 0: down on the 1st failure',
    checker: { retry: 0 },
    seq: 'PF',
    health: 'UD',
    timing: 'rr',
  },
  { name: 'retry 1', checker: { retry: 1 }, seq: 'PFF', health: 'UUD', timing: 'rRr' },
  { name: 'one pass brings it back', checker: {}, seq: 'PFFFP', health: 'UUUDU', timing: 'rRRrr' },
  {
    name: 'down: failures are checked at delay_loop',
    checker: {},
    seq: 'PFFFFF',
    health: 'UUUDDD',
    timing: 'rRRrrr',
  },
  {
    name: 'flapping below the retry budget never goes down',
    checker: { retry: 1 },
    seq: 'PFPFPFPF',
    health: 'UUUUUUUU',
    timing: 'rRrRrRrR',
  },
  {
    name: 'flapping at the budget goes down and up each cycle',
    checker: { retry: 1 },
    seq: 'PFFPFFP',
    health: 'UUDUUDU',
    timing: 'rRrrRrr',
  },
  {
    name: 'alpha: starts down, first pass brings it up',
    checker: { alpha: true },
    seq: 'P',
    health: 'U',
    timing: 'r',
  },
  {
    name: 'alpha: failures while down',
    checker: { alpha: true },
    seq: 'FFP',
    health: 'DDU',
    timing: 'rrr',
  },
  {
    name: 'alpha: after coming up the retry budget applies',
    checker: { alpha: true },
    seq: 'PFFF',
    health: 'UUUD',
    timing: 'rRRr',
  },
];

// lvsd options: rise N successes to come up; fall N failures to go down (replaces retry).
const riseFallRows: readonly Row[] = [
  {
    name: 'rise 3 after going down',
    checker: { rise: 3 },
    seq: 'PFFFPPP',
    health: 'UUUDDDU',
    timing: 'rRRrrrr',
  },
  {
    name: 'rise 3: a failure restarts the count',
    checker: { rise: 3 },
    seq: 'PFFFPPFPPP',
    health: 'UUUDDDDDDU',
    timing: 'rRRrrrrrrr',
  },
  {
    name: 'rise alone keeps the start-up shortcut',
    checker: { rise: 2 },
    seq: 'F',
    health: 'D',
    timing: 'r',
  },
  {
    name: 'fall 3: no start-up shortcut',
    checker: { fall: 3 },
    seq: 'FFF',
    health: 'UUD',
    timing: 'RRr',
  },
  {
    name: 'fall replaces retry',
    checker: { retry: 5, fall: 2 },
    seq: 'PFF',
    health: 'UUD',
    timing: 'rRr',
  },
  { name: 'fall 1', checker: { fall: 1 }, seq: 'F', health: 'D', timing: 'r' },
  {
    name: 'fall 2: a pass resets',
    checker: { fall: 2 },
    seq: 'FPFPFF',
    health: 'UUUUUD',
    timing: 'RrRrRr',
  },
  {
    name: 'alpha + rise 2',
    checker: { alpha: true, rise: 2 },
    seq: 'PFPP',
    health: 'DDDU',
    timing: 'rrrr',
  },
  {
    name: 'rise 2 fall 2 flapping',
    checker: { rise: 2, fall: 2 },
    seq: 'PFFPFPPFF',
    health: 'UUDDDDUUD',
    timing: 'rRrrrrrRr',
  },
];

describe('health FSM: one checker', () => {
  for (const row of [...keepalivedRows, ...riseFallRows]) {
    it(row.name, () => {
      const t = runSequence(server({}, [checker(row.checker)]), row.seq);
      expect({ health: t.health, timing: t.timing }).toEqual({
        health: row.health,
        timing: row.timing,
      });
    });
  }

  it('starts up without alpha, down with alpha', () => {
    expect(initialState(server()).up).toBe(true);
    expect(initialState(server()).weight).toBe(10);
    const alpha = initialState(server({}, [checker({ alpha: true })]));
    expect(alpha.up).toBe(false);
    expect(alpha.weight).toBe(0);
  });

  it('reports down with the checker reason and the tally', () => {
    const t = runSequence(server(), 'PFFF');
    expect(t.effects[3]).toContainEqual({
      kind: 'down',
      checker: 'tcp',
      code: 'refused',
      reason: 'connection refused (3/3 failures)',
      startup: false,
      changed: true,
    });
    expect(t.effects[3]).toContainEqual({
      kind: 'schedule-check',
      checker: 'tcp',
      timing: 'regular',
      delayMs: 6000,
    });
    expect(t.effects[1]).toContainEqual({
      kind: 'schedule-check',
      checker: 'tcp',
      timing: 'retry',
      delayMs: 1000,
    });
    expect(kinds(t.effects[1] ?? [])).toEqual([]);
  });

  it('start-up failure without alpha: down, flagged startup', () => {
    const t = runSequence(server(), 'F');
    expect(t.effects[0]).toContainEqual({
      kind: 'down',
      checker: 'tcp',
      code: 'refused',
      reason: 'connection refused (first check failed)',
      startup: true,
      changed: true,
    });
  });

  it('start-up pass without alpha reports nothing (keepalived runs no notify_up)', () => {
    expect(kinds(runSequence(server(), 'P').effects[0] ?? [])).toEqual([]);
  });

  it('alpha: first failure confirms down without a change (notify_down parity)', () => {
    const t = runSequence(server({}, [checker({ alpha: true })]), 'FF');
    expect(t.effects[0]?.find((e) => e.kind === 'down')).toMatchObject({
      startup: true,
      changed: false,
    });
    expect(kinds(t.effects[1] ?? [])).toEqual([]);
  });

  it('alpha: first pass reports up with the weight, flagged startup', () => {
    const t = runSequence(server({}, [checker({ alpha: true })]), 'P');
    expect(t.effects[0]).toContainEqual({
      kind: 'up',
      checker: 'tcp',
      code: 'ok',
      reason: 'status 200 (1/1 successes)',
      weight: 10,
      startup: true,
    });
  });

  it('up reason carries the rise tally', () => {
    const t = runSequence(server({}, [checker({ rise: 2 })]), 'FPP');
    expect(t.effects[2]?.find((e) => e.kind === 'up')).toMatchObject({
      reason: 'status 200 (2/2 successes)',
    });
  });

  it('a long run of failures keeps the counters bounded', () => {
    const t = runSequence(server(), 'P' + 'F'.repeat(10_000));
    expect(t.state.checkers[0]).toMatchObject({ health: 'down', failures: 3, successes: 0 });
    const u = runSequence(server({}, [checker({ rise: 4 })]), 'P'.repeat(10_000));
    expect(u.state.checkers[0]?.successes).toBe(4);
  });

  it('a long flapping run gives strictly alternating up/down events', () => {
    const t = runSequence(server({}, [checker({ retry: 0 })]), 'PF'.repeat(5000));
    const transitions = t.effects.flat().filter((e) => e.kind === 'up' || e.kind === 'down');
    expect(transitions).toHaveLength(9999);
    transitions.forEach((e, i) => {
      expect(e.kind).toBe(i % 2 === 0 ? 'down' : 'up');
    });
  });

  it('unknown checker id is an invariant error', () => {
    const s = initialState(server());
    try {
      step(s, { type: 'result', checker: 'nope', outcome: pass() }, 1);
      expect.unreachable();
    } catch (error) {
      expect(isLvsdError(error) && error.code).toBe('HEALTH_UNKNOWN_CHECKER');
    }
  });

  it('rejects impossible policies', () => {
    expect(() => initialState(server({}, [checker({ rise: 0 })]))).toThrow(/rise/);
    expect(() => initialState(server({}, [checker(), checker()]))).toThrow(/duplicate/);
    expect(() => initialState(server({ weight: -1 }))).toThrow(/weight/);
  });

  it('stepChecker alone: fall counts from a fresh checker', () => {
    const p = checker({ fall: 2 });
    const c0 = initialState(server({}, [p])).checkers[0];
    if (c0 === undefined) throw new Error('no checker');
    const c1 = stepChecker(p, c0, fail());
    expect(c1.next).toMatchObject({ health: 'up', failures: 1, hasRun: true });
    expect(stepChecker(p, c1.next, fail()).next.health).toBe('down');
  });
});

describe('health FSM: weight, removal, several checkers', () => {
  it('down means weight 0 in the table (inhibit_on_failure by default)', () => {
    const t = runSequence(server(), 'F');
    expect(desired(t.state)).toEqual({ kind: 'present', weight: 0 });
    expect(quorumWeight(t.state)).toBe(0);
  });

  it('removeOnFailure: down means absent', () => {
    const t = runSequence(server({ removeOnFailure: true }), 'F');
    expect(desired(t.state)).toEqual({ kind: 'absent' });
    expect(desired(runSequence(server({ removeOnFailure: true }), 'FP').state)).toEqual({
      kind: 'present',
      weight: 10,
    });
  });

  const two = server({}, [checker({ id: 'http', retry: 0 }), checker({ id: 'misc', retry: 0 })]);
  const feed = (
    events: readonly [string, boolean][],
  ): { health: string; effects: HealthEffect[][] } => {
    let s = initialState(two);
    let health = '';
    const effects: HealthEffect[][] = [];
    events.forEach(([id, ok], i) => {
      const t = step(s, { type: 'result', checker: id, outcome: ok ? pass() : fail() }, i * 1000);
      s = t.state;
      health += s.up ? 'U' : 'D';
      effects.push([...t.effects]);
    });
    return { health, effects };
  };

  it('up only while all checkers are up', () => {
    const r = feed([
      ['http', true],
      ['misc', true],
      ['http', false],
      ['misc', false],
      ['http', true],
      ['misc', true],
    ]);
    expect(r.health).toBe('UUDDDU');
    expect(kinds(r.effects[2] ?? [])).toEqual(['checker', 'down']);
    // The second checker going down changes only that checker: the server is already down.
    expect(kinds(r.effects[3] ?? [])).toEqual(['checker']);
    expect(kinds(r.effects[4] ?? [])).toEqual(['checker']);
    expect(kinds(r.effects[5] ?? [])).toEqual(['checker', 'up']);
    expect(r.effects[5]?.find((e) => e.kind === 'up')).toMatchObject({ checker: 'misc' });
  });

  it('alpha on one checker keeps the server down until it passes', () => {
    const p = server({}, [checker({ id: 'a' }), checker({ id: 'b', alpha: true })]);
    let s = initialState(p);
    expect(s.up).toBe(false);
    s = step(s, { type: 'result', checker: 'a', outcome: pass() }, 1).state;
    expect(s.up).toBe(false);
    s = step(s, { type: 'result', checker: 'b', outcome: pass() }, 2).state;
    expect(s.up).toBe(true);
  });

  it('misc_dynamic: a passing result sets the weight; absent keeps it', () => {
    const p = server({}, [checker({ id: 'misc', retry: 0 })]);
    let s = initialState(p);
    const w = (outcome: ReturnType<typeof pass>, now: number): HealthEffect[] => {
      const t = step(s, { type: 'result', checker: 'misc', outcome }, now);
      s = t.state;
      return [...t.effects];
    };
    expect(w(pass(3), 1)).toContainEqual({
      kind: 'weight',
      weight: 3,
      previous: 10,
      reason: 'misc: dynamic weight 3',
    });
    expect(kinds(w(pass(), 2))).toEqual([]);
    expect(s.weight).toBe(3);
    expect(quorumWeight(s)).toBe(3);
    // Exit 2 = weight 0: up, but paused.
    w(pass(0), 3);
    expect({ up: s.up, weight: s.weight }).toEqual({ up: true, weight: 0 });
    // Down and back: it comes back at the last dynamic weight.
    w(pass(7), 4);
    w(fail(), 5);
    expect(s.weight).toBe(0);
    expect(w(pass(), 6).find((e) => e.kind === 'up')).toMatchObject({ weight: 7 });
  });
});
