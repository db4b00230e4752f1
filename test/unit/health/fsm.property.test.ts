// Properties of the health FSM over arbitrary policies and result streams.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  desired,
  downThreshold,
  initialState,
  step,
  upThreshold,
  type CheckerPolicy,
  type RealServerPolicy,
} from '../../../src/health/fsm.js';

const checkerArb = (id: string): fc.Arbitrary<CheckerPolicy> =>
  fc.record({
    id: fc.constant(id),
    delayLoopMs: fc.integer({ min: 1, max: 60_000 }),
    retry: fc.integer({ min: 0, max: 5 }),
    delayBeforeRetryMs: fc.integer({ min: 0, max: 5_000 }),
    alpha: fc.boolean(),
    rise: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    fall: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  });

const policyArb: fc.Arbitrary<RealServerPolicy> = fc.integer({ min: 1, max: 3 }).chain((n) =>
  fc.record({
    weight: fc.integer({ min: 0, max: 1000 }),
    removeOnFailure: fc.boolean(),
    slowStartMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30_000 })),
    checkers: fc.tuple(...Array.from({ length: n }, (_, i) => checkerArb(`c${i}`))),
  }),
);

const eventArb = fc.record({
  checker: fc.integer({ min: 0, max: 2 }),
  ok: fc.boolean(),
  weight: fc.option(fc.integer({ min: 0, max: 253 }), { nil: undefined }),
  ramp: fc.boolean(),
  dt: fc.integer({ min: 0, max: 5_000 }),
});

describe('health FSM properties', () => {
  it('never up with consecutive failures >= fall; never down with >= rise successes; counters bounded', () => {
    fc.assert(
      fc.property(policyArb, fc.array(eventArb, { maxLength: 200 }), (policy, events) => {
        let s = initialState(policy);
        let now = 0;
        // The true consecutive counts, from the stream itself (uncapped).
        const fails = policy.checkers.map(() => 0);
        const passes = policy.checkers.map(() => 0);
        let lastTransition: 'up' | 'down' = s.up ? 'up' : 'down';
        for (const e of events) {
          now += e.dt;
          const index = e.checker % policy.checkers.length;
          const p = policy.checkers[index] as CheckerPolicy;
          const t = e.ramp
            ? step(s, { type: 'ramp' }, now)
            : step(
                s,
                {
                  type: 'result',
                  checker: p.id,
                  outcome: {
                    ok: e.ok,
                    code: e.ok ? 'ok' : 'refused',
                    reason: 'r',
                    latencyMs: 1,
                    weight: e.weight,
                  },
                },
                now,
              );
          if (!e.ramp) {
            fails[index] = e.ok ? 0 : (fails[index] ?? 0) + 1;
            passes[index] = e.ok ? (passes[index] ?? 0) + 1 : 0;
          }
          s = t.state;
          s.checkers.forEach((c, i) => {
            const cp = policy.checkers[i] as CheckerPolicy;
            const fallAt = downThreshold(cp);
            const riseAt = upThreshold(cp);
            if (c.health === 'up') expect(fails[i] ?? 0).toBeLessThan(fallAt);
            if (c.health === 'down') expect(passes[i] ?? 0).toBeLessThan(riseAt);
            expect(c.failures).toBeLessThanOrEqual(fallAt);
            expect(c.successes).toBeLessThanOrEqual(riseAt);
            expect(c.failures).toBeGreaterThanOrEqual(0);
          });
          expect(s.up).toBe(s.checkers.every((c) => c.health === 'up'));
          if (!s.up) expect(s.weight).toBe(0);
          if (s.up) expect(s.weight).toBeLessThanOrEqual(s.dynamicWeight ?? policy.weight);
          expect(desired(s).kind).toBe(!s.up && policy.removeOnFailure ? 'absent' : 'present');
          // Server transitions alternate: never up twice, never down twice (except the
          // alpha start-up confirmation, which is flagged changed: false).
          for (const fx of t.effects) {
            if (fx.kind === 'up') {
              expect(lastTransition).toBe('down');
              lastTransition = 'up';
            }
            if (fx.kind === 'down' && fx.changed) {
              expect(lastTransition).toBe('up');
              lastTransition = 'down';
            }
          }
          if (!e.ramp)
            expect(t.effects.filter((fx) => fx.kind === 'schedule-check')).toHaveLength(1);
        }
      }),
      { numRuns: 500 },
    );
  });
});
