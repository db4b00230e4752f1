/**
 * The pure parts and the twins of the VRRP drivers (no root needed): the GARP schedule and its
 * runner on fake timers, `ip` argv and JSON parsing, the sync-daemon listing parser and role
 * switch on the twin, the ip_forward warning text, and the in-memory advert network.
 */
import { describe, expect, it } from 'vitest';
import {
  GARP_DEFAULTS,
  RecordingAnnouncer,
  garpSchedule,
  startAnnouncements,
  type AnnounceTimers,
} from '../../../src/vrrp/drivers/garp.js';
import { ArpingAnnouncer } from '../../../src/vrrp/drivers/garp-arping.js';
import { MemorySyncDaemon } from '../../../src/vrrp/drivers/sync-daemon-memory.js';
import {
  parseDaemonListing,
  startArgs,
  switchSyncRole,
} from '../../../src/vrrp/drivers/sync-daemon.js';
import { ipForwardWarning, sysctlPath } from '../../../src/vrrp/drivers/sysctl.js';
import { MemoryNetwork } from '../../../src/vrrp/drivers/transport-memory.js';
import { DEFAULT_ADVERT_PORT } from '../../../src/vrrp/drivers/transport.js';
import { addArgs, delArgs, parseAddrJson } from '../../../src/vrrp/drivers/vip-iproute.js';
import { canonicalAddress } from '../../../src/vrrp/drivers/vip.js';
import { isLvsdError } from '../../../src/lib/errors.js';

/** Timers moved by hand. */
class ManualTimers implements AnnounceTimers {
  now = 0;
  private next = 1;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.due.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.due.delete(h as number);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (let guard = 0; guard < 1000; guard++) {
      const first = [...this.due.entries()].sort((a, b) => a[1].at - b[1].at)[0];
      if (first === undefined || first[1].at > end) break;
      this.due.delete(first[0]);
      this.now = first[1].at;
      first[1].fn();
    }
    this.now = end;
  }
  get pending(): number {
    return this.due.size;
  }
}

describe('garpSchedule (keepalived garp_master_delay / garp_master_repeat)', () => {
  it.each([
    // delayMs, repeat, intervalMs → offsets
    [5000, 5, 0, [0, 0, 0, 0, 0, 5000, 5000, 5000, 5000, 5000]], // keepalived's defaults
    [0, 5, 0, [0, 0, 0, 0, 0]], // delay 0: no second set
    [1000, 1, 0, [0, 1000]],
    [2000, 3, 10, [0, 10, 20, 2000, 2010, 2020]], // vrrp_garp_interval spaces a burst
    [1000, 0, 0, [0, 1000]], // repeat < 1 is 1
    [-5, 2, 0, [0, 0]],
  ])('delay %d repeat %d interval %d', (delay, repeat, interval, want) => {
    expect(garpSchedule(delay, repeat, interval)).toEqual(want);
  });

  it('defaults are keepalived 2.2.7 ones', () => {
    expect(GARP_DEFAULTS).toEqual({ delayMs: 5000, repeat: 5, intervalMs: 0 });
  });
});

