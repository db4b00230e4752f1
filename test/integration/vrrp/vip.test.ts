/**
 * The VIP drivers: `ip addr` in a network namespace (root only) and the in-memory twin, run
 * through the same scenarios so the twin is held to what `ip` really does.
 *
 * Proves: add is idempotent (changed, then not), remove likewise; the options of a
 * keepalived virtual_ipaddress line (label, scope, brd, noprefixroute, peer, IPv6 nodad) reach
 * the kernel and come back from `ip -j addr`; a missing device is VIP_NO_DEVICE in both; the
 * same address with another prefix is another IPv4 address; a director entering BACKUP that
 * still holds a VIP (left over by a crash) removes it, and only it; ip_forward is checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLvsdError } from '../../../src/lib/errors.js';
import { checkIpForward, readSysctl } from '../../../src/vrrp/drivers/sysctl.js';
import { IprouteVipDriver } from '../../../src/vrrp/drivers/vip-iproute.js';
import { MemoryVipDriver } from '../../../src/vrrp/drivers/vip-memory.js';
import {
  VIP_ERROR_CODES,
  releaseVips,
  type VipAddress,
  type VipDriver,
} from '../../../src/vrrp/drivers/vip.js';
import { announceSkip } from '../../ipvs/helpers.js';
import { NetnsLab, probeNetns } from '../../helpers/netns.js';

const probe = probeNetns();
announceSkip('VIP driver in a network namespace', probe);

const VIP: VipAddress = { address: '198.18.0.10', prefixLength: 32, dev: 'eth0' };
const DIP: VipAddress = { address: '198.18.1.254', prefixLength: 24, dev: 'eth1' };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return isLvsdError(e) ? e.code : String(e);
  }
}

/** The scenarios both drivers must pass; `setup` gives a driver with devices eth0 and eth1. */
function scenarios(name: string, setup: () => VipDriver): void {
  describe(name, () => {
    it('add twice: changed, then not; remove twice: changed, then not', async () => {
      const d = setup();
      expect(await d.hasAddress(VIP)).toBe(false);
      expect(await d.add(VIP)).toEqual({ changed: true });
      expect(await d.add(VIP)).toEqual({ changed: false });
      expect(await d.hasAddress(VIP)).toBe(true);
      expect(await d.remove(VIP)).toEqual({ changed: true });
      expect(await d.remove(VIP)).toEqual({ changed: false });
      expect(await d.hasAddress(VIP)).toBe(false);
    });

    it('the same IPv4 address with another prefix is another address', async () => {
      const d = setup();
      await d.add(VIP);
      const wide = { ...VIP, prefixLength: 24 };
      expect(await d.hasAddress(wide)).toBe(false);
      expect(await d.remove(wide)).toEqual({ changed: false });
      expect(await d.add(wide)).toEqual({ changed: true });
      const mine = (await d.list('eth0')).filter((a) => a.address === VIP.address);
      expect(mine.map((a) => a.prefixLength).sort()).toEqual([24, 32]);
      await d.remove(VIP);
      await d.remove(wide);
    });

    it('keepalived line options come back from the listing', async () => {
      const d = setup();
      const labelled: VipAddress = {
        address: '198.18.0.20',
        prefixLength: 32,
        dev: 'eth0',
        label: 'eth0:vip',
        scope: 'link',
        noPrefixRoute: true,
      };
      const brd: VipAddress = {
        ...DIP,
        broadcast: '198.18.1.255',
      };
      const ptp: VipAddress = {
        address: '198.18.0.21',
        prefixLength: 32,
        dev: 'eth0',
        peer: '198.18.0.22',
      };
      const v6: VipAddress = { address: '2001:DB8:0::10', prefixLength: 64, dev: 'eth0' };
      for (const v of [labelled, brd, ptp, v6]) expect(await d.add(v)).toEqual({ changed: true });
      const eth0 = await d.list('eth0');
      expect(eth0.find((a) => a.address === '198.18.0.20')).toMatchObject({
        family: 4,
        prefixLength: 32,
        scope: 'link',
        label: 'eth0:vip',
      });
      expect(eth0.find((a) => a.address === '198.18.0.20')?.flags).toContain('noprefixroute');
      expect(eth0.find((a) => a.address === '198.18.0.21')).toMatchObject({ peer: '198.18.0.22' });
      // canonical IPv6 text; keepalived adds IPv6 VIPs with nodad
      const six = eth0.find((a) => a.address === '2001:db8::10');
      expect(six).toMatchObject({ family: 6, prefixLength: 64 });
      expect(six?.flags).toContain('nodad');
      expect(await d.hasAddress(v6)).toBe(true);
      expect((await d.list('eth1')).find((a) => a.address === DIP.address)).toMatchObject({
        broadcast: '198.18.1.255',
        prefixLength: 24,
      });
      // the peer address is part of the identity: removing without it is "not there"
      expect(await d.remove({ ...ptp, peer: undefined } as unknown as VipAddress)).toEqual({
        changed: false,
      });
      for (const v of [labelled, brd, ptp, v6])
        expect(await d.remove(v)).toEqual({ changed: true });
    });

    it('a missing device is VIP_NO_DEVICE for list, add and remove', async () => {
      const d = setup();
      const gone = { ...VIP, dev: 'nosuch0' };
      expect(await codeOf(d.list('nosuch0'))).toBe(VIP_ERROR_CODES.noDevice);
      expect(await codeOf(d.add(gone))).toBe(VIP_ERROR_CODES.noDevice);
      expect(await codeOf(d.remove(gone))).toBe(VIP_ERROR_CODES.noDevice);
    });

    it('a bad address or prefix is VIP_BAD_ADDRESS before anything runs', async () => {
      const d = setup();
      expect(await codeOf(d.add({ ...VIP, address: '198.18.0.300' }))).toBe(
        VIP_ERROR_CODES.badAddress,
      );
      expect(await codeOf(d.add({ ...VIP, prefixLength: 33 }))).toBe(VIP_ERROR_CODES.badAddress);
      expect(await codeOf(d.add({ ...VIP, label: 'other:1' }))).toBe(VIP_ERROR_CODES.badAddress);
    });

    it('entering BACKUP releases a VIP left over from before, and nothing else', async () => {
      const d = setup();
      // A crash left the VIP on eth0 (the DIP is not held); the host's own address stays.
      await d.add(VIP);
      const own: VipAddress = { address: '198.18.0.1', prefixLength: 24, dev: 'eth0' };
      await d.add(own);
      expect(await releaseVips(d, [VIP, DIP])).toEqual([VIP]);
      expect(await d.hasAddress(VIP)).toBe(false);
      expect(await d.hasAddress(own)).toBe(true);
      expect(await releaseVips(d, [VIP, DIP])).toEqual([]); // idempotent
      await d.remove(own);
    });
  });
}

