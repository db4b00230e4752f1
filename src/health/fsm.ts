/**
 * Health state machine for one real server and its checkers. Pure: no timers, no clock;
 * `now` (monotonic ms) is an argument and "wake me later" is an effect the scheduler performs.
 *
 * Going down, per checker (keepalived, when `fall` is not set):
 *   - a checker that is up and fails is re-checked `retry` times, `delay_before_retry` apart;
 *     the (retry+1)-th consecutive failure takes it down ("3/3 failures" for retry 2);
 *   - start-up shortcut: a checker that has not produced a result yet (and is up because
 *     `alpha` is off) goes down on its FIRST failure, without retries (keepalived does this);
 *   - while down, failures are ignored and checks run every `delay_loop`.
 * Going down with lvsd's `fall N` (replaces `retry` entirely, including the start-up shortcut):
 *   - N consecutive failures take an up checker down, whether or not it has run before; the
 *     confirming checks (failures 1..N-1) are spaced `delay_before_retry` apart as retries are.
 * Coming up:
 *   - keepalived: the first success of a down checker brings it up;
 *   - lvsd's `rise N`: N consecutive successes, spaced `delay_loop` apart (no fast re-check:
 *     a recovering server earns its way back at the normal pace).
 * Start-up: without `alpha` a checker starts up (its server in the table at its weight); with
 * `alpha` it starts down and comes up on a pass (`rise` passes when set).
 * Real server: up only while every checker is up (a server without checkers is always up).
 * A down server has effective weight 0 (ruling 5: lvsd acts as if inhibit_on_failure), or is
 * absent from the table with `removeOnFailure` (keepalived's default).
 * MISC_CHECK misc_dynamic: a passing result's `weight` replaces the base weight until another
 * result sets it again (absent = unchanged; keepalived 2.2.7 semantics, last report wins).
 * Slow start: after a recovery (down -> up, not the first alpha pass at start-up) the weight
 * ramps from 1 to the base weight over `slowStartMs`; the machine asks for `ramp` events.
 */
import { LvsdError } from '../lib/errors.js';
import { slowStartNextStepMs, slowStartWeight } from './slow-start.js';

/** The part of a checker's result the FSM reads; checkers' ProbeResult fits structurally. */
export interface CheckOutcome {
  readonly ok: boolean;
  readonly code: string;
  /** Short, human: "status 503", "connection refused". */
  readonly reason: string;
  readonly latencyMs: number;
  /** misc_dynamic: the effective weight this (passing) result asks for; absent = unchanged. */
  readonly weight?: number | undefined;
}

export interface CheckerPolicy {
  readonly id: string;
  readonly delayLoopMs: number;
  readonly retry: number;
  readonly delayBeforeRetryMs: number;
  readonly alpha: boolean;
  /** lvsd: consecutive successes to come up (default 1, keepalived). */
  readonly rise?: number | undefined;
  /** lvsd: consecutive failures to go down; replaces `retry` (see the module comment). */
  readonly fall?: number | undefined;
}

export interface RealServerPolicy {
  /** Configured weight (keepalived `weight`), 0..2147483647. */
  readonly weight: number;
  /** keepalived's behaviour without inhibit_on_failure: remove instead of weight 0. */
  readonly removeOnFailure: boolean;
  /** Slow-start ramp length; 0 = off. */
  readonly slowStartMs: number;
  readonly checkers: readonly CheckerPolicy[];
}

export type Health = 'up' | 'down';

export interface CheckerState {
  readonly id: string;
  readonly health: Health;
  /** False until the first result: drives the start-up rules. */
  readonly hasRun: boolean;
  /** Consecutive failures, capped at the down threshold. */
  readonly failures: number;
  /** Consecutive successes, capped at `rise`. */
  readonly successes: number;
}

export interface RealServerState {
  readonly policy: RealServerPolicy;
  readonly up: boolean;
  readonly checkers: readonly CheckerState[];
  /** misc_dynamic weight last reported, or null for the configured weight. */
  readonly dynamicWeight: number | null;
  /** Start of the current slow-start ramp, or null when not ramping. */
  readonly rampStartMs: number | null;
  /** Whether the server has been in service before (a later up is a recovery). */
  readonly everUp: boolean;
  /** The effective weight last reported: what the IPVS table should hold. */
  readonly weight: number;
}

export type HealthEvent =
  | { readonly type: 'result'; readonly checker: string; readonly outcome: CheckOutcome }
  /** The slow-start step asked for by a `schedule-ramp` effect is due. */
  | { readonly type: 'ramp' };

