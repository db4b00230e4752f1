import { describe, expect, it } from 'vitest';
import {
  initialQuorum,
  liveWeightSum,
  normalizeQuorum,
  serving,
  stepQuorum,
  type QuorumPolicy,
} from '../../../src/health/quorum.js';

const q = (
  quorum: number,
  hysteresis: number,
  sorryServer: string | null = null,
): QuorumPolicy => ({
  quorum,
  hysteresis,
  sorryServer,
});

describe('normalizeQuorum (keepalived config-time rules)', () => {
  const rows: readonly {
    name: string;
    policy: QuorumPolicy;
    total: number;
    quorum: number;
    hysteresis: number;
    codes: string[];
  }[] = [
    { name: 'defaults stay', policy: q(1, 0), total: 2, quorum: 1, hysteresis: 0, codes: [] },
    {
      name: 'quorum above total weight is reduced',
      policy: q(10, 0),
      total: 4,
      quorum: 4,
      hysteresis: 0,
      codes: ['QUORUM_ABOVE_TOTAL_WEIGHT'],
    },
    {
      name: 'hysteresis >= quorum becomes quorum - 1',
      policy: q(3, 3),
      total: 10,
      quorum: 3,
      hysteresis: 2,
      codes: ['HYSTERESIS_NOT_BELOW_QUORUM'],
    },
    {
      name: 'both, in keepalived order (hysteresis checked against the reduced quorum)',
      policy: q(10, 5),
      total: 4,
      quorum: 4,
      hysteresis: 3,
      codes: ['QUORUM_ABOVE_TOTAL_WEIGHT', 'HYSTERESIS_NOT_BELOW_QUORUM'],
    },
    {
      name: 'total weight 0: quorum 0, hysteresis 0 (no unsigned underflow)',
      policy: q(1, 0),
      total: 0,
      quorum: 0,
      hysteresis: 0,
      codes: ['QUORUM_ABOVE_TOTAL_WEIGHT'],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const r = normalizeQuorum(row.policy, row.total);
      expect([r.policy.quorum, r.policy.hysteresis]).toEqual([row.quorum, row.hysteresis]);
      expect(r.warnings.map((w) => w.code)).toEqual(row.codes);
    });
  }

  it('warnings carry the numbers', () => {
    expect(normalizeQuorum(q(3, 5), 10).warnings[0]).toEqual({
      code: 'HYSTERESIS_NOT_BELOW_QUORUM',
      message: 'hysteresis 5 >= quorum 3; setting hysteresis to 2',
      from: 5,
      to: 2,
    });
  });
});

describe('quorum with hysteresis: gained at >= q+h, lost below q-h or at 0', () => {
  // quorum 5, hysteresis 2: gain at >= 7, lose at < 3 (or 0).
  const policy = q(5, 2, '198.18.1.99:80');
  const rows: readonly { sums: number[]; states: string }[] = [
    { sums: [7], states: 'U' },
    { sums: [6], states: 'D' },
    { sums: [6, 7], states: 'DU' },
    { sums: [7, 6, 5, 4, 3], states: 'UUUUU' },
    { sums: [7, 2], states: 'UD' },
    { sums: [7, 3, 2, 6, 7], states: 'UUDDU' },
    { sums: [10, 0], states: 'UD' },
  ];
  for (const row of rows) {
    it(`sums ${row.sums.join(',')} -> ${row.states}`, () => {
      const [first, ...rest] = row.sums;
      let s = initialQuorum(policy, first ?? 0).state;
      let states = s.up ? 'U' : 'D';
      for (const sum of rest) {
        s = stepQuorum(s, policy, sum).state;
        states += s.up ? 'U' : 'D';
      }
      expect(states).toBe(row.states);
    });
  }

  it('hysteresis 0 is a plain threshold; loss at 0 even with quorum 0', () => {
    const p = q(2, 0);
    let s = initialQuorum(p, 2).state;
    expect(s.up).toBe(true);
    s = stepQuorum(s, p, 1).state;
    expect(s.up).toBe(false);
    const zero = q(0, 0);
    const z = stepQuorum({ up: true }, zero, 0);
    expect(z.state.up).toBe(false);
    // A sum of 0 never gains quorum, so quorum 0 does not flap.
    expect(stepQuorum(z.state, zero, 0).state.up).toBe(false);
    expect(stepQuorum(z.state, zero, 1).state.up).toBe(true);
  });
});

describe('quorum effects and the sorry server', () => {
  const sorry = '198.18.1.99:80';

  it('loss: the sorry server replaces the real servers, then quorum_down', () => {
    const p = q(2, 0, sorry);
    const t = stepQuorum({ up: true }, p, 1);
    expect(t.effects).toEqual([
      { kind: 'sorry-server', server: sorry, active: true },
      {
        kind: 'quorum-down',
        startup: false,
        weightSum: 1,
        threshold: 2,
        reason: 'lost quorum 2-0=2 > 1',
      },
    ]);
    expect(serving(t.state, p)).toEqual({ kind: 'sorry-server', server: sorry });
  });

  it('gain: the sorry server leaves, then quorum_up', () => {
    const p = q(2, 1, sorry);
    const t = stepQuorum({ up: false }, p, 3);
    expect(t.effects).toEqual([
      { kind: 'sorry-server', server: sorry, active: false },
      {
        kind: 'quorum-up',
        startup: false,
        weightSum: 3,
        threshold: 3,
        reason: 'gained quorum 2+1=3 <= 3',
      },
    ]);
    expect(serving(t.state, p)).toEqual({ kind: 'real-servers' });
  });

  it('without a sorry server only quorum_up/down fire and the real servers stay', () => {
    const p = q(2, 0);
    const t = stepQuorum({ up: true }, p, 0);
    expect(t.effects.map((e) => e.kind)).toEqual(['quorum-down']);
    expect(serving(t.state, p)).toEqual({ kind: 'real-servers' });
  });

  it('no change, no effects', () => {
    expect(stepQuorum({ up: true }, q(2, 0), 5).effects).toEqual([]);
    expect(stepQuorum({ up: false }, q(2, 0), 1).effects).toEqual([]);
  });

  it('start-up with quorum down: sorry server and quorum_down only if a sorry server is set', () => {
    expect(initialQuorum(q(3, 0, sorry), 1).effects.map((e) => e.kind)).toEqual([
      'sorry-server',
      'quorum-down',
    ]);
    expect(initialQuorum(q(3, 0), 1).effects).toEqual([]);
    // Held from the start: reported (keepalived runs quorum_up), the sorry server stays out.
    expect(initialQuorum(q(3, 0, sorry), 3).effects.map((e) => e.kind)).toEqual(['quorum-up']);
  });

  it('liveWeightSum ignores negatives', () => {
    expect(liveWeightSum([1, 2, 0, -5, 3])).toBe(6);
  });
});