scenarios('MemoryVipDriver (the twin)', () => new MemoryVipDriver(['eth0', 'eth1']));

describe.skipIf(!probe.ok)('IprouteVipDriver in a network namespace', { timeout: 60_000 }, () => {
  let lab: NetnsLab;
  let ns = '';
  beforeAll(async () => {
    lab = new NetnsLab('vip');
    ns = await lab.ns('dir');
    const other = await lab.ns('peer');
    await lab.veth({ ns, ifname: 'eth0' }, { ns: other, ifname: 'eth0' });
    await lab.veth({ ns, ifname: 'eth1' }, { ns: other, ifname: 'eth1' });
  });
  afterAll(async () => {
    await lab?.dispose();
  });

  scenarios('ip addr', () => new IprouteVipDriver({ netns: ns }));

  it('finds an address added by hand (ip addr add), and the listing includes the host address', async () => {
    const d = new IprouteVipDriver({ netns: ns });
    await lab.exec(ns, 'ip', ['addr', 'add', '198.18.0.10/32', 'dev', 'eth0']);
    expect(await d.hasAddress(VIP)).toBe(true);
    expect(await d.remove(VIP)).toEqual({ changed: true });
  });

  it('a missing namespace is VRRP_NO_NETNS', async () => {
    const d = new IprouteVipDriver({ netns: `${lab.prefix}-absent` });
    expect(await codeOf(d.list('eth0'))).toBe('VRRP_NO_NETNS');
  });

  it('ip_forward off on a NAT master gives the warning; on, or without NAT, none', async () => {
    await lab.sysctl(ns, 'net.ipv4.ip_forward', '0');
    expect(await readSysctl('net.ipv4.ip_forward', { netns: ns })).toBe('0');
    const warn = await checkIpForward({ instance: 'VI_FRONT', nat: true }, { netns: ns });
    expect(warn?.code).toBe('VRRP_IP_FORWARD_OFF');
    expect(warn?.message).toMatch(
      /^VI_FRONT is MASTER for LVS-NAT virtual servers but net\.ipv4\.ip_forward is "0" \(not 1\)/,
    );
    expect(warn?.message).toContain('sysctl -w net.ipv4.ip_forward=1');
    expect(await checkIpForward({ instance: 'VI_FRONT', nat: false }, { netns: ns })).toBe(
      undefined,
    );
    await lab.sysctl(ns, 'net.ipv4.ip_forward', '1');
    expect(await checkIpForward({ instance: 'VI_FRONT', nat: true }, { netns: ns })).toBe(
      undefined,
    );
    expect(await codeOf(readSysctl('net.ipv4.no_such_key', { netns: ns }))).toBe(
      'SYSCTL_UNKNOWN_KEY',
    );
  });
});
