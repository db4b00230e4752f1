import { describe, expect, it } from 'vitest';
import { apply, applyOp, applyOps } from '../../../src/ipvs/apply.js';
import { diff } from '../../../src/ipvs/diff.js';
import { guard } from '../../../src/ipvs/guard.js';
import { parseSave, renderBatch } from '../../../src/ipvs/ipvsadm-text.js';
import type { Op } from '../../../src/ipvs/op.js';
import {
  EMPTY_TABLE,
  MASQ,
  makeDestination,
  makeService,
  type Table,
} from '../../../src/ipvs/table.js';

function t(text: string): Table {
  const r = parseSave(text);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

const BASE = t(`-A -t 198.18.0.10:80 -s wrr
-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 3
-a -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 1
-A -u 198.18.0.10:53 -s rr
-a -u 198.18.0.10:53 -r 198.18.1.11:53 -m -w 1
`);

/** diff rendered as the ipvsadm -R lines it stands for: the clearest statement of intent. */
function lines(observed: Table, desired: Table): string[] {
  return renderBatch(diff(observed, desired)).trimEnd().split('\n').filter(Boolean);
}

describe('diff: tables of (observed, desired) → ipvsadm lines', () => {
  it.each<[string, string, string[]]>([
    ['adoption of a matching table is zero ops', '', []],
    [
      'weight to 0 (drain or failure) repeats -m',
      '-a -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 0',
      ['-e -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 0'],
    ],
    [
      'forwarding change is an edit (-e can change it: the trap)',
      '-a -t 198.18.0.10:80 -r 198.18.1.12:80 -g -w 1',
      ['-e -t 198.18.0.10:80 -r 198.18.1.12:80 -g -w 1'],
    ],
    [
      'thresholds change is an edit',
      '-a -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 1 -x 100 -y 10',
      ['-e -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 1 -x 100 -y 10'],
    ],
    [
      'scheduler change is -E with everything repeated',
      '-A -t 198.18.0.10:80 -s wlc -p 60',
      ['-E -t 198.18.0.10:80 -s wlc -p 60'],
    ],
    [
      'a new real server is added, a gone one deleted, make before break',
      '-a -t 198.18.0.10:80 -r 198.18.1.13:80 -m -w 1\n-d 198.18.1.12:80',
      ['-a -t 198.18.0.10:80 -r 198.18.1.13:80 -m -w 1', '-d -t 198.18.0.10:80 -r 198.18.1.12:80'],
    ],
  ])('%s', (_name, change, expected) => {
    const desired = mutate(BASE, change);
    expect(lines(BASE, desired)).toEqual(expected);
    expect(apply(BASE, diff(BASE, desired))).toEqual(desired);
  });

  it('a new service comes with its real servers, right after it', () => {
    expect(lines(EMPTY_TABLE, BASE)).toEqual([
      '-A -t 198.18.0.10:80 -s wrr',
      '-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 3',
      '-a -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 1',
      '-A -u 198.18.0.10:53 -s rr',
      '-a -u 198.18.0.10:53 -r 198.18.1.11:53 -m -w 1',
    ]);
  });

  it('deleting a service deletes its real servers: no -d lines for them', () => {
    expect(lines(BASE, EMPTY_TABLE)).toEqual(['-D -t 198.18.0.10:80', '-D -u 198.18.0.10:53']);
  });

  it('another port is another service: delete + add, adds first', () => {
    const desired = t(`-A -t 198.18.0.10:8080 -s wrr
-a -t 198.18.0.10:8080 -r 198.18.1.11:80 -m -w 3
-A -u 198.18.0.10:53 -s rr
-a -u 198.18.0.10:53 -r 198.18.1.11:53 -m -w 1
`);
    expect(lines(BASE, desired)).toEqual([
      '-A -t 198.18.0.10:8080 -s wrr',
      '-a -t 198.18.0.10:8080 -r 198.18.1.11:80 -m -w 3',
      '-D -t 198.18.0.10:80',
    ]);
  });

  it('IPv6 addresses written differently are the same address', () => {
    const a = t(
      '-A -t [2001:db8::10]:80 -s rr\n-a -t [2001:db8::10]:80 -r [2001:db8::11]:80 -m -w 1\n',
    );
    const b = t(
      '-A -t [2001:DB8:0:0::10]:80 -s rr\n-a -t [2001:0db8::10]:80 -r [2001:db8:0::0011]:80 -m -w 1\n',
    );
    expect(diff(a, b)).toEqual([]);
  });

  it('fwmark IPv4 and IPv6 services are distinct', () => {
    const a = t('-A -f 1 -s rr\n');
    const b = t('-A -f 1 -6 -s rr\n');
    expect(lines(a, b)).toEqual(['-A -f 1 -6 -s rr', '-D -f 1']);
  });

  it('drift repair: a weight changed by hand is set back', () => {
    const drifted = mutate(BASE, '-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 7');
    expect(lines(drifted, BASE)).toEqual(['-e -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 3']);
  });
});

describe('apply: kernel refusals', () => {
  const vip = { kind: 'address', protocol: 'tcp', address: '198.18.0.10', port: 80 } as const;
  const missing = { ...vip, address: '198.18.0.99' };
  const rs = makeDestination({ address: '198.18.1.11', port: 80, forwarding: MASQ });
  const other = { address: '198.18.1.99', port: 80 };
  it.each<[string, Op, string]>([
    [
      'add an existing service',
      { kind: 'add-service', service: makeService(vip) },
      'Service already exists',
    ],
    [
      'edit a missing service',
      { kind: 'edit-service', service: makeService(missing) },
      'No such service',
    ],
    ['delete a missing service', { kind: 'delete-service', serviceId: missing }, 'No such service'],
    [
      'add an existing real server',
      { kind: 'add-destination', serviceId: vip, destination: rs },
      'Destination already exists',
    ],
    [
      'add to a missing service',
      { kind: 'add-destination', serviceId: missing, destination: rs },
      'Service not defined',
    ],
    [
      'edit a missing real server',
      { kind: 'edit-destination', serviceId: vip, destination: makeDestination(other) },
      'No such destination',
    ],
    [
      'delete a missing real server',
      { kind: 'delete-destination', serviceId: vip, destination: other },
      'No such destination',
    ],
    [
      'delete of a missing service',
      { kind: 'delete-destination', serviceId: missing, destination: other },
      'Service not defined',
    ],
  ])('%s → %s', (_name, op, message) => {
    expect(applyOp(BASE, op)).toEqual({ ok: false, message });
  });

  it('refused ops do not stop the rest (ipvsadm -R is not atomic)', () => {
    const ops = diff(EMPTY_TABLE, BASE);
    const { table, steps } = applyOps(BASE, [...ops, ...diff(BASE, EMPTY_TABLE)]);
    expect(steps.filter((s) => s.error !== undefined)).toHaveLength(ops.length);
    expect(table).toEqual(EMPTY_TABLE);
  });

  it('a scheduler the kernel lacks is refused as ipvsadm says', () => {
    const op = diff(EMPTY_TABLE, t('-A -t 198.18.0.40:80 -s twos\n'))[0];
    if (op === undefined) throw new Error('no op');
    const { steps } = applyOps(EMPTY_TABLE, [op], { schedulers: ['rr', 'wlc'] });
    expect(steps[0]?.error).toBe('Scheduler or persistence engine not found');
  });
});

describe('guard: blast radius (returns data)', () => {
  const many = t(
    [
      '-A -t 198.18.0.10:80 -s rr',
      ...[11, 12, 13, 14].map((n) => `-a -t 198.18.0.10:80 -r 198.18.1.${n}:80 -m -w 1`),
      '-A -t 198.18.0.20:80 -s rr',
      '-a -t 198.18.0.20:80 -r 198.18.1.11:80 -m -w 1',
    ].join('\n'),
  );

  it.each<[string, Table, Parameters<typeof guard>[2], string[]]>([
    ['nothing to do is fine', many, { maxServiceDeletes: 0 }, []],
    [
      'a deleted service counts its real servers as deleted',
      t(
        [
          '-A -t 198.18.0.10:80 -s rr',
          ...[11, 12, 13, 14].map((n) => `-a -t 198.18.0.10:80 -r 198.18.1.${n}:80 -m -w 1`),
        ].join('\n'),
      ),
      { maxServiceDeletes: 0, maxDestinationDeletes: 0 },
      ['maxServiceDeletes', 'maxDestinationDeletes'],
    ],
    [
      'zeroing 3 of 5 breaks a 50% cap and a 2-zeroed cap',
      mutate(
        many,
        [11, 12, 13].map((n) => `-a -t 198.18.0.10:80 -r 198.18.1.${n}:80 -m -w 0`).join('\n'),
      ),
      { maxDestinationsZeroed: 2, maxFractionLost: 0.5 },
      ['maxDestinationsZeroed', 'maxFractionLost'],
    ],
    [
      'zeroing 2 of 5 is within those caps',
      mutate(
        many,
        [11, 12].map((n) => `-a -t 198.18.0.10:80 -r 198.18.1.${n}:80 -m -w 0`).join('\n'),
      ),
      { maxDestinationsZeroed: 2, maxFractionLost: 0.5 },
      [],
    ],
  ])('%s', (_name, desired, limits, broken) => {
    const report = guard(diff(many, desired), many, limits);
    expect(report.violations.map((v) => v.limit)).toEqual(broken);
    expect(report.ok).toBe(broken.length === 0);
  });

  it('reports the counts', () => {
    const report = guard(diff(many, EMPTY_TABLE), many, {});
    expect(report.counts).toEqual({
      serviceDeletes: 2,
      destinationDeletes: 5,
      destinationsZeroed: 0,
      liveBefore: 5,
      liveAfter: 0,
      liveLost: 5,
    });
  });
});

/**
 * Applies a change written as -Sn lines to `table`: `-a` lines replace or add a real server of
 * an existing service, `-A` lines replace a service (keeping its real servers), `-d ADDR:PORT`
 * removes that real server from the first service.
 */
function mutate(table: Table, change: string): Table {
  const services = new Map(table.services);
  for (const line of change.split('\n').filter(Boolean)) {
    if (line.startsWith('-d ')) {
      const [key, entry] = [...services][0] ?? [];
      if (key === undefined || entry === undefined) throw new Error('empty');
      const destinations = new Map(entry.destinations);
      destinations.delete(line.slice(3));
      services.set(key, { ...entry, destinations });
      continue;
    }
    const parsedLine = line.startsWith('-a ')
      ? t(`${line.replace(/^-a (\S+ \S+).*$/, '-A $1 -s rr')}\n${line}`)
      : t(line);
    for (const [key, e] of parsedLine.services) {
      const old = services.get(key);
      if (old === undefined) throw new Error(`no ${key}`);
      if (line.startsWith('-A ')) services.set(key, { ...old, service: e.service });
      else
        services.set(key, {
          ...old,
          destinations: new Map([...old.destinations, ...e.destinations]),
        });
    }
  }
  return { services };
}
