/** merge is a join: commutative, associative, idempotent; and two directors converge. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeState } from '../../../src/admin/codec.js';
import {
  apply,
  drainOf,
  emptyState,
  expire,
  merge,
  type AdminCommand,
  type AdminState,
} from '../../../src/admin/state.js';

const servers = [
  ['tcp:198.18.0.10:80', '198.18.1.11:80'],
  ['tcp:198.18.0.10:80', '198.18.1.12:80'],
  ['fwm:7', '198.18.1.13:0'],
] as const;

type Step = { director: string; at: number; pick: number; kind: number; by: string };

const stepArb: fc.Arbitrary<Step> = fc.record({
  director: fc.constantFrom('d1', 'd2', 'd3'),
  at: fc.integer({ min: 0, max: 10_000 }),
  pick: fc.nat(10),
  kind: fc.nat(5),
  by: fc.constantFrom('alice', 'bob'),
});

function command(state: AdminState, s: Step): AdminCommand {
  const [vs, rs] = servers[s.pick % servers.length] ?? servers[0];
  const windows = [...state.windows.values()].filter((w) => w.window);
  switch (s.kind) {
    case 0:
    case 1:
      return {
        type: 'drain',
        vs,
        rs,
        by: s.by,
        via: 'admin-socket',
        director: s.director,
        reason: `r${s.at % 3}`,
      };
    case 2:
      return { type: 'undrain', vs, rs, by: s.by, via: 'admin-socket', director: s.director };
    case 3:
      return {
        type: 'maint-add',
        vs,
        rs,
        cron: '* * * * *',
        durationMs: 1 + (s.at % 500),
        timezone: 'UTC',
        reason: '',
        by: s.by,
        director: s.director,
      };
    case 4: {
      const w = windows[s.pick % Math.max(1, windows.length)];
      return w
        ? { type: 'window-start', id: w.id, director: s.director }
        : { type: 'undrain', vs, rs, by: s.by, via: 'peer', director: s.director };
    }
    default: {
      const w = windows[s.pick % Math.max(1, windows.length)];
      return w
        ? { type: 'maint-cancel', id: w.id, by: s.by, director: s.director }
        : { type: 'undrain', vs, rs, by: s.by, via: 'peer', director: s.director };
    }
  }
}

/** A state built by one director from a start state, with occasional expiry. */
function build(start: AdminState, steps: Step[], director?: string): AdminState {
  let s = start;
  for (const st of steps) {
    const step = director ? { ...st, director } : st;
    s = apply(s, command(s, step), step.at).state;
    if (step.at % 7 === 0) s = expire(s, step.at).state;
  }
  return s;
}

const stateArb = fc.array(stepArb, { maxLength: 12 }).map((steps) => build(emptyState, steps));
/** States that share history, as replicas do. */
const familyArb = fc
  .tuple(
    fc.array(stepArb, { maxLength: 6 }),
    fc.array(stepArb, { maxLength: 6 }),
    fc.array(stepArb, { maxLength: 6 }),
    fc.array(stepArb, { maxLength: 6 }),
  )
  .map(([common, a, b, c]) => {
    const base = build(emptyState, common);
    return [build(base, a, 'd1'), build(base, b, 'd2'), build(base, c, 'd3')] as const;
  });

const canon = (s: AdminState): unknown => encodeState(s);

describe('merge', () => {
  it('is commutative', () => {
    fc.assert(
      fc.property(familyArb, ([a, b]) => {
        expect(canon(merge(a, b))).toEqual(canon(merge(b, a)));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(stateArb, stateArb, (a, b) => {
        expect(canon(merge(a, b))).toEqual(canon(merge(b, a)));
      }),
    );
  });

  it('is associative', () => {
    fc.assert(
      fc.property(familyArb, ([a, b, c]) => {
        expect(canon(merge(merge(a, b), c))).toEqual(canon(merge(a, merge(b, c))));
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(stateArb, stateArb, (a, b) => {
        expect(canon(merge(a, a))).toEqual(canon(a));
        const ab = merge(a, b);
        expect(canon(merge(ab, b))).toEqual(canon(ab));
      }),
    );
  });

  it('a change made after seeing another wins over it (Lamport order)', () => {
    fc.assert(
      fc.property(familyArb, ([a, b]) => {
        const seen = merge(a, b);
        const [vs, rs] = servers[0];
        const later = apply(
          seen,
          { type: 'undrain', vs, rs, by: 'x', via: 'peer', director: 'd0' },
          1,
        ).state;
        const later2 = apply(
          later,
          { type: 'drain', vs, rs, by: 'z', via: 'peer', director: 'd0' },
          2,
        ).state;
        expect(drainOf(merge(a, later2), vs, rs)?.by).toBe('z');
        expect(drainOf(merge(later2, b), vs, rs)?.by).toBe('z');
      }),
    );
  });

  it('concurrent changes at the same counter: the higher director id wins', () => {
    const [vs, rs] = servers[0];
    const a = apply(
      emptyState,
      { type: 'drain', vs, rs, by: 'on-d1', via: 'admin-socket', director: 'd1' },
      0,
    ).state;
    const b = apply(
      emptyState,
      { type: 'undrain', vs, rs, by: 'on-d2', via: 'admin-socket', director: 'd2' },
      0,
    ).state;
    // b's undrain changed nothing (nothing to undrain), so make it a real concurrent drain.
    const b2 = apply(
      emptyState,
      { type: 'drain', vs, rs, by: 'on-d2', via: 'admin-socket', director: 'd2' },
      0,
    ).state;
    expect(drainOf(merge(a, b2), vs, rs)?.by).toBe('on-d2');
    expect(drainOf(merge(b2, a), vs, rs)?.by).toBe('on-d2');
    expect(merge(a, b).counter).toBe(1);
  });

  it('an expired drain merged with the same unexpired drain stays expired', () => {
    const [vs, rs] = servers[0];
    const s = apply(
      emptyState,
      { type: 'drain', vs, rs, by: 'w', via: 'schedule', director: 'd1', until: 100 },
      0,
    ).state;
    const e = expire(s, 100).state;
    expect(drainOf(merge(s, e), vs, rs)).toBeUndefined();
    expect(drainOf(merge(e, s), vs, rs)).toBeUndefined();
  });

  it('the merged counter is at least every entry’s, so the next change wins', () => {
    fc.assert(
      fc.property(familyArb, ([a, b, c]) => {
        const m = merge(merge(a, b), c);
        for (const e of m.overrides.values())
          expect(e.version.counter).toBeLessThanOrEqual(m.counter);
        for (const e of m.windows.values())
          expect(e.version.counter).toBeLessThanOrEqual(m.counter);
      }),
    );
  });
});
