import { describe, expect, it } from 'vitest';
import {
  Scheduler,
  type CancelSignal,
  type NextRun,
  type RunOutcome,
  type ScheduledCheck,
  type SchedulerOptions,
} from '../../../src/health/scheduler.js';
import { isLvsdError } from '../../../src/lib/errors.js';
import { flush, ManualTimers } from './manual-timers.js';

interface Fake {
  readonly ok: boolean;
  readonly note: string;
}

interface Harness {
  readonly timers: ManualTimers;
  readonly scheduler: Scheduler<Fake>;
  readonly results: { id: string; outcome: RunOutcome<Fake>; at: number }[];
  /** Starts per check id: [startedAt, settledAt | undefined]. */
  readonly runs: Map<string, [number, number | undefined][]>;
  readonly signals: CancelSignal[];
  inFlight: number;
  maxInFlight: number;
}

type ProbeImpl = (h: Harness, id: string, signal: CancelSignal) => Promise<Fake>;

function harness(
  impl: ProbeImpl,
  opts: Partial<Omit<SchedulerOptions<Fake>, 'clock' | 'timers' | 'probe'>> = {},
): Harness {
  const timers = new ManualTimers();
  const h: Harness = {
    timers,
    results: [],
    runs: new Map(),
    signals: [],
    inFlight: 0,
    maxInFlight: 0,
    scheduler: undefined as unknown as Scheduler<Fake>,
  };
  const onResult = opts.onResult;
  const scheduler = new Scheduler<Fake>({
    tickMs: 10,
    maxConcurrent: 1000,
    ...opts,
    clock: timers.clock,
    timers,
    probe: async (id, signal) => {
      h.signals.push(signal);
      const record: [number, number | undefined] = [timers.now(), undefined];
      const list = h.runs.get(id) ?? [];
      list.push(record);
      h.runs.set(id, list);
      h.inFlight++;
      h.maxInFlight = Math.max(h.maxInFlight, h.inFlight);
      try {
        return await impl(h, id, signal);
      } finally {
        h.inFlight--;
        record[1] = timers.now();
      }
    },
    onResult: (id, outcome, check): NextRun | undefined => {
      h.results.push({ id, outcome, at: timers.now() });
      return onResult?.(id, outcome, check);
    },
  });
  (h as { scheduler: Scheduler<Fake> }).scheduler = scheduler;
  return h;
}

const instant: ProbeImpl = () => Promise.resolve({ ok: true, note: 'instant' });
const slow =
  (ms: number): ProbeImpl =>
  async (h, _id, signal) => {
    const r = await h.timers.sleep(ms, signal);
    return { ok: r === 'done', note: r };
  };
const check = (id: string, over: Partial<ScheduledCheck> = {}): ScheduledCheck => ({
  id,
  intervalMs: 1000,
  timeoutMs: 5000,
  ...over,
});