describe('startAnnouncements', () => {
  it('sends the first burst at once and the second after the delay', async () => {
    const timers = new ManualTimers();
    const rec = new RecordingAnnouncer(() => timers.now);
    const targets = [
      { dev: 'eth0', addresses: ['198.18.0.10'] },
      { dev: 'eth1', addresses: ['198.18.1.254'] },
    ];
    const run = startAnnouncements(rec, targets, garpSchedule(5000, 2), timers);
    expect(rec.rounds.map((r) => [r.atMs, r.dev])).toEqual([
      [0, 'eth0'],
      [0, 'eth1'],
      [0, 'eth0'],
      [0, 'eth1'],
    ]);
    timers.advance(4999);
    expect(rec.rounds).toHaveLength(4);
    timers.advance(1);
    expect(rec.rounds).toHaveLength(8);
    expect(rec.rounds.slice(4).every((r) => r.atMs === 5000)).toBe(true);
    expect(await run.done).toHaveLength(8);
  });

  it('cancel drops the delayed burst and clears its timers', async () => {
    const timers = new ManualTimers();
    const rec = new RecordingAnnouncer(() => timers.now);
    const run = startAnnouncements(
      rec,
      [{ dev: 'eth0', addresses: ['198.18.0.10'] }],
      garpSchedule(5000, 3),
      timers,
    );
    expect(timers.pending).toBe(3);
    run.cancel();
    run.cancel();
    expect(timers.pending).toBe(0);
    timers.advance(10_000);
    expect(rec.rounds).toHaveLength(3);
    expect(await run.done).toHaveLength(3);
  });

  it('an announcer that throws becomes a failed result, never a rejection', async () => {
    const run = startAnnouncements(
      { announce: () => Promise.reject(new Error('arping: Device eth9 not available.')) },
      [{ dev: 'eth9', addresses: ['198.18.0.10'] }],
      [0],
    );
    expect(await run.done).toEqual([
      {
        dev: 'eth9',
        sent: [],
        failed: [{ address: '198.18.0.10', reason: 'arping: Device eth9 not available.' }],
      },
    ]);
  });

  it('arping argv: -U by default, -A in reply mode, always -I and -s', () => {
    expect(new ArpingAnnouncer().arpingArgs('eth0', '198.18.0.10')).toEqual([
      '-q',
      '-U',
      '-c',
      '1',
      '-I',
      'eth0',
      '-s',
      '198.18.0.10',
      '198.18.0.10',
    ]);
    expect(new ArpingAnnouncer({ mode: 'reply' }).arpingArgs('eth0', '198.18.0.10')[1]).toBe('-A');
  });
});

describe('ip argv and ip -j parsing', () => {
  it('renders keepalived line options in ip order, nodad for IPv6', () => {
    expect(
      addArgs({
        address: '198.18.0.10',
        prefixLength: 24,
        dev: 'eth0',
        broadcast: '198.18.0.255',
        label: 'eth0:1',
        scope: 'global',
        noPrefixRoute: true,
      }),
    ).toEqual([
      'addr',
      'add',
      '198.18.0.10/24',
      'broadcast',
      '198.18.0.255',
      'dev',
      'eth0',
      'label',
      'eth0:1',
      'scope',
      'global',
      'noprefixroute',
    ]);
    expect(addArgs({ address: '2001:db8::10', prefixLength: 64, dev: 'eth0' })).toEqual([
      'addr',
      'add',
      '2001:db8::10/64',
      'dev',
      'eth0',
      'nodad',
    ]);
    expect(
      addArgs({ address: '2001:db8::10', prefixLength: 64, dev: 'eth0', dad: true }),
    ).not.toContain('nodad');
    expect(
      delArgs({ address: '198.18.0.21', prefixLength: 32, dev: 'eth0', peer: '198.18.0.22' }),
    ).toEqual(['addr', 'del', '198.18.0.21', 'peer', '198.18.0.22/32', 'dev', 'eth0']);
    // a label would have to match on delete: it is left out
    expect(
      delArgs({ address: '198.18.0.10', prefixLength: 32, dev: 'eth0', label: 'eth0:1' }),
    ).toEqual(['addr', 'del', '198.18.0.10/32', 'dev', 'eth0']);
  });

  it('parses ip -j addr output, flags included', () => {
    const text = JSON.stringify([
      {
        ifindex: 2,
        ifname: 'eth0',
        addr_info: [
          {
            family: 'inet',
            local: '198.18.0.20',
            prefixlen: 32,
            scope: 'link',
            noprefixroute: true,
            label: 'eth0:vip',
            valid_life_time: 4294967295,
          },
          {
            family: 'inet',
            local: '198.18.0.21',
            address: '198.18.0.22',
            prefixlen: 32,
            scope: 'global',
            secondary: true,
            label: 'eth0',
          },
          { family: 'inet6', local: '2001:db8::10', prefixlen: 64, scope: 'global', nodad: true },
        ],
      },
    ]);
    expect(parseAddrJson(text, 'eth0')).toEqual([
      {
        dev: 'eth0',
        family: 4,
        address: '198.18.0.20',
        prefixLength: 32,
        scope: 'link',
        label: 'eth0:vip',
        flags: ['noprefixroute'],
      },
      {
        dev: 'eth0',
        family: 4,
        address: '198.18.0.21',
        prefixLength: 32,
        scope: 'global',
        label: 'eth0',
        peer: '198.18.0.22',
        flags: ['secondary'],
      },
      {
        dev: 'eth0',
        family: 6,
        address: '2001:db8::10',
        prefixLength: 64,
        scope: 'global',
        flags: ['nodad'],
      },
    ]);
    expect(() => parseAddrJson('Device "x" does not exist.', 'x')).toThrow(/not JSON/);
  });

  it('canonical addresses compare like ip prints them', () => {
    expect(canonicalAddress('2001:DB8:0:0::10')).toBe('2001:db8::10');
    expect(canonicalAddress('198.18.0.1')).toBe('198.18.0.1');
    expect(canonicalAddress('198.18.0.256')).toBe(undefined);
    expect(canonicalAddress('2001:db8::g')).toBe(undefined);
  });
});