/** `startup`: the checker's first result. `changed`: false only for an alpha checker's first
 * failure, which confirms the initial down state (keepalived runs notify_down for it). */
export type HealthEffect =
  | {
      readonly kind: 'up';
      readonly checker: string;
      readonly code: string;
      readonly reason: string;
      readonly weight: number;
      readonly startup: boolean;
    }
  | {
      readonly kind: 'down';
      readonly checker: string;
      readonly code: string;
      readonly reason: string;
      readonly startup: boolean;
      readonly changed: boolean;
    }
  | {
      readonly kind: 'weight';
      readonly weight: number;
      readonly previous: number;
      readonly reason: string;
    }
  /** One checker changed health (the server may not have: another checker may still be down). */
  | {
      readonly kind: 'checker';
      readonly checker: string;
      readonly health: Health;
      readonly reason: string;
    }
  /** When this checker should run next: `regular` = the delay_loop schedule, `retry` = now + delayMs. */
  | {
      readonly kind: 'schedule-check';
      readonly checker: string;
      readonly timing: 'regular' | 'retry';
      readonly delayMs: number;
    }
  | { readonly kind: 'schedule-ramp'; readonly atMs: number };

export interface Transition {
  readonly state: RealServerState;
  readonly effects: readonly HealthEffect[];
}

export type Desired =
  { readonly kind: 'present'; readonly weight: number } | { readonly kind: 'absent' };

/** Failures that take an up checker down. */
export function downThreshold(p: CheckerPolicy): number {
  return p.fall ?? p.retry + 1;
}

/** Successes that bring a down checker up. */
export function upThreshold(p: CheckerPolicy): number {
  return p.rise ?? 1;
}

function invariant(ok: boolean, message: string): void {
  if (!ok) throw new LvsdError('HEALTH_INVARIANT', message);
}

function checkPolicy(p: RealServerPolicy): void {
  invariant(
    Number.isInteger(p.weight) && p.weight >= 0,
    `weight must be an integer >= 0, got ${p.weight}`,
  );
  invariant(p.slowStartMs >= 0, `slowStartMs must be >= 0, got ${p.slowStartMs}`);
  const ids = new Set<string>();
  for (const c of p.checkers) {
    invariant(!ids.has(c.id), `duplicate checker id ${c.id}`);
    ids.add(c.id);
    invariant(Number.isInteger(c.retry) && c.retry >= 0, `${c.id}: retry must be an integer >= 0`);
    invariant(
      c.rise === undefined || (Number.isInteger(c.rise) && c.rise >= 1),
      `${c.id}: rise must be >= 1`,
    );
    invariant(
      c.fall === undefined || (Number.isInteger(c.fall) && c.fall >= 1),
      `${c.id}: fall must be >= 1`,
    );
    invariant(c.delayLoopMs > 0 && c.delayBeforeRetryMs >= 0, `${c.id}: delays must be positive`);
  }
}

function freshChecker(p: CheckerPolicy): CheckerState {
  return { id: p.id, health: p.alpha ? 'down' : 'up', hasRun: false, failures: 0, successes: 0 };
}

/** The state before any check has run (keepalived start-up rules). */
export function initialState(policy: RealServerPolicy): RealServerState {
  checkPolicy(policy);
  const checkers = policy.checkers.map(freshChecker);
  const up = checkers.every((c) => c.health === 'up');
  return {
    policy,
    up,
    checkers,
    dynamicWeight: null,
    rampStartMs: null,
    everUp: up,
    weight: up ? policy.weight : 0,
  };
}

/** Base weight: the misc_dynamic weight if one was reported, else the configured one. */
export function baseWeight(s: RealServerState): number {
  return s.dynamicWeight ?? s.policy.weight;
}

/** Weight this server contributes to its virtual server's quorum (the ramp is not counted:
 * a recovering server counts fully, so slow start does not hold a sorry server in place). */
export function quorumWeight(s: RealServerState): number {
  return s.up ? baseWeight(s) : 0;
}

function effectiveWeight(s: RealServerState, now: number): number {
  if (!s.up) return 0;
  const base = baseWeight(s);
  if (s.rampStartMs === null) return base;
  return slowStartWeight(base, s.rampStartMs, now, s.policy.slowStartMs);
}

/** What the IPVS table should hold for this server. */
export function desired(s: RealServerState): Desired {
  if (!s.up && s.policy.removeOnFailure) return { kind: 'absent' };
  return { kind: 'present', weight: s.weight };
}

