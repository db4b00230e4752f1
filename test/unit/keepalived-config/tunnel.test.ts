/**
 * Tunnel forwarding as keepalived 2.2.7 writes it: options on the method keyword
 * (`lvs_method TUN type gue port 6080 csum`; check_parser.c `svr_forwarding_handler`), no
 * `tun_*` keywords; validated as keepalived does, carried to the IPVS table (ipvsadm
 * --tun-type/--tun-port/--tun-csum…). keepalived's own verdicts on the same forms are in
 * test/fixtures/keepalived-config/tunnel (test/integration/config/fixture-verdicts.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { describedHost, loadConfig, type Config } from '../../../src/config/index.js';
import { desiredTable } from '../../../src/ipvs/desired.js';
import { renderSave } from '../../../src/ipvs/ipvsadm-text.js';
import { MemorySource } from '../../../src/keepalived-config/index.js';
import { brief, parse } from './helpers.js';

function realServer(line: string): string {
  return `virtual_server 198.18.0.30 80 {\n  lb_algo rr\n  protocol TCP\n  lvs_method TUN\n  real_server 198.18.1.11 80 {\n    ${line}\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n}\n`;
}

function rsOf(line: string) {
  const r = parse(realServer(line));
  return { r, rs: r.model.virtualServers[0]?.realServers[0] };
}

describe('lvs_method TUN options', () => {
  it.each([
    ['lvs_method TUN', { type: 'ipip' }],
    ['lvs_method TUN type ipip nocsum', { type: 'ipip', nocsum: true }],
    ['lvs_method TUN type gue port 6080', { type: 'gue', port: 6080 }],
    ['lvs_method TUN port 6080 type gue csum', { type: 'gue', port: 6080, csum: true }],
    ['lvs_method TUN type gue port 6080 remcsum', { type: 'gue', port: 6080, remcsum: true }],
    ['lvs_method TUN type gre csum', { type: 'gre', csum: true }],
    // The last checksum word wins, as in keepalived.
    ['lvs_method TUN type gue port 1 csum nocsum', { type: 'gue', port: 1, nocsum: true }],
  ])('%s', (line, tunnel) => {
    const { r, rs } = rsOf(line);
    expect(r.diagnostics).toEqual([]);
    expect(rs?.lbKind).toBe('TUN');
    expect(rs?.tunnel).toEqual(tunnel);
  });

  it.each([
    ['lvs_method TUN type gue', 'a gue tunnel needs a port', '6:5 warning missing-value'],
    ['lvs_method TUN port 6080', 'only a gue tunnel takes a port', '6:5 warning bad-value'],
    ['lvs_method TUN type gre port 1', 'only a gue tunnel takes a port', '6:5 warning bad-value'],
    ['lvs_method TUN csum', 'ipip tunnel takes no checksum', '6:5 warning bad-value'],
    ['lvs_method TUN type ipip remcsum', 'ipip tunnel takes no checksum', '6:5 warning bad-value'],
    [
      'lvs_method TUN type gre remcsum',
      'gre tunnel does not support remcsum',
      '6:5 warning bad-value',
    ],
    ['lvs_method TUN type', "'type' needs ipip, gue or gre", '6:20 warning missing-value'],
    ['lvs_method TUN type vxlan', "unknown tunnel type 'vxlan'", '6:25 warning bad-value'],
    ['lvs_method TUN type gue port', "'port' needs a port number", '6:29 warning missing-value'],
    ['lvs_method TUN type gue port 0', 'outside range [1, 65535]', '6:34 warning out-of-range'],
    ['lvs_method TUN type gue port 70000', 'outside range [1, 65535]', '6:34 warning out-of-range'],
    [
      'lvs_method TUN type gue port 1 fast',
      "unknown tunnel option 'fast'",
      '6:36 warning bad-value',
    ],
  ])('%s: one warning, the method stays TUN and the options are dropped', (line, msg, where) => {
    const { r, rs } = rsOf(line);
    expect(brief(r.diagnostics)).toEqual([where]);
    expect(r.diagnostics[0]?.message).toContain(msg);
    expect(rs?.lbKind).toBe('TUN');
    expect(rs?.tunnel).toBeUndefined();
  });

  it('a wrong-case type gets the case hint', () => {
    const { r } = rsOf('lvs_method TUN type GUE port 6080');
    expect(r.diagnostics[0]?.hint).toBe('values are case-sensitive: did you mean gue?');
  });

  it('tunnel options after NAT are checked as keepalived does, then ignored with a notice', () => {
    const ok = rsOf('lvs_method NAT type gue port 6080');
    expect(brief(ok.r.diagnostics)).toEqual(['6:20 notice no-effect']);
    expect(ok.rs?.lbKind).toBe('NAT');
    expect(ok.rs?.tunnel).toBeUndefined();
    const bad = rsOf('lvs_method DR port 6080');
    expect(brief(bad.r.diagnostics)).toEqual(['6:5 warning bad-value']);
  });

  it('tun_* are not keywords in keepalived 2.2.7: unknown, with the right spelling as hint', () => {
    for (const kw of ['tun_type gue', 'tun_port 6080', 'tun_nocsum', 'tun_csum', 'tun_remcsum']) {
      const { r } = rsOf(kw);
      expect(brief(r.diagnostics), kw).toEqual(['6:5 warning unknown-keyword']);
      expect(r.diagnostics[0]?.hint).toContain('lvs_method TUN type ipip|gue|gre');
    }
  });

  it('lb_kind is not a real_server keyword in keepalived 2.2.7 (only lvs_method)', () => {
    const { r } = rsOf('lb_kind TUN type gre');
    expect(brief(r.diagnostics)).toEqual(['6:5 warning unknown-keyword']);
    expect(r.diagnostics[0]?.hint).toContain('only lvs_method');
  });

  it('sorry_server_lvs_method takes the same options', () => {
    const r = parse(
      'virtual_server 198.18.0.30 80 {\n  protocol TCP\n  sorry_server 198.18.1.20 80\n  sorry_server_lvs_method TUN type gue port 6080 csum\n  real_server 198.18.1.11 80 {\n  }\n}\n',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.model.virtualServers[0]?.sorryServerTunnel).toEqual({
      type: 'gue',
      port: 6080,
      csum: true,
    });
  });
});

describe('tunnels in the IPVS table (ipvsadm -R lines)', () => {
  const text = `virtual_server 198.18.0.30 80 {
  lb_algo rr
  protocol TCP
  lvs_method TUN type gue port 6080 csum
  sorry_server 198.18.1.20 80
  real_server 198.18.1.11 80 {
  }
  real_server 198.18.1.12 80 {
    lvs_method TUN type gre csum
  }
  real_server 198.18.1.13 80 {
    lvs_method TUN
  }
  real_server 198.18.1.14 80 {
    lvs_method TUN type gue port 7000 remcsum
  }
}
virtual_server 198.18.0.31 80 {
  lb_algo rr
  protocol TCP
  lvs_method NAT
  sorry_server 198.18.1.21 80
  sorry_server_lvs_method TUN type gre
  real_server 198.18.1.15 80 {
  }
}
`;
  function config(): Config {
    const r = loadConfig('/k/keepalived.conf', {
      source: new MemorySource({ '/k/keepalived.conf': text }),
      host: describedHost({ interfaces: ['lo'], executables: [], users: ['root'] }),
      configId: 'test',
      hostname: 'test',
    });
    expect(r.diagnostics.filter((d) => d.severity !== 'notice')).toEqual([]);
    if (!r.config) throw new Error('no config');
    return r.config;
  }
  /** The desired table as ipvsadm -R lines, every real server present at weight 1. */
  function saveLines(quorumUp: boolean): string[] {
    const table = desiredTable({
      config: config(),
      placement: () => ({ kind: 'present', weight: 1 }),
      quorumUp: () => quorumUp,
      drained: () => false,
    });
    return renderSave(table).trimEnd().split('\n');
  }

  it('each real server gets its own tunnel, inheriting the virtual server one', () => {
    expect(saveLines(true)).toEqual([
      '-A -t 198.18.0.30:80 -s rr',
      '-a -t 198.18.0.30:80 -r 198.18.1.11:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
      '-a -t 198.18.0.30:80 -r 198.18.1.12:80 -i -w 1 --tun-type gre --tun-csum',
      '-a -t 198.18.0.30:80 -r 198.18.1.13:80 -i -w 1 --tun-type ipip',
      '-a -t 198.18.0.30:80 -r 198.18.1.14:80 -i -w 1 --tun-type gue --tun-port 7000 --tun-remcsum',
      '-A -t 198.18.0.31:80 -s rr',
      '-a -t 198.18.0.31:80 -r 198.18.1.15:80 -m -w 1',
    ]);
  });

  it('a sorry server keeps its tunnel (its own, or the virtual server one)', () => {
    expect(saveLines(false)).toEqual([
      '-A -t 198.18.0.30:80 -s rr',
      '-a -t 198.18.0.30:80 -r 198.18.1.20:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
      '-A -t 198.18.0.31:80 -s rr',
      '-a -t 198.18.0.31:80 -r 198.18.1.21:80 -i -w 1 --tun-type gre --tun-nocsum',
    ]);
  });
});
