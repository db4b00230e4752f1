// Small builders shared by the health unit tests.
import {
  initialState,
  step,
  type CheckOutcome,
  type CheckerPolicy,
  type HealthEffect,
  type RealServerPolicy,
  type RealServerState,
} from '../../../src/health/fsm.js';

export function pass(weight?: number, reason = 'status 200'): CheckOutcome {
  return weight === undefined
    ? { ok: true, code: 'ok', reason, latencyMs: 1 }
    : { ok: true, code: 'ok', reason, latencyMs: 1, weight };
}

export function fail(reason = 'connection refused', code = 'refused'): CheckOutcome {
  return { ok: false, code, reason, latencyMs: 1 };
}

export function checker(over: Partial<CheckerPolicy> = {}): CheckerPolicy {
  return {
    id: 'tcp',
    delayLoopMs: 6000,
    retry: 2,
    delayBeforeRetryMs: 1000,
    alpha: false,
    ...over,
  };
}

export function server(
  over: Partial<RealServerPolicy> = {},
  checkers: readonly CheckerPolicy[] = [checker()],
): RealServerPolicy {
  return { weight: 10, removeOnFailure: false, slowStartMs: 0, checkers, ...over };
}

export interface Trace {
  readonly state: RealServerState;
  /** 'U' / 'D' per step: the server's health after it. */
  readonly health: string;
  /** 'r' regular / 'R' retry per step: when the checker runs next. */
  readonly timing: string;
  readonly effects: readonly (readonly HealthEffect[])[];
}

/** Feed one checker a sequence of 'P' (pass) / 'F' (fail), one result per second. */
export function runSequence(policy: RealServerPolicy, seq: string, id = 'tcp'): Trace {
  let state = initialState(policy);
  let health = '';
  let timing = '';
  const effects: HealthEffect[][] = [];
  let now = 0;
  for (const ch of seq) {
    now += 1000;
    const t = step(
      state,
      { type: 'result', checker: id, outcome: ch === 'P' ? pass() : fail() },
      now,
    );
    state = t.state;
    health += state.up ? 'U' : 'D';
    const sched = t.effects.find((e) => e.kind === 'schedule-check');
    timing += sched?.kind === 'schedule-check' && sched.timing === 'retry' ? 'R' : 'r';
    effects.push([...t.effects]);
  }
  return { state, health, timing, effects };
}

export function kinds(effects: readonly HealthEffect[]): string[] {
  return effects.filter((e) => e.kind !== 'schedule-check').map((e) => e.kind);
}
