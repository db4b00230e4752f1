/** Ruling 9 name resolution: prefixes, IPv6 canonical forms, groups, ambiguity, near misses. */
import { describe, expect, it } from 'vitest';
import { resolveServer, resolveVirtualServer } from '../../../src/admin/resolve.js';
import { fixtureConfig } from './fixtures.js';

const config = fixtureConfig();

describe('virtual server names', () => {
  it.each([
    ['tcp:198.18.0.10:80', 'tcp:198.18.0.10:80'],
    ['TCP:198.18.0.10:80', 'tcp:198.18.0.10:80'],
    ['198.18.0.10:80', 'tcp:198.18.0.10:80'],
    [' 198.18.0.10:80 ', 'tcp:198.18.0.10:80'],
    ['udp:198.18.0.10:53', 'udp:198.18.0.10:53'],
    ['tcp:198.18.0.10:53', 'tcp:198.18.0.10:53'],
    ['fwm:7', 'fwm:7'],
    ['group:WEB', 'group:WEB'],
    ['tcp:[2001:db8::10]:443', 'tcp:[2001:db8::10]:443'],
    ['[2001:db8::10]:443', 'tcp:[2001:db8::10]:443'],
    ['[2001:DB8:0:0::10]:443', 'tcp:[2001:db8::10]:443'],
    ['[2001:0db8:0000:0000:0000:0000:0000:0010]:443', 'tcp:[2001:db8::10]:443'],
  ])('%s → %s', (input, name) => {
    const r = resolveVirtualServer(config, input);
    expect(r.ok && r.value.name).toBe(name);
  });

  it('without a protocol, a name that matches tcp and udp is AMBIGUOUS with both candidates', () => {
    const r = resolveVirtualServer(config, '198.18.0.10:53');
    expect(r).toEqual({
      ok: false,
      error: {
        code: 'AMBIGUOUS',
        message: "'198.18.0.10:53' names 2 virtual servers: tcp:198.18.0.10:53, udp:198.18.0.10:53",
        hint: 'add the protocol: tcp:, udp: or sctp:',
        candidates: ['tcp:198.18.0.10:53', 'udp:198.18.0.10:53'],
      },
    });
  });

  it.each([
    ['198.18.0.10:81', ['tcp:198.18.0.10:80', 'tcp:198.18.0.10:53', 'udp:198.18.0.10:53']],
    ['udp:198.18.0.10:80', ['tcp:198.18.0.10:80', 'udp:198.18.0.10:53', 'tcp:198.18.0.10:53']],
    ['198.18.0.99:443', ['tcp:[2001:db8::10]:443']],
    ['fwm:8', ['fwm:7']],
    ['group:WEBB', ['group:WEB']],
  ])('unknown %s → NOT_FOUND with close candidates', (input, candidates) => {
    const r = resolveVirtualServer(config, input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('NOT_FOUND');
    expect(r.error.candidates).toEqual(candidates);
  });

  it('a member address of a virtual_server_group points to the group', () => {
    const r = resolveVirtualServer(config, 'tcp:198.18.0.21:80');
    expect(r).toMatchObject({
      ok: false,
      error: {
        code: 'NOT_FOUND',
        candidates: ['group:WEB'],
        message: "'tcp:198.18.0.21:80' is part of group:WEB: name the group",
      },
    });
  });

  it('an unknown name with nothing close says where to look', () => {
    const r = resolveVirtualServer(config, '198.19.99.1:8080');
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND', hint: 'lvsd status lists the configured virtual servers' },
    });
    expect(r.ok || r.error.candidates).toBeUndefined();
  });

  it.each([
    '',
    'web',
    '198.18.0.10',
    '198.18.0.10:99999',
    '2001:db8::10:443',
    'tcp:',
    'fwm:x',
    '198.18.0.010:80',
    'icmp:198.18.0.99:1',
  ])('%j is BAD_NAME', (input) => {
    const r = resolveVirtualServer(config, input);
    expect(r.ok || r.error.code).toBe('BAD_NAME');
  });
});

describe('real server names', () => {
  it('finds a real server within its virtual server, IPv6 canonicalised', () => {
    const r = resolveServer(config, '[2001:db8::10]:443', '[2001:DB8:1:0::11]:443');
    expect(r.ok && [r.value.vs.name, r.value.rs.name]).toEqual([
      'tcp:[2001:db8::10]:443',
      '[2001:db8:1::11]:443',
    ]);
  });

  it('an unknown real server is NOT_FOUND listing the virtual server’s close ones', () => {
    const r = resolveServer(config, 'tcp:198.18.0.10:80', '198.18.1.11:81');
    expect(r).toEqual({
      ok: false,
      error: {
        code: 'NOT_FOUND',
        message: 'no real server 198.18.1.11:81 in tcp:198.18.0.10:80',
        hint: 'tcp:198.18.0.10:80 has 198.18.1.11:80',
        candidates: ['198.18.1.11:80'],
      },
    });
  });

  it('a real server of another virtual server is not found here', () => {
    const r = resolveServer(config, 'tcp:198.18.0.10:80', '198.18.1.21:80');
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND', candidates: ['198.18.1.11:80', '198.18.1.12:80'] },
    });
  });

  it('a malformed real server is BAD_NAME; the virtual server is checked first', () => {
    expect(resolveServer(config, 'tcp:198.18.0.10:80', 'x')).toMatchObject({
      ok: false,
      error: { code: 'BAD_NAME' },
    });
    expect(resolveServer(config, 'nope', 'x')).toMatchObject({
      ok: false,
      error: { code: 'BAD_NAME', message: "'nope' is not a virtual server name" },
    });
  });
});