describe('scheduler: timing', () => {
  it('runs a check on its interval, anchored to its slots', async () => {
    const h = harness(instant, { tickMs: 10 });
    h.scheduler.add(check('a', { warmupMs: 0 }));
    await h.timers.advance(10_000);
    const dues = h.results.map((r) => r.outcome.dueMs);
    expect(dues).toEqual(Array.from({ length: 11 }, (_, i) => i * 1000));
    // Starts happen on tick boundaries.
    for (const r of h.runs.get('a') ?? []) expect(r[0] % 10).toBe(0);
  });

  it('one coarse tick: 1,000 checks wake the process once per tick, not once per check', async () => {
    const h = harness(instant, { tickMs: 100 });
    for (let i = 0; i < 1000; i++) h.scheduler.add(check(`c${i}`));
    await h.timers.advance(10_000);
    expect(h.results.length).toBeGreaterThanOrEqual(10_000);
    expect(h.timers.fired).toBeLessThanOrEqual(10_000 / 100 + 2);
  });

  it('a retry asked for by the callback runs early, then the check returns to its slots', async () => {
    let failures = 0;
    const h = harness(instant, {
      onResult: (): NextRun | undefined => (failures++ < 2 ? { retryAfterMs: 200 } : undefined),
    });
    h.scheduler.add(check('a', { warmupMs: 0 }));
    await h.timers.advance(3000);
    expect(h.results.map((r) => r.outcome.dueMs)).toEqual([0, 200, 400, 1000, 2000, 3000]);
  });

  it('a slow check never overlaps itself and skips its missed slots', async () => {
    const h = harness(slow(2500), { tickMs: 10 });
    h.scheduler.add(check('a', { warmupMs: 0 }));
    await h.timers.advance(12_000);
    const runs = h.runs.get('a') ?? [];
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]?.[0]).toBeGreaterThanOrEqual(runs[i - 1]?.[1] ?? Infinity);
    }
    expect(h.results.map((r) => r.outcome.dueMs)).toEqual([0, 3000, 6000, 9000]);
  });

  it('enforces the timeout through the signal, within one tick', async () => {
    const h = harness(slow(60_000), { tickMs: 50 });
    h.scheduler.add(check('a', { warmupMs: 0, timeoutMs: 300, intervalMs: 10_000 }));
    await h.timers.advance(1000);
    expect(h.results).toHaveLength(1);
    const r = h.results[0];
    expect(r?.outcome).toMatchObject({
      kind: 'result',
      timedOut: true,
      result: { note: 'aborted' },
    });
    expect(r?.at).toBeGreaterThanOrEqual(300);
    expect(r?.at).toBeLessThanOrEqual(350);
    const reason: unknown = h.signals[0]?.reason;
    expect(isLvsdError(reason) && reason.code).toBe('CHECK_TIMEOUT');
  });

  it('probe errors (thrown or rejected) are outcomes, and the schedule goes on', async () => {
    let n = 0;
    const h = harness(() => {
      n++;
      if (n === 1) throw new Error('sync boom');
      if (n === 2) return Promise.reject(new Error('async boom'));
      return Promise.resolve({ ok: true, note: 'fine' });
    });
    h.scheduler.add(check('a', { warmupMs: 0 }));
    await h.timers.advance(2000);
    expect(h.results.map((r) => r.outcome.kind)).toEqual(['error', 'error', 'result']);
  });

  it('a throwing callback goes to onCallbackError and does not stop the check', async () => {
    const errors: unknown[] = [];
    const h = harness(instant, {
      onResult: () => {
        throw new Error('callback bug');
      },
      onCallbackError: (_id, e) => errors.push(e),
    });
    h.scheduler.add(check('a', { warmupMs: 0 }));
    await h.timers.advance(2000);
    expect(errors).toHaveLength(3);
  });
});

describe('scheduler + FSM wiring', () => {
  it('retry effects from the FSM become early runs; down after retry + 1 failures', async () => {
    const { initialState, step } = await import('../../../src/health/fsm.js');
    const { nextRunFromEffects } = await import('../../../src/health/scheduler.js');
    let state = initialState({
      weight: 5,
      removeOnFailure: false,
      slowStartMs: 0,
      checkers: [{ id: 'a', delayLoopMs: 1000, retry: 2, delayBeforeRetryMs: 300, alpha: false }],
    });
    let n = 0;
    const h = harness(() => Promise.resolve({ ok: n++ === 0, note: 'x' }), {
      onResult: (id, outcome) => {
        const ok = outcome.kind === 'result' && outcome.result.ok;
        const t = step(
          state,
          {
            type: 'result',
            checker: id,
            outcome: { ok, code: ok ? 'ok' : 'refused', reason: 'r', latencyMs: 0 },
          },
          outcome.startedMs + outcome.durationMs,
        );
        state = t.state;
        return nextRunFromEffects(t.effects, id);
      },
    });
    h.scheduler.add(check('a', { warmupMs: 0 }));
    await h.timers.advance(2500);
    // pass at 0; fail at 1000; retries at 1300 and 1600 (the 3rd failure: down); slot 2000.
    expect(h.results.map((r) => r.outcome.dueMs)).toEqual([0, 1000, 1300, 1600, 2000]);
    expect(state.up).toBe(false);
  });
});

describe('scheduler: concurrency', () => {
  it('caps probes in flight and starts the rest FIFO by due time', async () => {
    const h = harness(slow(500), { maxConcurrent: 10, tickMs: 10 });
    // Due times 0, 1, 2, ... 49 ms (warmup span 1 → due at add time; stagger by adding later).
    for (let i = 0; i < 50; i++) {
      h.scheduler.add(check(`c${String(i).padStart(2, '0')}`, { warmupMs: 0, intervalMs: 60_000 }));
      await h.timers.advance(1);
    }
    expect(h.scheduler.stats()).toMatchObject({ checks: 50, running: 10 });
    await h.timers.advance(5000);
    expect(h.maxInFlight).toBe(10);
    expect(h.results).toHaveLength(50);
    const startOrder = [...h.runs.entries()]
      .sort((a, b) => (a[1][0]?.[0] ?? 0) - (b[1][0]?.[0] ?? 0))
      .map(([id]) => id);
    expect(startOrder).toEqual([...startOrder].sort());
  });

  it('queued checks count in stats', async () => {
    const h = harness(slow(500), { maxConcurrent: 2 });
    for (let i = 0; i < 5; i++) h.scheduler.add(check(`c${i}`, { warmupMs: 0 }));
    await h.timers.advance(10);
    expect(h.scheduler.stats()).toEqual({ checks: 5, running: 2, queued: 3 });
  });
});

