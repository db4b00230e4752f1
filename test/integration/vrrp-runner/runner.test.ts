/**
 * Two VRRP instance runners on an in-memory segment with fake time: the effects of the pure
 * machine become address changes, announcements and events. (The real drivers — ip, arping,
 * UDP — have their own tests in network namespaces.)
 */
import { describe, expect, it } from 'vitest';
import type { VirtualAddress, VrrpInstanceConfig } from '../../../src/config/index.js';
import { EventBus, type AnyEvent } from '../../../src/lib/events.js';
import {
  VrrpInstanceRunner,
  type AddressPort,
  type OutgoingAdvert,
} from '../../../src/vrrp/runner.js';
import { ManualTimers } from '../scheduler/manual-timers.js';

const vip: VirtualAddress = { address: '198.18.0.10', family: 4, prefix: 24, dev: 'eth0' };

function instance(priority: number, extra: Partial<VrrpInstanceConfig> = {}): VrrpInstanceConfig {
  return {
    name: 'VI_1',
    interface: 'eth0',
    virtualRouterId: 51,
    family: 4,
    initialState: 'BACKUP',
    priority,
    advertIntMs: 100,
    version: 3,
    preempt: true,
    preemptDelayMs: 0,
    auth: { kind: 'none' },
    unicastPeers: [],
    virtualAddresses: [vip],
    excludedAddresses: [],
    trackInterfaces: [],
    trackScripts: [],
    garpMasterDelayMs: 5000,
    garpMasterRepeat: 5,
    notify: {},
    notifyPriorityChanges: false,
    at: 'test:1:1',
    ...extra,
  };
}

class Host implements AddressPort {
  readonly held = new Set<string>();
  readonly announced: string[] = [];
  add(a: VirtualAddress): Promise<void> {
    this.held.add(a.address);
    return Promise.resolve();
  }
  remove(a: VirtualAddress): Promise<void> {
    this.held.delete(a.address);
    return Promise.resolve();
  }
  holds(a: VirtualAddress): Promise<boolean> {
    return Promise.resolve(this.held.has(a.address));
  }
}

function pair(prioA: number, prioB: number) {
  const timers = new ManualTimers();
  const events: AnyEvent[] = [];
  const bus = new EventBus(timers.clock);
  bus.subscribe((e) => events.push(e));
  const net = { up: true };
  const hosts = [new Host(), new Host()];
  const runners: VrrpInstanceRunner[] = [];
  const addrs = ['198.18.0.1', '198.18.0.2'];
  for (let i = 0; i < 2; i++) {
    const host = hosts[i] as Host;
    runners.push(
      new VrrpInstanceRunner(instance(i === 0 ? prioA : prioB), {
        channel: {
          send: (a: OutgoingAdvert) => {
            if (!net.up) return;
            const other = runners[1 - i];
            other?.onAdvert({
              from: addrs[i] ?? '',
              priority: a.priority,
              advertIntMs: a.advertIntMs,
              restarting: a.restarting,
            });
          },
        },
        addresses: host,
        announce: { announce: (a) => host.announced.push(a.address) },
        bus,
        clock: timers.clock,
        timers,
        primaryAddress: addrs[i] ?? '',
      }),
    );
  }
  return {
    timers,
    events,
    hosts: hosts as [Host, Host],
    runners: runners as [VrrpInstanceRunner, VrrpInstanceRunner],
    net,
  };
}

describe('VRRP runner', () => {
  it('the higher priority becomes master, takes the VIP and announces it; the other stays backup', async () => {
    const { timers, hosts, runners } = pair(150, 100);
    await runners[0].start();
    await runners[1].start();
    await timers.advance(1000);
    expect(runners.map((r) => r.state.state)).toEqual(['master', 'backup']);
    expect(hosts[0].held.has('198.18.0.10')).toBe(true);
    expect(hosts[1].held.has('198.18.0.10')).toBe(false);
    expect(hosts[0].announced).toEqual(['198.18.0.10']);
  });

  it('a crashed master (silence) is replaced within the master-down interval', async () => {
    const { timers, hosts, runners, net, events } = pair(150, 100);
    await runners[0].start();
    await runners[1].start();
    await timers.advance(1000);
    net.up = false;
    const t0 = timers.now();
    await timers.advance(400);
    expect(runners[1].state.state).toBe('master');
    expect(hosts[1].held.has('198.18.0.10')).toBe(true);
    const tr = events.find((e) => e.name === 'vrrp.transition' && e.data.cause === 'master-down');
    expect(tr?.mono).toBeDefined();
    expect(timers.now() - t0).toBeLessThanOrEqual(400);
  });

  it('a clean stop hands over at once with priority 0 and removes the VIP', async () => {
    const { timers, hosts, runners } = pair(150, 100);
    await runners[0].start();
    await runners[1].start();
    await timers.advance(1000);
    await runners[0].stop();
    await runners[1].settle();
    expect(runners[1].state.state).toBe('master');
    expect(hosts[0].held.size).toBe(0);
    expect(hosts[1].held.has('198.18.0.10')).toBe(true);
  });

  it('a restart keeps the VIP and the backup waits for it', async () => {
    const { timers, hosts, runners } = pair(150, 100);
    await runners[0].start();
    await runners[1].start();
    await timers.advance(1000);
    await runners[0].stop(true);
    expect(hosts[0].held.has('198.18.0.10')).toBe(true);
    await timers.advance(2000);
    expect(runners[1].state.state).toBe('backup');
  });

  it('only the newest address change waits behind a slow one: master, backup, master adds once more, never removes', async () => {
    const { timers, hosts, runners } = pair(150, 100);
    const host = hosts[0];
    const ops: string[] = [];
    let release: () => void = () => undefined;
    let slow = true;
    host.add = (a) => {
      ops.push('add');
      host.held.add(a.address);
      // The first add hangs like an `ip addr add` on a starved machine, until released.
      if (!slow) return Promise.resolve();
      slow = false;
      return new Promise((r) => {
        release = r;
      });
    };
    host.remove = (a) => {
      ops.push('remove');
      host.held.delete(a.address);
      return Promise.resolve();
    };
    await runners[0].start();
    await runners[1].start();
    await timers.advance(1000);
    expect(runners[0].state.state).toBe('master');
    expect(ops).toEqual(['add']); // still in flight
    // Down and up again (an operator's force here) while that add runs.
    runners[0].force('backup');
    await timers.advance(10);
    expect(runners[0].state.state).toBe('backup');
    runners[0].force('master');
    await timers.advance(10);
    expect(runners[0].state.state).toBe('master');
    release();
    await runners[0].settle();
    // The release queued for BACKUP was overtaken by the newer MASTER job: no remove, the VIP
    // never left; the newest job (take) ran.
    expect(ops).toEqual(['add', 'add']);
    expect(host.held.has('198.18.0.10')).toBe(true);
  });

  it('preempts back when the better director returns, and tracking can push it down', async () => {
    const { timers, hosts, runners, net } = pair(150, 100);
    await runners[0].start();
    await runners[1].start();
    await timers.advance(1000);
    net.up = false;
    await timers.advance(500);
    net.up = true;
    await timers.advance(500);
    expect(runners.map((r) => r.state.state)).toEqual(['master', 'backup']);
    runners[0].setTracking(50, false);
    await timers.advance(500);
    expect(runners.map((r) => r.state.state)).toEqual(['backup', 'master']);
    expect(hosts[1].held.has('198.18.0.10')).toBe(true);
    expect(hosts[0].held.has('198.18.0.10')).toBe(false);
  });
});
