import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareAddresses,
  initialInstance,
  masterDownIntervalMs,
  nextDeadline,
  peerWins,
  step,
  type InstanceParams,
  type InstanceState,
  type VrrpEffect,
  type VrrpEvent,
} from '../../../src/vrrp/fsm.js';

const base: InstanceParams = {
  priority: 100,
  advertIntMs: 1000,
  preempt: true,
  preemptDelayMs: 0,
  primaryAddress: '198.18.0.2',
  peers: 1,
  restartGraceMs: 10_000,
};

function run(
  params: Partial<InstanceParams>,
  events: [number, VrrpEvent][],
): { s: InstanceState; effects: VrrpEffect[] } {
  let s = initialInstance({ ...base, ...params });
  const effects: VrrpEffect[] = [];
  for (const [now, e] of events) {
    const t = step(s, e, now);
    s = t.state;
    effects.push(...t.effects);
  }
  return { s, effects };
}

const advert = (
  from: string,
  priority: number,
  advertIntMs = 1000,
  restarting = false,
): VrrpEvent => ({
  type: 'advert',
  advert: { from, priority, advertIntMs, restarting },
});
const transitions = (effects: VrrpEffect[]) =>
  effects.flatMap((e) => (e.kind === 'transition' ? [`${e.from}->${e.to}:${e.cause}`] : []));

describe('timing (RFC 5798 §6.1)', () => {
  it('master-down interval = 3 × interval + skew', () => {
    expect(masterDownIntervalMs(100, 1000)).toBeCloseTo(3000 + (156 * 1000) / 256);
    expect(masterDownIntervalMs(254, 100)).toBeCloseTo(300 + (2 * 100) / 256);
  });
});

describe('start', () => {
  it('a priority-255 owner becomes master at once and advertises', () => {
    const { s, effects } = run({ priority: 255 }, [[0, { type: 'start', holdsAddresses: false }]]);
    expect(s.state).toBe('master');
    expect(effects[0]).toEqual({ kind: 'send-advert', priority: 255, restarting: false });
    expect(transitions(effects)).toEqual(['init->master:owner']);
  });

  it('anyone else starts as backup and becomes master when no advert comes', () => {
    const { s } = run({}, [[0, { type: 'start', holdsAddresses: false }]]);
    expect(s.state).toBe('backup');
    expect(nextDeadline(s)).toBeCloseTo(masterDownIntervalMs(100, 1000));
    const t = step(s, { type: 'tick' }, masterDownIntervalMs(100, 1000));
    expect(t.state.state).toBe('master');
    expect(transitions([...t.effects])).toEqual(['backup->master:master-down']);
  });

  it('a tick before the deadline does nothing', () => {
    const { s } = run({}, [[0, { type: 'start', holdsAddresses: false }]]);
    expect(step(s, { type: 'tick' }, 100).effects).toEqual([]);
  });
});

describe('backup', () => {
  it('a higher-priority master resets the master-down timer (and its interval is learnt)', () => {
    const { s } = run({}, [
      [0, { type: 'start', holdsAddresses: false }],
      [2000, advert('198.18.0.1', 150, 500)],
    ]);
    expect(s.state).toBe('backup');
    expect(s.masterDownAt).toBeCloseTo(2000 + masterDownIntervalMs(100, 500));
    expect(s.master).toBe('198.18.0.1');
  });

  it('preempt: a lower-priority master is ignored, so the backup takes over', () => {
    const { s, effects } = run({ priority: 150 }, [
      [0, { type: 'start', holdsAddresses: false }],
      [1000, advert('198.18.0.1', 100)],
      [2000, advert('198.18.0.1', 100)],
      [3000, { type: 'tick' }],
      [3500, { type: 'tick' }],
    ]);
    expect(s.state).toBe('master');
    expect(transitions(effects)).toEqual(['init->backup:startup', 'backup->master:master-down']);
  });

  it('nopreempt: a lower-priority master is accepted', () => {
    const { s } = run({ priority: 150, preempt: false }, [
      [0, { type: 'start', holdsAddresses: false }],
      [1000, advert('198.18.0.1', 100)],
      [2000, advert('198.18.0.1', 100)],
      [3500, { type: 'tick' }],
    ]);
    expect(s.state).toBe('backup');
  });

  it('preempt_delay: lower-priority masters are accepted until the delay has passed', () => {
    const events: [number, VrrpEvent][] = [[0, { type: 'start', holdsAddresses: false }]];
    for (let t = 1000; t <= 12_000; t += 1000)
      events.push([t, advert('198.18.0.1', 100)], [t + 1, { type: 'tick' }]);
    const { s, effects } = run({ priority: 150, preemptDelayMs: 5000 }, events);
    expect(s.state).toBe('master');
    const when = effects.findIndex((e) => e.kind === 'transition' && e.to === 'master');
    expect(when).toBeGreaterThan(0);
  });

  it('priority 0 from the only peer: take over at once (ruling 12)', () => {
    const { s, effects } = run({}, [
      [0, { type: 'start', holdsAddresses: false }],
      [1000, advert('198.18.0.1', 150)],
      [1500, advert('198.18.0.1', 0)],
    ]);
    expect(s.state).toBe('master');
    expect(transitions(effects)).toContain('backup->master:peer-stopping');
  });

  it('priority 0 with several backups: wait the skew time (RFC 5798)', () => {
    const { s } = run({ peers: 2 }, [
      [0, { type: 'start', holdsAddresses: false }],
      [1000, advert('198.18.0.1', 150)],
      [1500, advert('198.18.0.1', 0)],
    ]);
    expect(s.state).toBe('backup');
    expect(s.masterDownAt).toBeCloseTo(1500 + (156 * 1000) / 256);
  });

  it('a restarting master gets the grace period before the backup takes over', () => {
    const { s } = run({}, [
      [0, { type: 'start', holdsAddresses: false }],
      [1000, advert('198.18.0.1', 150, 1000, true)],
    ]);
    expect(s.masterDownAt).toBeCloseTo(1000 + masterDownIntervalMs(100, 1000) + 10_000);
  });
});