interface CheckerStep {
  readonly next: CheckerState;
  readonly timing: 'regular' | 'retry';
  /** "2/3 failures" style tally for the reason. */
  readonly tally: string;
}

/** One result for one checker: the counting rules in the module comment. */
export function stepChecker(p: CheckerPolicy, c: CheckerState, o: CheckOutcome): CheckerStep {
  const next = advanceChecker(p, c, o);
  return { next, timing: timingOf(c, next, o), tally: tallyOf(p, c, next, o) };
}

/**
 * The counting rules alone. Returns `c` itself when nothing changed (an up checker passing
 * again, the steady state of almost every check), so a result allocates nothing here.
 */
function advanceChecker(p: CheckerPolicy, c: CheckerState, o: CheckOutcome): CheckerState {
  let health: Health;
  let failures: number;
  let successes: number;
  if (o.ok) {
    successes = Math.min(c.successes + 1, upThreshold(p));
    failures = 0;
    health = c.health === 'up' || successes >= upThreshold(p) ? 'up' : 'down';
  } else {
    const fallAt = downThreshold(p);
    failures = Math.min(c.failures + 1, fallAt);
    successes = 0;
    const startupShortcut = p.fall === undefined && !c.hasRun;
    health = c.health === 'up' && !startupShortcut && failures < fallAt ? 'up' : 'down';
  }
  if (c.hasRun && c.health === health && c.failures === failures && c.successes === successes) {
    return c;
  }
  return { id: c.id, health, hasRun: true, failures, successes };
}

/** A failure that leaves an up checker up is re-checked soon (retry); all else is regular. */
function timingOf(c: CheckerState, next: CheckerState, o: CheckOutcome): 'regular' | 'retry' {
  return !o.ok && c.health === 'up' && next.health === 'up' ? 'retry' : 'regular';
}

/** "2/3 failures" style tally; built only when a reason is (a change happened). */
function tallyOf(p: CheckerPolicy, c: CheckerState, next: CheckerState, o: CheckOutcome): string {
  if (o.ok) return `${next.successes}/${upThreshold(p)} successes`;
  const fallAt = downThreshold(p);
  const startupShortcut = p.fall === undefined && !c.hasRun;
  if (c.health === 'up' && startupShortcut && next.failures < fallAt) return 'first check failed';
  return `${next.failures}/${fallAt} failures`;
}

function rampEffects(s: RealServerState, now: number): HealthEffect[] {
  if (s.rampStartMs === null) return [];
  const at = slowStartNextStepMs(baseWeight(s), s.rampStartMs, now, s.policy.slowStartMs);
  return at === null ? [] : [{ kind: 'schedule-ramp', atMs: at }];
}

function onResult(s: RealServerState, id: string, o: CheckOutcome, now: number): Transition {
  // A loop, not findIndex: no closure per result (this runs for every check).
  let index = -1;
  for (let i = 0; i < s.checkers.length; i++) {
    if ((s.checkers[i] as CheckerState).id === id) {
      index = i;
      break;
    }
  }
  const policy = s.policy.checkers[index];
  const before = s.checkers[index];
  if (policy === undefined || before === undefined) {
    throw new LvsdError('HEALTH_UNKNOWN_CHECKER', `no checker ${id} on this real server`);
  }
  const next = advanceChecker(policy, before, o);
  const timing = timingOf(before, next, o);
  const delayMs = timing === 'retry' ? policy.delayBeforeRetryMs : policy.delayLoopMs;
  const schedule: HealthEffect = { kind: 'schedule-check', checker: id, timing, delayMs };
  const dynamicWeight =
    o.ok && o.weight !== undefined ? Math.max(0, Math.trunc(o.weight)) : s.dynamicWeight;

  // Steady state: the checker's counters did not move, so neither did the server's health; only
  // a ramp or a new dynamic weight could change the weight. Same state object, one effect.
  if (
    next === before &&
    dynamicWeight === s.dynamicWeight &&
    (!s.up || effectiveWeight(s, now) === s.weight)
  ) {
    return { state: s, effects: [schedule] };
  }

  const checkers =
    next === before ? s.checkers : s.checkers.map((c, i) => (i === index ? next : c));
  const up = next === before ? s.up : checkers.every((c) => c.health === 'up');
  const startup = !before.hasRun;
  const alphaConfirm = !up && startup && policy.alpha && !o.ok;
  // The reason (with its tally) is text for events: built only when one is emitted.
  const reason =
    next.health !== before.health || s.up !== up || alphaConfirm
      ? `${o.reason} (${tallyOf(policy, before, next, o)})`
      : '';
  const effects: HealthEffect[] = [];
  if (next.health !== before.health)
    effects.push({ kind: 'checker', checker: id, health: next.health, reason });

  let state: RealServerState = { ...s, checkers, up, dynamicWeight };

  if (s.up && !up) {
    state = { ...state, rampStartMs: null, weight: 0 };
    effects.push({ kind: 'down', checker: id, code: o.code, reason, startup, changed: true });
  } else if (!s.up && up) {
    const ramp = s.everUp && s.policy.slowStartMs > 0;
    state = { ...state, everUp: true, rampStartMs: ramp ? now : null };
    state = { ...state, weight: effectiveWeight(state, now) };
    effects.push({ kind: 'up', checker: id, code: o.code, reason, weight: state.weight, startup });
    effects.push(...rampEffects(state, now));
  } else if (alphaConfirm) {
    // keepalived runs notify_down for an alpha checker's first failure: nothing changes.
    effects.push({ kind: 'down', checker: id, code: o.code, reason, startup, changed: false });
  } else if (up) {
    const weight = effectiveWeight(state, now);
    if (weight !== s.weight) {
      state = { ...state, weight };
      effects.push({
        kind: 'weight',
        weight,
        previous: s.weight,
        reason: `${id}: dynamic weight ${baseWeight(state)}`,
      });
    }
  }
  effects.push(schedule);
  return { state, effects };
}

