import { describe, expect, it } from 'vitest';
import { parseListing, type Listing } from '../../../src/ipvs/ipvsadm-listing.js';
import {
  LIST_CONNECTIONS,
  LIST_DRAINED,
  LIST_DRAINING,
  LIST_E2E_STATS,
  LIST_INT_MAX_WEIGHT,
  LIST_ONE_SERVICE,
  LIST_RATE,
  LIST_RATE_TRAFFIC,
  LIST_STATS,
  LIST_STATS_TRAFFIC,
} from './readme-samples.js';
import { VM_LIST_CONNECTIONS, VM_LIST_STATS_EXACT, VM_LIST_THRESHOLDS } from './vm-samples.js';

function listing(text: string): Listing {
  const result = parseListing(text);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

function service(l: Listing, key: string) {
  const s = l.services.find((x) => x.key === key);
  if (s === undefined) throw new Error(`no ${key}`);
  return s;
}

describe('parseListing: README samples', () => {
  it('-Ln: forwarding, weight, ActiveConn, InActConn (rows end in spaces)', () => {
    const l = listing(LIST_CONNECTIONS);
    expect(l.kind).toBe('connections');
    expect(l.services.map((s) => s.key)).toEqual([
      'tcp:198.18.0.10:80',
      'tcp:198.18.0.20:443',
      'tcp:198.18.0.30:80',
      'udp:198.18.0.10:53',
    ]);
    expect(service(l, 'tcp:198.18.0.20:443').detail).toBe('wlc persistent 300');
    expect(service(l, 'tcp:198.18.0.30:80').destinations[1]).toEqual({
      key: '198.18.1.12:80',
      address: '198.18.1.12',
      port: 80,
      forward: 'Tunnel',
      weight: 2,
      activeConns: 0,
      inactiveConns: 0,
    });
  });

  it('-Ln of a drained server: ActiveConn 1 while weight 0, then 0 after the close', () => {
    const before = service(listing(LIST_DRAINING), 'tcp:198.18.0.10:80').destinations[1];
    expect(before).toMatchObject({
      key: '198.18.1.3:80',
      weight: 0,
      activeConns: 1,
      inactiveConns: 3,
    });
    // `-Ln -t VIP:PORT` has no version line.
    const after = service(listing(LIST_DRAINED), 'tcp:198.18.0.10:80').destinations[1];
    expect(after).toMatchObject({ weight: 0, activeConns: 0, inactiveConns: 4 });
  });

  it('-Ln -t with weight 2147483647 (which breaks the column alignment)', () => {
    const l = listing(LIST_INT_MAX_WEIGHT);
    expect(l.services[0]?.destinations[1]?.weight).toBe(2147483647);
    expect(listing(LIST_ONE_SERVICE).services[0]?.destinations).toHaveLength(2);
  });

  it('--stats, idle and with traffic', () => {
    expect(listing(LIST_STATS).kind).toBe('stats');
    const l = listing(LIST_STATS_TRAFFIC);
    const s = service(l, 'tcp:198.18.0.10:80');
    const traffic = {
      conns: 1,
      inPackets: 231,
      outPackets: 257,
      inBytes: 12053,
      outBytes: 3014469,
    };
    expect(s.stats).toEqual(traffic);
    expect(s.destinations[0]).toMatchObject({ key: '198.18.1.2:80', stats: traffic });
    const e2e = listing(LIST_E2E_STATS);
    expect(service(e2e, 'tcp:198.18.0.10:80').destinations[1]?.stats?.conns).toBe(3);
  });

  it('--rate', () => {
    expect(listing(LIST_RATE).kind).toBe('rate');
    const s = service(listing(LIST_RATE_TRAFFIC), 'tcp:198.18.0.10:80');
    expect(s.rates).toEqual({ cps: 0, inPps: 29, outPps: 32, inBps: 1507, outBps: 376809 });
  });
});

describe('parseListing: VM samples', () => {
  it('--thresholds, with FWM (-1 = 4294967295), FWM IPv6, SCTP, flags, pe, ops', () => {
    const l = listing(VM_LIST_THRESHOLDS);
    expect(l.kind).toBe('thresholds');
    expect(l.services.map((s) => s.key)).toContain('fwm:4294967295');
    expect(service(l, 'fwm6:5').destinations[0]?.key).toBe('[2001:db8::11]:0');
    expect(service(l, 'tcp:198.18.0.12:80').detail).toBe('rr (flag-1,flag-3)');
    expect(service(l, 'tcp:198.18.0.20:80').detail).toBe('sh ()');
    expect(service(l, 'udp:198.18.0.53:53').detail).toBe('nq ops');
    expect(service(l, 'tcp:198.18.0.12:80').destinations[0]).toEqual({
      key: '198.18.1.11:80',
      address: '198.18.1.11',
      port: 80,
      upperThreshold: 100,
      lowerThreshold: 10,
      activeConns: 0,
      inactiveConns: 0,
    });
    expect(service(l, 'sctp:198.18.0.14:80').destinations).toHaveLength(1);
  });

  it('-Ln and --stats --exact of the same table list the same keys', () => {
    const keys = (l: Listing) =>
      l.services.flatMap((s) => [s.key, ...s.destinations.map((d) => d.key)]);
    const a = listing(VM_LIST_CONNECTIONS);
    expect(keys(listing(VM_LIST_STATS_EXACT))).toEqual(keys(a));
    expect(keys(listing(VM_LIST_THRESHOLDS))).toEqual(keys(a));
  });
});

describe('parseListing: abbreviations and hostile input', () => {
  it('reads K/M suffixes of non-exact --stats as scaled values', () => {
    const text =
      'IP Virtual Server version 1.2.1 (size=4096)\n' +
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
      '  -> RemoteAddress:Port\n' +
      'TCP  198.18.0.10:80                      1      231      257  123456K    4567M\n';
    expect(listing(text).services[0]?.stats).toMatchObject({
      inBytes: 123456000,
      outBytes: 4567e6,
    });
  });

  it.each([
    ['', 'incomplete'],
    ['garbage\n', 'not an ipvsadm -Ln header'],
    [`${LIST_CONNECTIONS}XYZ  198.18.0.10:80 rr\n`, 'unknown protocol'],
    [`${LIST_CONNECTIONS}  -> 198.18.1.11:80  Masq 1 0\n`, 'expected 4 columns'],
    [`${LIST_CONNECTIONS}  -> 198.18.1.11:80  Warp 1 0 0\n`, 'unknown forwarding'],
    [`${LIST_STATS}TCP  198.18.0.10:80 1 2 3 4 -5\n`, 'not a counter'],
  ])('%j → %s', (text, message) => {
    const result = parseListing(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.message).toContain(message);
  });

  it('the issue names the line', () => {
    const result = parseListing(`${LIST_CONNECTIONS}  -> nonsense\n`);
    expect(result.ok ? 0 : result.issues[0]?.line).toBe(LIST_CONNECTIONS.split('\n').length);
  });
});
