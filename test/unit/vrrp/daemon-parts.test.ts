/** The small shell pieces VRRP runs on: subnet test, advert socket routing, script tracker. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describedHost, loadConfig } from '../../../src/config/index.js';
import { nodeSource } from '../../../src/keepalived-config/index.js';
import { AdvertSockets, endpointKey } from '../../../src/vrrp/advert-socket.js';
import { inSubnet, MemoryLinks } from '../../../src/vrrp/drivers/links.js';
import { MemoryNetwork } from '../../../src/vrrp/drivers/transport-memory.js';
import { ScriptTracker } from '../../../src/vrrp/script-tracker.js';
import { encodeAdvert } from '../../../src/vrrp/wire/advert.js';
import { ManualTimers } from '../../integration/scheduler/manual-timers.js';

describe('inSubnet', () => {
  it.each([
    ['198.18.0.7', '198.18.0.1/24', true],
    ['198.18.1.7', '198.18.0.1/24', false],
    ['198.18.1.7', '198.18.0.1/23', true],
    ['198.18.0.1', '198.18.0.1/32', true],
    ['198.18.0.2', '198.18.0.1/32', false],
    ['2001:db8::5', '2001:db8::1/64', true],
    ['2001:db8:1::5', '2001:db8::1/64', false],
    ['198.18.0.7', '2001:db8::1/64', false],
    ['not-an-address', '198.18.0.1/24', false],
    ['198.18.0.7', '198.18.0.1/33', false],
  ])('%s in %s: %s', (a, cidr, want) => {
    expect(inSubnet(a, cidr)).toBe(want);
  });

  it('MemoryLinks answers like the system port', () => {
    const l = new MemoryLinks().set('eth0', ['198.18.0.1/24', '2001:db8::1/64']);
    expect(l.addresses('eth0', 4)).toEqual(['198.18.0.1']);
    expect(l.addresses('eth0', 6)).toEqual(['2001:db8::1']);
    expect(l.onLink('eth0', '198.18.0.9')).toBe(true);
    expect(l.onLink('eth0', '198.18.9.9')).toBe(false);
    expect(l.linkUp('eth0')).toBe(true);
    expect(l.linkUp('eth9')).toBe(false);
  });
});

function advert(vrid: number): Buffer {
  return encodeAdvert(
    {
      vrid,
      priority: 100,
      advertIntMs: 1000,
      restarting: false,
      family: 4,
      addresses: ['198.18.0.10'],
      senderId: '0000000000000001',
      counter: 0n,
    },
    null,
  );
}

describe('AdvertSockets', () => {
  it('shares one socket per endpoint and routes by VRID; others are counted', async () => {
    const net = new MemoryNetwork();
    let opened = 0;
    const unrouted: string[] = [];
    const sockets = new AdvertSockets(
      () => {
        opened += 1;
        return Promise.resolve(net.attach({ address: '198.18.0.1', segment: 'eth0' }));
      },
      (reason, from) => unrouted.push(`${reason} ${from}`),
    );
    const opts = {
      mode: 'multicast',
      family: 4,
      interfaceName: 'eth0',
      interfaceAddress: '198.18.0.1',
    } as const;
    const got: number[] = [];
    const a = await sockets.attach(opts, 51, () => got.push(51));
    const b = await sockets.attach(opts, 52, () => got.push(52));
    expect(opened).toBe(1);
    await expect(sockets.attach(opts, 51, () => undefined)).rejects.toThrow(/twice/);
    const peer = net.attach({ address: '198.18.0.2', segment: 'eth0' });
    await peer.send(advert(52));
    await peer.send(advert(51));
    await peer.send(advert(99));
    await peer.send(Buffer.from('garbage'));
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([52, 51]);
    expect(unrouted).toEqual(['wrong-vrid 198.18.0.2', 'malformed 198.18.0.2']);
    await a.detach();
    await b.detach();
    // The last user gone, the socket is closed: the address can be attached again.
    expect(() => net.attach({ address: '198.18.0.1', segment: 'eth0' })).not.toThrow();
    await sockets.close();
  });

  it('a VRID carried by another multicast socket is not counted (IP_MULTICAST_ALL)', async () => {
    const net = new MemoryNetwork();
    const unrouted: string[] = [];
    const sockets = new AdvertSockets(
      (o) =>
        Promise.resolve(
          net.attach({
            address: o.mode === 'multicast' ? (o.interfaceAddress ?? '') : o.sourceAddress,
            segment: 'shared',
          }),
        ),
      (reason) => unrouted.push(reason),
    );
    const eth0 = {
      mode: 'multicast',
      family: 4,
      interfaceName: 'eth0',
      interfaceAddress: '198.18.0.1',
    } as const;
    const eth1 = { ...eth0, interfaceName: 'eth1', interfaceAddress: '198.18.1.1' } as const;
    expect(endpointKey(eth0)).not.toBe(endpointKey(eth1));
    await sockets.attach(eth0, 51, () => undefined);
    await sockets.attach(eth1, 52, () => undefined);
    const peer = net.attach({ address: '198.18.1.2', segment: 'shared' });
    await peer.send(advert(52)); // heard by both sockets: eth0's must stay silent
    await new Promise((r) => setTimeout(r, 5));
    expect(unrouted).toEqual([]);
    await sockets.close();
  });
});

describe('ScriptTracker', () => {
  it('applies fall and rise, never overlaps runs, and stops', async () => {
    const timers = new ManualTimers();
    const results = [true, false, false, false, true, true];
    let runs = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const changes: boolean[] = [];
    const t = new ScriptTracker(
      {
        name: 'chk',
        script: { argv: ['/bin/true'], user: 'root', at: 'x' },
        intervalMs: 100,
        timeoutMs: 1000,
        weight: 0,
        weightReverse: false,
        rise: 2,
        fall: 2,
        initFail: false,
        at: 'x',
      },
      async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Slower than the interval: the next run waits for this one.
        await timers.sleep(150);
        inFlight -= 1;
        const ok = results[runs++] ?? true;
        return { ok, detail: ok ? 'exit status 0' : 'exit status 1' };
      },
      timers.clock,
      timers,
      (ok) => changes.push(ok),
    );
    expect(t.ok).toBe(true);
    t.start();
    await timers.advance(2000);
    expect(maxInFlight).toBe(1);
    // OK, KO after the 2nd consecutive failure (run 3), OK after 2 successes (run 6).
    expect(changes).toEqual([false, true]);
    expect(t.detail).toBe('exit status 0');
    // stop() waits for the run in flight (it sleeps in fake time), then nothing runs again.
    const stopped = t.stop();
    await timers.advance(200);
    await stopped;
    const before = runs;
    await timers.advance(2000);
    expect(runs).toBe(before);
  });
});

describe('VRRP timing from the configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-vrrp-timing-'));
  const load = (text: string) => {
    const f = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
    writeFileSync(f, text);
    return loadConfig(f, {
      source: nodeSource(),
      host: describedHost({ interfaces: ['eth0'], executables: [] }),
      configId: 't',
      hostname: 't',
    });
  };
  const instance = (extra: string) =>
    `vrrp_instance V {\n interface eth0\n virtual_router_id 1\n ${extra}\n virtual_ipaddress {\n 198.18.0.10/24\n }\n}\n`;

  it('global vrrp_version 3 allows sub-second advert_int (keepalived)', () => {
    const r = load(`global_defs {\n vrrp_version 3\n}\n${instance('advert_int 0.1')}`);
    expect(r.config?.vrrpInstances[0]).toMatchObject({ advertIntMs: 100, version: 3 });
    expect(r.diagnostics.filter((d) => d.severity !== 'notice')).toEqual([]);
  });

  it('an omitted advert_int is 1 s, or 80 ms with timing fast (ruling 13)', () => {
    expect(load(instance('')).config?.vrrpInstances[0]?.advertIntMs).toBe(1000);
    const fast = load(`${instance('')}lvsd {\n timing fast\n}\n`).config?.vrrpInstances[0];
    expect(fast).toMatchObject({ advertIntMs: 80, version: 3 });
    const explicit = load(`${instance('advert_int 2')}lvsd {\n timing fast\n}\n`).config
      ?.vrrpInstances[0];
    expect(explicit?.advertIntMs).toBe(2000);
  });
});