describe('master', () => {
  const asMaster: [number, VrrpEvent][] = [
    [0, { type: 'start', holdsAddresses: false }],
    [4000, { type: 'tick' }],
  ];

  it('advertises every interval', () => {
    const { s, effects } = run({}, [
      ...asMaster,
      [5000, { type: 'tick' }],
      [6000, { type: 'tick' }],
    ]);
    expect(s.state).toBe('master');
    expect(effects.filter((e) => e.kind === 'send-advert')).toHaveLength(3);
  });

  it('steps down for a higher priority', () => {
    const { s, effects } = run({}, [...asMaster, [4500, advert('198.18.0.1', 101)]]);
    expect(s.state).toBe('backup');
    expect(transitions(effects).at(-1)).toBe('master->backup:higher-priority');
  });

  it('equal priority: the higher primary address wins (§6.4.3)', () => {
    expect(run({}, [...asMaster, [4500, advert('198.18.0.3', 100)]]).s.state).toBe('backup');
    expect(run({}, [...asMaster, [4500, advert('198.18.0.1', 100)]]).s.state).toBe('master');
  });

  it('ignores lower priorities and answers a priority-0 advert at once', () => {
    const { s, effects } = run({}, [
      ...asMaster,
      [4500, advert('198.18.0.1', 50)],
      [4600, advert('198.18.0.1', 0)],
    ]);
    expect(s.state).toBe('master');
    expect(effects.at(-1)).toEqual({ kind: 'send-advert', priority: 100, restarting: false });
  });

  it('a clean stop sends priority 0; a restart sends "restarting" at its priority', () => {
    expect(
      run({}, [...asMaster, [5000, { type: 'stop', restarting: false }]]).effects.slice(-2)[0],
    ).toEqual({ kind: 'send-advert', priority: 0, restarting: false });
    expect(
      run({}, [...asMaster, [5000, { type: 'stop', restarting: true }]]).effects.slice(-2)[0],
    ).toEqual({ kind: 'send-advert', priority: 100, restarting: true });
  });
});

describe('tracking and fault', () => {
  it('a fault takes a master down with a priority-0 advert; clearing it goes to backup', () => {
    const { s, effects } = run({}, [
      [0, { type: 'start', holdsAddresses: false }],
      [4000, { type: 'tick' }],
      [4500, { type: 'track', priority: 100, fault: true }],
    ]);
    expect(s.state).toBe('fault');
    expect(effects.slice(-2)[0]).toEqual({ kind: 'send-advert', priority: 0, restarting: false });
    const t = step(s, { type: 'track', priority: 100, fault: false }, 5000);
    expect(t.state.state).toBe('backup');
  });

  it('in fault, adverts and ticks change nothing', () => {
    const { s } = run({}, [
      [0, { type: 'track', priority: 100, fault: true }],
      [1, { type: 'start', holdsAddresses: false }],
    ]);
    expect(s.state).toBe('fault');
    expect(step(s, advert('198.18.0.1', 200), 2).state).toBe(s);
  });

  it('a priority change is clamped to 1..254 and a master advertises it at once', () => {
    const { s, effects } = run({}, [
      [0, { type: 'start', holdsAddresses: false }],
      [4000, { type: 'tick' }],
      [4500, { type: 'track', priority: 400, fault: false }],
    ]);
    expect(s.effectivePriority).toBe(254);
    expect(effects.slice(-2)).toEqual([
      { kind: 'priority', from: 100, to: 254 },
      { kind: 'send-advert', priority: 254, restarting: false },
    ]);
  });

  it('tracking never changes a priority-255 owner', () => {
    const { s } = run({ priority: 255 }, [
      [0, { type: 'start', holdsAddresses: false }],
      [1, { type: 'track', priority: 10, fault: false }],
    ]);
    expect(s.effectivePriority).toBe(255);
  });
});