describe('scheduler: reload and stop', () => {
  it('update mid-check aborts the run, drops its result, and waits for it before the next', async () => {
    // This probe ignores the abort for 300 ms, as a slow script being killed might.
    const h = harness(async (hh, _id, signal) => {
      await hh.timers.sleep(700);
      return { ok: !signal.aborted, note: 'old' };
    });
    h.scheduler.add(check('a', { warmupMs: 0, intervalMs: 1000 }));
    await h.timers.advance(100);
    h.scheduler.update(check('a', { warmupMs: 0, intervalMs: 2000 }));
    const reason: unknown = h.signals[0]?.reason;
    expect(isLvsdError(reason) && reason.code).toBe('CHECK_UPDATED');
    await h.timers.advance(5000);
    const runs = h.runs.get('a') ?? [];
    expect(runs[1]?.[0]).toBeGreaterThanOrEqual(runs[0]?.[1] ?? Infinity);
    // The first (old) run's result never arrives; later ones use the new interval.
    expect(h.results[0]?.outcome.dueMs).toBeGreaterThanOrEqual(700);
    const dues = h.results.map((r) => r.outcome.dueMs);
    for (let i = 1; i < dues.length; i++) expect((dues[i] ?? 0) - (dues[i - 1] ?? 0)).toBe(2000);
  });

  it('update of a waiting check keeps its slots unless the interval changes', async () => {
    const h = harness(instant);
    h.scheduler.add(check('a', { warmupMs: 0 }));
    await h.timers.advance(1500);
    h.scheduler.update(check('a', { warmupMs: 0, timeoutMs: 100 }));
    await h.timers.advance(1600);
    expect(h.results.map((r) => r.outcome.dueMs)).toEqual([0, 1000, 2000, 3000]);
  });

  it('remove mid-check drops the result; re-adding waits for the old run to settle', async () => {
    const h = harness(async (hh) => {
      await hh.timers.sleep(400);
      return { ok: true, note: 'x' };
    });
    h.scheduler.add(check('a', { warmupMs: 0 }));
    await h.timers.advance(100);
    expect(h.scheduler.remove('a')).toBe(true);
    expect(h.scheduler.remove('a')).toBe(false);
    expect(h.scheduler.has('a')).toBe(false);
    h.scheduler.add(check('a', { warmupMs: 0 }));
    await h.timers.advance(3000);
    const runs = h.runs.get('a') ?? [];
    expect(runs[1]?.[0]).toBeGreaterThanOrEqual(400);
    expect(h.results.every((r) => r.outcome.dueMs >= 400)).toBe(true);
  });

  it('remove of a scheduled or queued check stops it', async () => {
    const h = harness(slow(1000), { maxConcurrent: 1 });
    h.scheduler.add(check('a', { warmupMs: 0 }));
    h.scheduler.add(check('b', { warmupMs: 0 }));
    await h.timers.advance(10);
    h.scheduler.remove('b'); // queued behind a
    h.scheduler.add(check('c', { warmupMs: 5000 }));
    h.scheduler.remove('c'); // scheduled
    await h.timers.advance(10_000);
    expect([...h.runs.keys()]).toEqual(['a']);
  });

  it('add twice is an error; update of an unknown check is an error', () => {
    const h = harness(instant);
    h.scheduler.add(check('a'));
    expect(() => {
      h.scheduler.add(check('a'));
    }).toThrow(/already scheduled/);
    expect(() => {
      h.scheduler.update(check('zz'));
    }).toThrow(/not scheduled/);
    expect(() => {
      h.scheduler.add(check('b', { intervalMs: 0 }));
    }).toThrow(/intervalMs/);
  });

  it('stop() aborts in-flight checks and resolves only when they settle', async () => {
    // Probes take 200 ms to clean up after an abort.
    const h = harness(async (hh, _id, signal) => {
      await hh.timers.sleep(10_000, signal);
      await hh.timers.sleep(200);
      return { ok: false, note: 'stopped' };
    });
    for (let i = 0; i < 5; i++) h.scheduler.add(check(`c${i}`, { warmupMs: 0 }));
    await h.timers.advance(10);
    let stopped = false;
    const done = h.scheduler.stop().then(() => {
      stopped = true;
    });
    expect(h.signals.every((s) => s.aborted)).toBe(true);
    await h.timers.advance(100);
    expect(stopped).toBe(false);
    await h.timers.advance(150);
    await done;
    expect(stopped).toBe(true);
    expect(h.results).toEqual([]);
    expect(h.timers.pending).toBe(0);
    expect(() => {
      h.scheduler.add(check('late'));
    }).toThrow(/stopped/);
    await h.scheduler.stop(); // idempotent
  });

  it('stop() with nothing in flight resolves at once', async () => {
    const h = harness(instant);
    h.scheduler.add(check('a', { warmupMs: 5000 }));
    await h.scheduler.stop();
    await flush();
    expect(h.timers.pending).toBe(0);
  });
});