describe('sync daemon: listing, argv, role switch on the twin', () => {
  it('parses ipvsadm -L --daemon as the kernel prints it', () => {
    const text =
      'master sync daemon (mcast=s0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n' +
      'backup sync daemon (mcast=s0, syncid=7, maxlen=1024, group=224.0.0.82, port=8849, ttl=2)\n';
    expect(parseDaemonListing(text)).toEqual([
      {
        role: 'master',
        interface: 's0',
        syncId: 0,
        maxLen: 1472,
        group: '224.0.0.81',
        port: 8848,
        ttl: 1,
      },
      {
        role: 'backup',
        interface: 's0',
        syncId: 7,
        maxLen: 1024,
        group: '224.0.0.82',
        port: 8849,
        ttl: 2,
      },
    ]);
    expect(parseDaemonListing('')).toEqual([]);
    // older ipvsadm without the attributes
    expect(parseDaemonListing('backup sync daemon (mcast=eth1, syncid=51)')).toEqual([
      { role: 'backup', interface: 'eth1', syncId: 51 },
    ]);
    expect(() => parseDaemonListing('something else')).toThrow(/cannot parse/);
  });

  it('builds keepalived lvs_sync_daemon options into ipvsadm argv and checks ranges', () => {
    expect(
      startArgs('master', {
        interface: 'eth1',
        syncId: 51,
        maxLen: 1400,
        port: 8848,
        ttl: 1,
        group: '224.0.0.81',
      }),
    ).toEqual([
      '--start-daemon',
      'master',
      '--mcast-interface',
      'eth1',
      '--syncid',
      '51',
      '--sync-maxlen',
      '1400',
      '--mcast-port',
      '8848',
      '--mcast-ttl',
      '1',
      '--mcast-group',
      '224.0.0.81',
    ]);
    expect(() => startArgs('master', { interface: 'eth1', syncId: 256 })).toThrow(
      /id must be 0..255/,
    );
  });

  it('switch: stops the other role first, starts this one, and is idempotent', async () => {
    const d = new MemorySyncDaemon(new Set(['eth1']));
    const cfg = { interface: 'eth1', syncId: 51 };
    expect(await switchSyncRole(d, 'backup', cfg)).toEqual({ stopped: [], started: ['backup'] });
    expect(await switchSyncRole(d, 'backup', cfg)).toEqual({ stopped: [], started: [] });
    expect(await switchSyncRole(d, 'master', cfg)).toEqual({
      stopped: ['backup'],
      started: ['master'],
    });
    expect((await d.state()).map((s) => s.role)).toEqual(['master']);
    // new settings restart the running role
    expect(await d.switch('master', { ...cfg, syncId: 52 })).toEqual({
      stopped: ['master'],
      started: ['master'],
    });
    expect(await d.switch('none', cfg)).toEqual({ stopped: ['master'], started: [] });
    expect(d.log).toEqual([
      'start backup eth1',
      'stop backup',
      'start master eth1',
      'stop master',
      'start master eth1',
      'stop master',
    ]);
    await expect(d.start('master', { interface: 'eth9' })).rejects.toMatchObject({
      code: 'SYNCD_NO_DEVICE',
    });
    await d.start('master', cfg);
    await expect(d.start('master', cfg)).rejects.toMatchObject({ code: 'SYNCD_ALREADY_RUNNING' });
  });
});