describe('restart (ruling 14)', () => {
  it('starting with the addresses held: keep them and resume as master when nobody better is heard', () => {
    const { s, effects } = run({}, [
      [0, { type: 'start', holdsAddresses: true }],
      [1000, advert('198.18.0.1', 50)],
      [4000, { type: 'tick' }],
    ]);
    expect(s.state).toBe('master');
    expect(transitions(effects)).toEqual(['init->master:resumed']);
  });

  it('gives the addresses up when a better master is heard', () => {
    const { s, effects } = run({}, [
      [0, { type: 'start', holdsAddresses: true }],
      [500, advert('198.18.0.1', 150)],
    ]);
    expect(s.state).toBe('backup');
    expect(transitions(effects)).toEqual(['init->backup:higher-priority']);
  });
});

describe('sync group force', () => {
  it('moves a member as its group says', () => {
    const { s } = run({}, [
      [0, { type: 'start', holdsAddresses: false }],
      [10, { type: 'force', to: 'master' }],
    ]);
    expect(s.state).toBe('master');
    expect(step(s, { type: 'force', to: 'backup' }, 20).effects[0]).toEqual({
      kind: 'send-advert',
      priority: 0,
      restarting: false,
    });
  });
});

describe('addresses', () => {
  it('compares IPv4 and IPv6 numerically', () => {
    expect(compareAddresses('198.18.0.10', '198.18.0.9')).toBeGreaterThan(0);
    expect(compareAddresses('2001:db8::10', '2001:db8::9')).toBeGreaterThan(0);
    expect(compareAddresses('2001:db8::1', '2001:db8:0:0::1')).toBe(0);
    expect(
      peerWins(
        { from: '198.18.0.1', priority: 100, advertIntMs: 1000, restarting: false },
        100,
        '198.18.0.2',
      ),
    ).toBe(false);
  });
});

describe('two directors on a lossy network (property)', () => {
  /** A small discrete simulation: two instances, adverts delivered when the link is up. */
  function simulate(
    plan: { at: number; link: boolean }[],
    prioA: number,
    prioB: number,
    preempt: boolean,
  ) {
    const mk = (priority: number, addr: string) =>
      initialInstance({ ...base, priority, primaryAddress: addr, preempt, advertIntMs: 100 });
    const nodes = [
      { addr: '198.18.0.1', s: mk(prioA, '198.18.0.1') },
      { addr: '198.18.0.2', s: mk(prioB, '198.18.0.2') },
    ];
    let link = true;
    const apply = (i: number, e: VrrpEvent, now: number) => {
      const n = nodes[i];
      if (!n) return;
      const t = step(n.s, e, now);
      n.s = t.state;
      for (const eff of t.effects) {
        if (eff.kind !== 'send-advert' || !link) continue;
        const other = nodes[1 - i];
        if (other)
          other.s = step(
            other.s,
            {
              type: 'advert',
              advert: {
                from: n.addr,
                priority: eff.priority,
                advertIntMs: 100,
                restarting: eff.restarting,
              },
            },
            now,
          ).state;
      }
    };
    apply(0, { type: 'start', holdsAddresses: false }, 0);
    apply(1, { type: 'start', holdsAddresses: false }, 0);
    let p = 0;
    for (let now = 0; now <= 20_000; now += 5) {
      while (p < plan.length && (plan[p]?.at ?? Infinity) <= now) link = plan[p++]?.link ?? true;
      nodes.forEach((n, i) => {
        const d = nextDeadline(n.s);
        if (d !== null && d <= now) apply(i, { type: 'tick' }, now);
      });
    }
    return nodes.map((n) => n.s.state);
  }

  it('once the link is up for long enough, exactly one director is master', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 15_000 }), link: fc.boolean() }), {
          maxLength: 10,
        }),
        fc.integer({ min: 1, max: 254 }),
        fc.integer({ min: 1, max: 254 }),
        fc.boolean(),
        (changes, a, b, preempt) => {
          const plan = [...changes.sort((x, y) => x.at - y.at), { at: 15_500, link: true }];
          const states = simulate(plan, a, b, preempt);
          expect(states.filter((s) => s === 'master')).toHaveLength(1);
          expect(states.filter((s) => s === 'backup')).toHaveLength(1);
        },
      ),
      { numRuns: 150 },
    );
  });
});