describe("scheduler: the caller's check object", () => {
  it('probe and onResult get the object given to add(), then the one given to update()', async () => {
    interface Tagged {
      readonly id: string;
      readonly intervalMs: number;
      readonly timeoutMs: number;
      readonly tag: string;
    }
    const timers = new ManualTimers();
    const probed: string[] = [];
    const settled: string[] = [];
    const scheduler = new Scheduler<number, Tagged>({
      clock: timers.clock,
      timers,
      tickMs: 10,
      probe: (_id, _signal, check) => {
        probed.push(check.tag);
        return Promise.resolve(1);
      },
      onResult: (_id, _outcome, check) => {
        settled.push(check.tag);
        return undefined;
      },
    });
    const first: Tagged = { id: 'a', intervalMs: 100, timeoutMs: 50, tag: 'first' };
    scheduler.add(first);
    await timers.advance(250);
    expect(probed.length).toBeGreaterThanOrEqual(2);
    expect(new Set([...probed, ...settled])).toEqual(new Set(['first']));
    scheduler.update({ ...first, tag: 'second' });
    const seen = probed.length;
    await timers.advance(250);
    expect(probed.length).toBeGreaterThan(seen);
    expect(probed.slice(seen)).toEqual(probed.slice(seen).map(() => 'second'));
    expect(settled.at(-1)).toBe('second');
    await scheduler.stop();
  });
});

describe('scheduler: scale', () => {
  it('10,000 checks x 10 simulated minutes runs in bounded time, spread across ticks', async () => {
    // Counting only (no per-result records), so the figure is the scheduler's own cost.
    const timers = new ManualTimers();
    let results = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const scheduler = new Scheduler<number>({
      clock: timers.clock,
      timers,
      tickMs: 100,
      maxConcurrent: 1000,
      probe: () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return Promise.resolve(1);
      },
      onResult: () => {
        inFlight--;
        results++;
        return undefined;
      },
    });
    const interval = 5000;
    for (let i = 0; i < 10_000; i++) {
      scheduler.add({
        id: `198.18.1.${i % 250}:${8000 + i}`,
        intervalMs: interval,
        timeoutMs: 3000,
      });
    }
    const perTick: number[] = [];
    const t0 = performance.now();
    const simulatedMs = 10 * 60_000;
    for (let t = 0; t < simulatedMs; t += 100) {
      const before = results;
      await timers.advance(100);
      perTick.push(results - before);
    }
    const elapsed = performance.now() - t0;
    const expected = (10_000 * simulatedMs) / interval;
    expect(Math.abs(results - expected)).toBeLessThanOrEqual(10_000);
    // N x tick / interval = 200 per tick; the hash spread keeps the worst tick near that.
    const mean = (10_000 * 100) / interval;
    expect(Math.max(...perTick)).toBeLessThanOrEqual(mean + 5 * Math.sqrt(mean) + 1);
    expect(maxInFlight).toBeLessThanOrEqual(1000);
    // One wake-up per tick at most, never one per check.
    expect(timers.fired).toBeLessThanOrEqual(simulatedMs / 100 + 2);
    expect(elapsed).toBeLessThan(20_000);
    await scheduler.stop();
  }, 60_000);
});
