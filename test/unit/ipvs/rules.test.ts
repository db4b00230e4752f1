import { describe, expect, it } from 'vitest';
import { checkDestination, checkService } from '../../../src/ipvs/rules.js';
import {
  IPIP,
  MASQ,
  ROUTE,
  makeDestination,
  makeService,
  type Destination,
  type Service,
  type ServiceId,
} from '../../../src/ipvs/table.js';

const vip: ServiceId = { kind: 'address', protocol: 'tcp', address: '198.18.0.10', port: 80 };

describe('checkService: what ipvsadm refuses (messages measured in the VM)', () => {
  const base = makeService({ protocol: 'tcp', address: '198.18.0.10', port: 80 });
  it.each<[string, Service, string | undefined]>([
    ['valid', base, undefined],
    [
      'port 0 without persistence',
      makeService({ protocol: 'tcp', address: '198.18.0.40', port: 0 }),
      'Zero port specified for non-persistent service',
    ],
    ['timeout 0', { ...base, persistence: { timeout: 0 } }, "invalid timeout value `0' specified"],
    [
      'timeout 2678401',
      { ...base, persistence: { timeout: 2678401 } },
      "invalid timeout value `2678401' specified",
    ],
    ['fwmark 0', makeService({ fwmark: 0 }), "invalid fwmark value `0' specified"],
    [
      'IPv6 netmask 129',
      makeService(
        { protocol: 'tcp', address: '2001:db8::1', port: 80 },
        { persistence: { timeout: 1, netmask: '129' } },
      ),
      'illegal ipv6 netmask specified',
    ],
    [
      'port 99999',
      { ...base, id: { ...vip, port: 99999 } },
      'illegal virtual server address[:port] specified',
    ],
    [
      'sh with flag-3 (unreadable in -Sn)',
      { ...base, scheduler: 'sh', schedFlags: [3] },
      'lvsd: flag-3 with sh cannot be read back from ipvsadm -Sn',
    ],
  ])('%s', (_name, service, message) => {
    expect(checkService(service)).toBe(message);
  });
});

describe('checkDestination', () => {
  const d = (over: Partial<Destination>): Destination =>
    makeDestination({ address: '198.18.1.11', port: 80, forwarding: MASQ, ...over });
  it.each<[string, ServiceId, Destination, string | undefined]>([
    ['valid NAT', vip, d({}), undefined],
    ['NAT to another port', vip, d({ port: 8080 }), undefined],
    ['weight 2147483647', vip, d({ weight: 2147483647 }), undefined],
    ['weight 2147483648', vip, d({ weight: 2147483648 }), 'illegal weight specified'],
    ['weight -1', vip, d({ weight: -1 }), 'illegal weight specified'],
    [
      'lower above upper',
      vip,
      d({ upperThreshold: 5, lowerThreshold: 10 }),
      'Numerical result out of range',
    ],
    [
      'IPv6 real server for NAT',
      vip,
      d({ address: '2001:db8::1' }),
      'Different address family is allowed only for tunneling servers',
    ],
    ['IPv6 real server for TUN', vip, d({ address: '2001:db8::1', forwarding: IPIP }), undefined],
    [
      'gue port 0',
      vip,
      d({ forwarding: { method: 'tunnel', tunnel: { type: 'gue', port: 0, checksum: 'nocsum' } } }),
      'illegal tunnel port specified',
    ],
    [
      'DR on another port',
      vip,
      d({ port: 8080, forwarding: ROUTE }),
      'lvsd: a route real server must use the service port 80 (ipvsadm would rewrite 198.18.1.11:8080)',
    ],
    [
      'DR on any port of a fwmark service',
      { kind: 'fwmark', fwmark: 1, family: 'inet' },
      d({ port: 0, forwarding: ROUTE }),
      undefined,
    ],
  ])('%s', (_name, id, dest, message) => {
    expect(checkDestination(id, dest)).toBe(message);
  });
});
