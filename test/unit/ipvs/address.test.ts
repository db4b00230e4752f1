import { describe, expect, it } from 'vitest';
import { canonicalAddress, compareAddresses, parseEndpoint } from '../../../src/ipvs/address.js';

describe('canonicalAddress', () => {
  // Right-hand sides as ipvsadm -Sn printed the left-hand sides (VM, glibc inet_ntop).
  it.each([
    ['2001:db8:0:0::0011', '2001:db8::11'],
    ['2001:DB8:0:0:1::20', '2001:db8::1:0:0:20'],
    ['2001:DB8:0:0:1:0:0:20', '2001:db8::1:0:0:20'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:198.18.0.1', '::ffff:198.18.0.1'],
    ['::ffff:c612:1', '::ffff:198.18.0.1'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8::', '2001:db8::'],
    ['198.18.0.10', '198.18.0.10'],
  ])('%s → %s', (input, canonical) => {
    expect(canonicalAddress(input)).toBe(canonical);
  });

  it.each([
    '198.18.0.300',
    '198.18.0',
    '198.18.0.010',
    '2001:db8::1::2',
    '2001:db8:0:0:0:0:0:0:1',
    '2001:db8::12345',
    'fe80::1%eth0',
    '::ffff:198.18.0.256',
    'not-an-ip',
    '',
  ])('refuses %j', (input) => {
    expect(canonicalAddress(input)).toBeUndefined();
  });
});

describe('parseEndpoint', () => {
  it('reads IPv4 and bracketed IPv6 with ports, canonicalising', () => {
    expect(parseEndpoint('198.18.0.10:80')).toEqual({ address: '198.18.0.10', port: 80 });
    expect(parseEndpoint('[2001:DB8::0:11]:0')).toEqual({ address: '2001:db8::11', port: 0 });
  });

  it.each([
    '198.18.0.10',
    '198.18.0.10:99999',
    '2001:db8::1:80',
    '[2001:db8::1]',
    '[198.18.0.1]:80',
    ':80',
  ])('refuses %j', (input) => {
    expect(parseEndpoint(input)).toBeUndefined();
  });
});

describe('compareAddresses', () => {
  it('IPv4 before IPv6, then numerically', () => {
    const sorted = ['2001:db8::2', '198.18.1.12', '2001:db8::10', '198.18.1.9'].sort(
      compareAddresses,
    );
    expect(sorted).toEqual(['198.18.1.9', '198.18.1.12', '2001:db8::2', '2001:db8::10']);
  });
});