function onRamp(s: RealServerState, now: number): Transition {
  if (s.rampStartMs === null || !s.up) return { state: s, effects: [] };
  const weight = effectiveWeight(s, now);
  const done = now >= s.rampStartMs + s.policy.slowStartMs;
  let state: RealServerState = done ? { ...s, rampStartMs: null, weight } : { ...s, weight };
  const effects: HealthEffect[] = [];
  if (weight !== s.weight) {
    effects.push({
      kind: 'weight',
      weight,
      previous: s.weight,
      reason: done ? 'slow start done' : 'slow start',
    });
  }
  const more = rampEffects(state, now);
  if (!done && more.length === 0) state = { ...state, rampStartMs: null };
  effects.push(...more);
  return { state, effects };
}

/** The transition function: one event at `now` gives the next state and the effects to perform. */
export function step(s: RealServerState, e: HealthEvent, now: number): Transition {
  switch (e.type) {
    case 'result':
      return onResult(s, e.checker, e.outcome, now);
    case 'ramp':
      return onRamp(s, now);
  }
}

/**
 * Reload: carry health across a config change (keepalived's migrate_checkers, simplified).
 * Checkers are matched by id. A surviving up checker that already used the new failure budget
 * needs one more failure to go down; new checkers start as at start-up, except that a new alpha
 * checker on an up server starts up (the server is already in service, as in keepalived).
 * The misc_dynamic weight survives (keepalived keeps the effective weight over a reload).
 */
export function reconfigure(s: RealServerState, policy: RealServerPolicy, now: number): Transition {
  checkPolicy(policy);
  const old = new Map(s.checkers.map((c) => [c.id, c]));
  const checkers = policy.checkers.map((p): CheckerState => {
    const c = old.get(p.id);
    if (c === undefined) return { ...freshChecker(p), health: p.alpha && !s.up ? 'down' : 'up' };
    const fallAt = downThreshold(p);
    const failures = Math.min(c.failures, c.health === 'up' ? fallAt - 1 : fallAt);
    return { ...c, failures, successes: Math.min(c.successes, upThreshold(p)) };
  });
  const up = checkers.every((c) => c.health === 'up');
  const rampStartMs = up && policy.slowStartMs > 0 ? s.rampStartMs : null;
  let state: RealServerState = { ...s, policy, checkers, up, rampStartMs, everUp: s.everUp || up };
  const weight = effectiveWeight(state, now);
  state = { ...state, weight };
  const effects: HealthEffect[] = [];
  const common = { checker: 'reload', code: 'reload', startup: false } as const;
  if (s.up && !up) effects.push({ kind: 'down', ...common, reason: 'reload', changed: true });
  else if (!s.up && up) effects.push({ kind: 'up', ...common, reason: 'reload', weight });
  else if (weight !== s.weight)
    effects.push({ kind: 'weight', weight, previous: s.weight, reason: 'reload' });
  effects.push(...rampEffects(state, now));
  return { state, effects };
}
