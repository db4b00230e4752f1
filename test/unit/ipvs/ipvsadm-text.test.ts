import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSave, renderBatch, renderOp, renderSave } from '../../../src/ipvs/ipvsadm-text.js';
import type { Op } from '../../../src/ipvs/op.js';
import {
  IPIP,
  MASQ,
  ROUTE,
  SCHEDULERS,
  makeDestination,
  makeService,
  type Table,
} from '../../../src/ipvs/table.js';
import {
  SAVE_MIXED_METHODS,
  SAVE_NAT_DR_TUN_UDP,
  SAVE_OTHER_KINDS,
  SAVE_SORTED,
} from './readme-samples.js';
import { VM_SAVE } from './vm-samples.js';

function parsed(text: string): Table {
  const result = parseSave(text);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

function entry(table: Table, key: string) {
  const e = table.services.get(key);
  if (e === undefined) throw new Error(`no ${key} in ${[...table.services.keys()].join(', ')}`);
  return e;
}

describe('parseSave: README samples', () => {
  it('reads NAT, DR, TUN and UDP services with weights and persistence', () => {
    const t = parsed(SAVE_NAT_DR_TUN_UDP);
    expect([...t.services.keys()]).toEqual([
      'tcp:198.18.0.10:80',
      'tcp:198.18.0.20:443',
      'tcp:198.18.0.30:80',
      'udp:198.18.0.10:53',
    ]);
    const nat = entry(t, 'tcp:198.18.0.10:80');
    expect(nat.service).toEqual(
      makeService({ protocol: 'tcp', address: '198.18.0.10', port: 80 }, { scheduler: 'wrr' }),
    );
    expect(nat.destinations.get('198.18.1.11:80')).toEqual(
      makeDestination({ address: '198.18.1.11', port: 80, forwarding: MASQ, weight: 3 }),
    );
    const dr = entry(t, 'tcp:198.18.0.20:443');
    expect(dr.service.scheduler).toBe('wlc');
    expect(dr.service.persistence).toEqual({ timeout: 300 });
    expect(dr.destinations.get('198.18.1.12:443')?.forwarding).toEqual(ROUTE);
    const tun = entry(t, 'tcp:198.18.0.30:80');
    expect(tun.destinations.get('198.18.1.12:80')).toMatchObject({ forwarding: IPIP, weight: 2 });
    expect(entry(t, 'udp:198.18.0.10:53').service.scheduler).toBe('lc');
  });

  it('reads fwmark, port-0 persistent, netmask, one-packet and IPv6 services', () => {
    const t = parsed(SAVE_OTHER_KINDS);
    expect(entry(t, 'tcp:198.18.0.50:0').service).toMatchObject({
      scheduler: 'sh',
      persistence: { timeout: 120 },
    });
    expect(entry(t, 'tcp:198.18.0.52:80').service.persistence).toEqual({
      timeout: 30,
      netmask: '255.255.255.0',
    });
    expect(entry(t, 'udp:198.18.0.53:53').service.onePacket).toBe(true);
    const v6 = entry(t, 'tcp:[2001:db8::10]:80');
    expect([...v6.destinations.keys()]).toEqual(['[2001:db8::11]:80']);
    const fwm = entry(t, 'fwm:7');
    expect(fwm.service.id).toEqual({ kind: 'fwmark', fwmark: 7, family: 'inet' });
    expect(fwm.destinations.get('198.18.1.11:0')?.forwarding).toEqual(ROUTE);
  });

  it('renders every README -Sn sample back byte for byte (same options, same order)', () => {
    for (const sample of [SAVE_NAT_DR_TUN_UDP, SAVE_SORTED, SAVE_OTHER_KINDS, SAVE_MIXED_METHODS]) {
      expect(renderSave(parsed(sample))).toBe(sample);
    }
  });
});

describe('parseSave: VM samples (flags, SCTP, fwmark IPv6, tunnels)', () => {
  const t = parsed(VM_SAVE);

  it('keeps scheduler flags as bits, named by scheduler', () => {
    expect(entry(t, 'tcp:198.18.0.10:80').service.schedFlags).toEqual([1, 2]);
    expect(entry(t, 'tcp:198.18.0.11:80').service.schedFlags).toEqual([1, 2]);
    expect(entry(t, 'tcp:198.18.0.12:80').service.schedFlags).toEqual([1, 3]);
    expect(entry(t, 'tcp:198.18.0.13:80').service.schedFlags).toEqual([2]);
    // `-s sh -b flag-3` comes out as `-b ` with nothing after it.
    expect(entry(t, 'tcp:198.18.0.20:80').service.schedFlags).toEqual([]);
  });

  it('reads fwmark 4294967295, which ipvsadm prints as -1', () => {
    expect(entry(t, 'fwm:4294967295').service.scheduler).toBe('fo');
  });

  it('reads SCTP, --pe, -o, IPv6 netmasks and IPv6 fwmarks', () => {
    expect(entry(t, 'sctp:198.18.0.14:80').destinations.size).toBe(1);
    expect(entry(t, 'udp:198.18.0.15:5060').service).toMatchObject({
      persistence: { timeout: 60 },
      persistenceEngine: 'sip',
    });
    expect(entry(t, 'udp:198.18.0.53:53').service).toMatchObject({
      scheduler: 'nq',
      onePacket: true,
    });
    expect(entry(t, 'tcp:[2001:db8::20]:80').service.persistence).toEqual({
      timeout: 60,
      netmask: '64',
    });
    expect(entry(t, 'fwm6:5').destinations.get('[2001:db8::11]:0')?.forwarding).toEqual(ROUTE);
    expect(entry(t, 'fwm:6').service.persistence).toEqual({ timeout: 60, netmask: '255.255.0.0' });
  });

  it('reads gue and gre tunnels and an IPv6 real server of an IPv4 tunnel service', () => {
    const d = entry(t, 'tcp:198.18.0.12:80').destinations;
    expect(d.get('198.18.1.13:80')?.forwarding).toEqual({
      method: 'tunnel',
      tunnel: { type: 'gue', port: 6080, checksum: 'nocsum' },
    });
    expect(d.get('198.18.1.15:80')).toMatchObject({
      weight: 0,
      forwarding: { method: 'tunnel', tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' } },
    });
    expect(d.get('198.18.1.16:80')?.forwarding).toEqual({
      method: 'tunnel',
      tunnel: { type: 'gre', checksum: 'csum' },
    });
    expect(d.get('198.18.1.12:80')?.weight).toBe(2147483647);
    expect(d.get('[2001:db8::99]:80')?.forwarding).toEqual(IPIP);
  });

  it('renders it back as ipvsadm does, except the unreadable `-b ` and the -1 fwmark', () => {
    const expected = VM_SAVE.replace('-A -f -1 -s fo', '-A -f 4294967295 -s fo').replace(
      '-s sh -b \n',
      '-s sh\n',
    );
    expect(renderSave(t)).toBe(expected);
  });
});

describe('parseSave: every scheduler', () => {
  it.each(SCHEDULERS)('%s', (scheduler) => {
    const t = parsed(`-A -t 198.18.0.10:80 -s ${scheduler}\n`);
    expect(entry(t, 'tcp:198.18.0.10:80').service.scheduler).toBe(scheduler);
  });
});

describe('parseSave: hostile input', () => {
  it('an empty table is empty output', () => {
    expect(parsed('').services.size).toBe(0);
  });

  it.each([
    ['-A -t 198.18.0.10:80 -s nosuch', 1, 'unknown scheduler'],
    ['-A -t 198.18.0.300:80 -s rr', 1, 'illegal virtual server'],
    ['-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 1', 1, 'before its service'],
    [
      '-A -t 198.18.0.10:80 -s rr\n-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w abc',
      2,
      'invalid weight',
    ],
    ['-A -t 198.18.0.10:80 -s rr\n-A -t 198.18.0.10:80 -s rr', 2, 'listed twice'],
    ['IP Virtual Server version 1.2.1 (size=4096)', 1, 'expected -A or -a'],
    ['-A -t 198.18.0.10:80 -s rr # comment', 1, 'unexpected "#"'],
    ['-A -t 198.18.0.10:80 -s rr -b sh-port', 1, 'incompatible scheduler flag'],
    [
      '-A -t 198.18.0.10:80 -s rr\n-a -t 198.18.0.10:80 -r 198.18.1.1:80 -m -w 1 --tun-type gre',
      2,
      'conflict',
    ],
    ['-A -t 198.18.0.10:80 -s rr -p 0', 1, 'persistence timeout'],
    ['-A -t 198.18.0.10:80', 1, 'without a scheduler'],
    ['-A -t 198.18.0.10:80 -s', 1, 'needs a value'],
  ])('%j → issue on line %i', (text, line, message) => {
    const result = parseSave(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]?.line).toBe(line);
    expect(result.issues[0]?.message).toContain(message);
  });

  it('reports every bad line, not only the first', () => {
    const result = parseSave('junk\n-A -t 198.18.0.10:80 -s rr\nmore junk\n');
    expect(result.ok ? [] : result.issues.map((i) => i.line)).toEqual([1, 3]);
  });

  it('never throws, whatever the input', () => {
    const token = fc.constantFrom(
      '-A',
      '-a',
      '-t',
      '-u',
      '-f',
      '-6',
      '-s',
      'rr',
      '-b',
      'flag-1',
      '-p',
      '60',
      '-M',
      '-r',
      '-m',
      '-g',
      '-i',
      '-w',
      '1',
      '-x',
      '-y',
      '--tun-type',
      'gue',
      '--tun-port',
      '--tun-csum',
      '198.18.0.10:80',
      '[2001:db8::1]:80',
      '[::',
      '-1',
      '99999999999',
      '\u0000',
      '',
    );
    const line = fc.oneof(
      fc.array(token, { maxLength: 12 }).map((t) => t.join(' ')),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const result = parseSave(lines.join('\n'));
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('renderOp', () => {
  const vip = { kind: 'address', protocol: 'tcp', address: '198.18.0.10', port: 80 } as const;
  const rs = makeDestination({ address: '198.18.1.11', port: 80, forwarding: MASQ, weight: 0 });

  it.each<[string, Op, string]>([
    [
      'edit repeats the forwarding flag and the weight (else -e switches to DR, weight 1)',
      { kind: 'edit-destination', serviceId: vip, destination: rs },
      '-e -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 0',
    ],
    [
      'edit repeats thresholds and tunnel options (else -e resets them)',
      {
        kind: 'edit-destination',
        serviceId: vip,
        destination: makeDestination({
          address: '198.18.1.11',
          port: 80,
          forwarding: { method: 'tunnel', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } },
          weight: 5,
          upperThreshold: 100,
          lowerThreshold: 10,
        }),
      },
      '-e -t 198.18.0.10:80 -r 198.18.1.11:80 -i -w 5 -x 100 -y 10 --tun-type gue --tun-port 6080 --tun-csum',
    ],
    [
      'ipip is spelt out',
      {
        kind: 'add-destination',
        serviceId: vip,
        destination: makeDestination({ address: '198.18.1.11', port: 80, forwarding: IPIP }),
      },
      '-a -t 198.18.0.10:80 -r 198.18.1.11:80 -i -w 1 --tun-type ipip',
    ],
    [
      '-E repeats scheduler, flags, persistence, netmask, engine and -o (else they reset)',
      {
        kind: 'edit-service',
        service: makeService(
          { protocol: 'udp', address: '198.18.0.15', port: 5060 },
          {
            scheduler: 'sh',
            schedFlags: [2, 1],
            persistence: { timeout: 60, netmask: '255.255.255.0' },
            persistenceEngine: 'sip',
            onePacket: true,
          },
        ),
      },
      '-E -u 198.18.0.15:5060 -s sh -b sh-fallback,sh-port -p 60 -M 255.255.255.0 --pe sip -o',
    ],
    [
      'IPv6 fwmark services carry -6',
      {
        kind: 'add-destination',
        serviceId: { kind: 'fwmark', fwmark: 5, family: 'inet6' },
        destination: makeDestination({ address: '2001:db8::11', port: 0, forwarding: ROUTE }),
      },
      '-a -f 5 -6 -r [2001:db8::11]:0 -g -w 1',
    ],
    [
      'SCTP uses the long switch',
      {
        kind: 'delete-service',
        serviceId: { kind: 'address', protocol: 'sctp', address: '198.18.0.14', port: 80 },
      },
      '-D --sctp-service 198.18.0.14:80',
    ],
    [
      'delete of a real server names only its address',
      {
        kind: 'delete-destination',
        serviceId: vip,
        destination: { address: '198.18.1.11', port: 80 },
      },
      '-d -t 198.18.0.10:80 -r 198.18.1.11:80',
    ],
  ])('%s', (_name, op, line) => {
    expect(renderOp(op)).toBe(line);
  });

  it('a batch is one line per op, newline-terminated, with no comments', () => {
    const batch = renderBatch([
      {
        kind: 'add-service',
        service: makeService({ protocol: 'tcp', address: '198.18.0.10', port: 80 }),
      },
      { kind: 'add-destination', serviceId: vip, destination: rs },
    ]);
    expect(batch).toBe(
      '-A -t 198.18.0.10:80 -s wlc\n-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 0\n',
    );
    expect(batch).not.toContain('#');
  });
});