describe('ip_forward warning', () => {
  it('only for NAT masters with forwarding off', () => {
    expect(ipForwardWarning('1\n', { instance: 'VI_1', nat: true })).toBe(undefined);
    expect(ipForwardWarning('0', { instance: 'VI_1', nat: false })).toBe(undefined);
    expect(ipForwardWarning('0', { instance: 'VI_1', nat: true })).toMatch(
      /^VI_1 is MASTER for LVS-NAT virtual servers but net\.ipv4\.ip_forward is "0"/,
    );
    expect(sysctlPath('net.ipv4.ip_forward')).toBe('/proc/sys/net/ipv4/ip_forward');
    expect(() => sysctlPath('../etc/passwd')).toThrow(/not a sysctl key/);
  });
});

describe('MemoryNetwork (the transport twin)', () => {
  const wait = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('multicast members hear each other, not themselves, and not other segments', async () => {
    const net = new MemoryNetwork();
    const a = net.attach({ address: '198.18.0.1' });
    const b = net.attach({ address: '198.18.0.2' });
    const c = net.attach({ address: '198.18.1.1', segment: 'back' });
    const got: string[] = [];
    b.onMessage((buf, from) => got.push(`b<${from.address}:${buf.toString()}`));
    c.onMessage((buf) => got.push(`c:${buf.toString()}`));
    a.onMessage((buf) => got.push(`a:${buf.toString()}`));
    expect(await a.send(Buffer.from('x'))).toEqual({ sent: 1, failed: [] });
    await wait();
    expect(got).toEqual(['b<198.18.0.1:x']);
    expect(b.stats().received).toBe(1);
  });

  it('unicast to peers; checkSource drops others; loss, cuts and partitions', async () => {
    const net = new MemoryNetwork();
    const a = net.attach({ address: '198.18.0.1', mode: 'unicast', peers: ['198.18.0.2'] });
    const b = net.attach({
      address: '198.18.0.2',
      mode: 'unicast',
      peers: ['198.18.0.1'],
      checkSource: true,
    });
    const x = net.attach({ address: '198.18.0.3', mode: 'unicast', peers: ['198.18.0.2'] });
    let n = 0;
    b.onMessage(() => n++);
    await a.send(Buffer.from('1'));
    await x.send(Buffer.from('forged'));
    await wait();
    expect(n).toBe(1);
    expect(b.stats().dropped.notPeer).toBe(1);

    net.partition(['198.18.0.1'], ['198.18.0.2']);
    await a.send(Buffer.from('2'));
    await wait();
    expect(n).toBe(1);
    expect(net.wire.at(-1)?.fate).toBe('cut');
    net.heal();

    net.setLoss(0.5, 42);
    for (let i = 0; i < 200; i++) await a.send(Buffer.from('y'));
    await wait();
    const delivered = n - 1;
    expect(delivered).toBeGreaterThan(60);
    expect(delivered).toBeLessThan(140);
    // the same seed gives the same pattern
    const fates = net.wire.slice(-200).map((w) => w.fate);
    const net2 = new MemoryNetwork();
    net2.attach({ address: '198.18.0.2' });
    const a2 = net2.attach({ address: '198.18.0.1', mode: 'unicast', peers: ['198.18.0.2'] });
    net2.setLoss(0.5, 42);
    for (let i = 0; i < 200; i++) await a2.send(Buffer.from('y'));
    expect(net2.wire.map((w) => w.fate)).toEqual(fates);
  });

  it('size limit, throwing handlers, closed transports, wrong port', async () => {
    const net = new MemoryNetwork();
    const a = net.attach({ address: '198.18.0.1', maxDatagramBytes: 64 });
    const b = net.attach({ address: '198.18.0.2' });
    await expect(a.send(Buffer.alloc(65))).rejects.toMatchObject({ code: 'TRANSPORT_OVERSIZE' });
    let second = 0;
    b.onMessage(() => {
      throw new Error('handler bug');
    });
    const off = b.onMessage(() => second++);
    await a.send(Buffer.from('z'));
    await wait();
    expect(second).toBe(1);
    expect(b.stats().handlerErrors).toBe(1);
    off();
    await a.send(Buffer.from('z'), { address: '198.18.0.2', port: DEFAULT_ADVERT_PORT + 1 });
    expect(net.wire.at(-1)?.fate).toBe('no-listener');
    await b.close();
    await expect(b.send(Buffer.from('z'))).rejects.toSatisfy(
      (e: unknown) => isLvsdError(e) && e.code === 'TRANSPORT_CLOSED',
    );
    // b's address is free again
    expect(() => net.attach({ address: '198.18.0.2' })).not.toThrow();
  });
});
