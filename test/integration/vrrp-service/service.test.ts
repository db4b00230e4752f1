/**
 * Two directors' VRRP services on an in-memory segment with fake time: configuration parsed
 * from keepalived syntax, the daemon's wiring (advert sockets, keys, tracking, sync groups,
 * sync daemon) with twins for the kernel (addresses, links, scripts, UDP). The real drivers run
 * in network namespaces in test/integration/failover.
 */
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describedHost, loadConfig, type Config } from '../../../src/config/index.js';
import { VrrpService, type VrrpDrivers } from '../../../src/daemon/vrrp-service.js';
import { nodeSource } from '../../../src/keepalived-config/index.js';
import { EventBus, type AnyEvent } from '../../../src/lib/events.js';
import { readKeyFile } from '../../../src/vrrp/drivers/key-file.js';
import { MemoryLinks } from '../../../src/vrrp/drivers/links.js';
import { MemorySyncDaemon } from '../../../src/vrrp/drivers/sync-daemon-memory.js';
import { MemoryNetwork } from '../../../src/vrrp/drivers/transport-memory.js';
import { MemoryVipDriver } from '../../../src/vrrp/drivers/vip-memory.js';
import { encodeAdvert } from '../../../src/vrrp/wire/advert.js';
import { ManualTimers } from '../scheduler/manual-timers.js';

const dir = mkdtempSync(join(tmpdir(), 'lvsd-vrrp-service-'));
const KEY = 'a3f1c2d4e5b6978812345678deadbeefcafebabe0123456789abcdef01234567';
const keyFile = join(dir, 'key');
writeFileSync(keyFile, `${KEY}\n`);
chmodSync(keyFile, 0o600);

interface Options {
  readonly priority: number;
  readonly extra?: string;
  readonly front?: string;
  readonly lvsd?: string;
  readonly back?: boolean;
  readonly unicast?: { src: string; peer: string };
}

let fileNo = 0;
function configOf(o: Options): Config {
  const back = o.back ?? false;
  const text = `
global_defs { router_id test }
${o.extra ?? ''}
${back ? 'vrrp_sync_group LAB {\n group {\n FRONT\n BACK\n }\n}' : ''}
vrrp_instance FRONT {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${o.priority}
  advert_int 0.05
  version 3
  ${o.unicast ? `unicast_src_ip ${o.unicast.src}\n  unicast_peer {\n    ${o.unicast.peer}\n  }` : ''}
  virtual_ipaddress {
    198.18.0.10/24 dev eth0
  }
  ${o.front ?? ''}
}
${
  back
    ? `vrrp_instance BACK {
  state BACKUP
  interface eth1
  virtual_router_id 52
  priority ${o.priority}
  advert_int 0.05
  version 3
  virtual_ipaddress {
    198.18.1.254/24 dev eth1
  }
}`
    : ''
}
lvsd {
  ${o.lvsd ?? ''}
}
`;
  const file = join(dir, `d${++fileNo}.conf`);
  writeFileSync(file, text);
  const r = loadConfig(file, {
    source: nodeSource(),
    host: describedHost({ interfaces: ['eth0', 'eth1'], executables: ['/bin/true'] }),
    configId: 'test',
    hostname: 'test',
  });
  if (!r.config || r.cannotRun) throw new Error(`config: ${JSON.stringify(r.diagnostics)}`);
  return r.config;
}

class Director {
  readonly vips = new MemoryVipDriver(['eth0', 'eth1']);
  readonly links = new MemoryLinks();
  readonly sync = new MemorySyncDaemon();
  readonly events: AnyEvent[] = [];
  readonly bus: EventBus;
  /** Scripts by name: whether they pass. */
  readonly scripts = new Map<string, boolean>();
  service: VrrpService | undefined;

  constructor(
    readonly lab: Lab,
    readonly n: number,
  ) {
    this.links.set('eth0', [`198.18.0.${n}/24`]).set('eth1', [`198.18.1.${n}/24`]);
    this.bus = new EventBus(lab.timers.clock);
    this.bus.subscribe((e) => this.events.push(e));
  }

  drivers(): VrrpDrivers {
    return {
      vips: this.vips,
      announcer: {
        announce: (t) => Promise.resolve({ dev: t.dev, sent: [...t.addresses], failed: [] }),
      },
      links: this.links,
      openTransport: (o) =>
        Promise.resolve(
          this.lab.net.attach(
            o.mode === 'multicast'
              ? {
                  address: o.interfaceAddress ?? `fe80::${this.n}`,
                  segment: o.interfaceName,
                  mode: 'multicast',
                }
              : { address: o.sourceAddress, mode: 'unicast', peers: o.peers },
          ),
        ),
      readKey: readKeyFile,
      runScript: (s) =>
        Promise.resolve(
          this.scripts.get(s.name) === false
            ? { ok: false, detail: 'exit status 1' }
            : { ok: true, detail: 'exit status 0' },
        ),
      syncDaemon: this.sync,
      senderId: () => `00000000000000${this.n.toString(16).padStart(2, '0')}`,
    };
  }

  async start(config: Config): Promise<VrrpService> {
    this.service = await VrrpService.start(config, {
      bus: this.bus,
      clock: this.lab.timers.clock,
      timers: this.lab.timers,
      drivers: this.drivers(),
    });
    this.lab.services.push(this.service);
    return this.service;
  }

  state(name = 'FRONT'): string | undefined {
    return this.service?.status().find((s) => s.name === name)?.state;
  }

  async holdsVip(): Promise<boolean> {
    return this.vips.hasAddress({ address: '198.18.0.10', prefixLength: 24, dev: 'eth0' });
  }

  /** The vrrp.sync_group events: `GROUP:from>to:member:cause`. */
  groupChanges(): string[] {
    return this.events.flatMap((e) =>
      e.name === 'vrrp.sync_group'
        ? [
            `${e.data.group}:${e.data.from ?? 'none'}>${e.data.to}:${e.data.instance}:${e.data.cause}`,
          ]
        : [],
    );
  }

  transitions(): string[] {
    return this.events.flatMap((e) =>
      e.name === 'vrrp.transition' ? [`${e.data.instance}:${e.data.to}:${e.data.cause}`] : [],
    );
  }
}

class Lab {
  readonly timers = new ManualTimers();
  readonly net = new MemoryNetwork();
  readonly services: VrrpService[] = [];
  director(n: number): Director {
    return new Director(this, n);
  }
}

let lab: Lab;
afterEach(async () => {
  for (const s of lab.services) await s.stop(false);
});

async function pair(a: Options, b: Options): Promise<[Director, Director]> {
  lab = new Lab();
  const d1 = lab.director(1);
  const d2 = lab.director(2);
  await d1.start(configOf(a));
  await lab.timers.advance(500);
  await d2.start(configOf(b));
  await lab.timers.advance(500);
  return [d1, d2];
}

describe('VRRP service: two directors', () => {
  it('converge on the higher priority; only the master holds the VIP', async () => {
    const [d1, d2] = await pair({ priority: 150 }, { priority: 100 });
    expect(d1.state()).toBe('MASTER');
    expect(d2.state()).toBe('BACKUP');
    expect(await d1.holdsVip()).toBe(true);
    expect(await d2.holdsVip()).toBe(false);
    const s2 = d2.service?.status()[0];
    expect(s2).toMatchObject({ master: '198.18.0.1', priority: 100, primaryAddress: '198.18.0.2' });
    expect(s2?.adverts.received).toBeGreaterThan(5);
    expect(d1.service?.status()[0]?.master).toBe('198.18.0.1');
  });

  it('a clean stop hands over at once (priority 0); the stopped one removes its VIP', async () => {
    const [d1, d2] = await pair({ priority: 150 }, { priority: 100 });
    const t0 = lab.timers.now();
    await d1.service?.stop(false);
    await lab.timers.advance(5);
    expect(d2.state()).toBe('MASTER');
    expect(lab.timers.now() - t0).toBeLessThan(10);
    expect(d2.transitions()).toContain('FRONT:master:peer-stopping');
    expect(await d1.holdsVip()).toBe(false);
    expect(await d2.holdsVip()).toBe(true);
  });

  it('a crashed master (silent) is replaced after the master-down interval', async () => {
    const [d1, d2] = await pair({ priority: 150 }, { priority: 100 });
    lab.net.partition(['198.18.0.1'], ['198.18.0.2']);
    // 3 × 50 ms + skew (156/256 × 50 ≈ 30 ms) after the last advert heard.
    await lab.timers.advance(150);
    expect(d2.state()).toBe('BACKUP');
    await lab.timers.advance(90);
    expect(d2.state()).toBe('MASTER');
    expect(d2.transitions()).toContain('FRONT:master:master-down');
    // Healed: the higher priority takes over again (preempt) and the other lets go.
    lab.net.heal();
    await lab.timers.advance(200);
    expect(d1.state()).toBe('MASTER');
    expect(d2.state()).toBe('BACKUP');
    expect(await d2.holdsVip()).toBe(false);
  });

  it('nopreempt: a returning higher priority stays backup', async () => {
    const [d1, d2] = await pair(
      { priority: 150, front: 'nopreempt' },
      { priority: 100, front: 'nopreempt' },
    );
    expect(d1.state()).toBe('MASTER');
    lab.net.partition(['198.18.0.1'], ['198.18.0.2']);
    await lab.timers.advance(400);
    expect(d2.state()).toBe('MASTER');
    // d1 comes back from a reboot: it starts fresh without the VIP.
    await d1.service?.stop(false);
    lab.net.heal();
    await d1.start(configOf({ priority: 150, front: 'nopreempt' }));
    await lab.timers.advance(1000);
    expect(d1.state()).toBe('BACKUP');
    expect(d2.state()).toBe('MASTER');
  });

  it('a sync group moves together, and a link down puts the group in FAULT', async () => {
    const [d1, d2] = await pair({ priority: 150, back: true }, { priority: 100, back: true });
    expect([d1.state('FRONT'), d1.state('BACK')]).toEqual(['MASTER', 'MASTER']);
    expect([d2.state('FRONT'), d2.state('BACK')]).toEqual(['BACKUP', 'BACKUP']);
    d1.links.setUp('eth1', false);
    await lab.timers.advance(150);
    expect(d1.state('BACK')).toBe('FAULT');
    expect(d1.state('FRONT')).toBe('FAULT');
    expect([d2.state('FRONT'), d2.state('BACK')]).toEqual(['MASTER', 'MASTER']);
    expect(d1.transitions()).toContain('FRONT:fault:sync-group');
    expect(d1.events.some((e) => e.name === 'vrrp.tracked' && !e.data.ok)).toBe(true);
    d1.links.setUp('eth1', true);
    await lab.timers.advance(400);
    expect([d1.state('FRONT'), d1.state('BACK')]).toEqual(['MASTER', 'MASTER']);
    expect([d2.state('FRONT'), d2.state('BACK')]).toEqual(['BACKUP', 'BACKUP']);
  });

  it('the group’s own state is an event: vrrp.sync_group with the member and cause that moved it', async () => {
    const [d1, d2] = await pair({ priority: 150, back: true }, { priority: 100, back: true });
    // One event per group change, not one per member: the first member to enter a state
    // moves the group; the members dragged after it do not repeat it.
    expect(d1.groupChanges().map((c) => c.split(':').slice(0, 2).join(':'))).toEqual([
      'LAB:none>backup',
      'LAB:backup>master',
    ]);
    expect(d2.groupChanges()).toEqual([expect.stringMatching(/^LAB:none>backup:(FRONT|BACK):/)]);
    d1.links.setUp('eth1', false);
    await lab.timers.advance(150);
    expect(d1.groupChanges().at(-1)).toBe('LAB:master>fault:BACK:fault');
    const fault = d1.events.find((e) => e.name === 'vrrp.sync_group' && e.data.to === 'fault');
    expect(fault?.subject).toBe('LAB');
    expect(fault?.cause).toEqual({ kind: 'vrrp', detail: 'BACK: fault' });
    // The group event follows its member's transition on the stream.
    const backFault = d1.events.findIndex(
      (e) => e.name === 'vrrp.transition' && e.data.instance === 'BACK' && e.data.to === 'fault',
    );
    expect(d1.events.indexOf(fault as AnyEvent)).toBe(backFault + 1);
    // STOP only once every member has stopped.
    await d1.service?.stop(false);
    expect(d1.groupChanges().at(-1)).toMatch(/^LAB:fault>stopped:(FRONT|BACK):stop$/);
    expect(d1.groupChanges().filter((c) => c.includes('>stopped'))).toHaveLength(1);
    const stopped = d1.events.filter((e) => e.name === 'vrrp.sync_group').at(-1);
    expect(stopped?.cause.kind).toBe('signal');
  });

  it('a clean stop of a sync-group master: the backup takes both at once, no flap', async () => {
    const [d1, d2] = await pair({ priority: 150, back: true }, { priority: 100, back: true });
    // Slow address removal on the master, as `ip addr del` is: the adverts must not wait for it.
    const remove = d1.vips.remove.bind(d1.vips);
    d1.vips.remove = async (v) => {
      await lab.timers.sleep(60);
      return remove(v);
    };
    const before = d2.transitions().length;
    const stopping = d1.service?.stop(false);
    await lab.timers.advance(300);
    await stopping;
    expect([d2.state('FRONT'), d2.state('BACK')]).toEqual(['MASTER', 'MASTER']);
    expect(
      d2
        .transitions()
        .slice(before)
        .filter((t) => t.includes(':backup:')),
    ).toEqual([]);
  });

  it('a failing tracked script lowers the priority by its weight: the peer preempts', async () => {
    const script = `vrrp_script chk {\n  script "/bin/true"\n  interval 0.1\n  fall 2\n  rise 1\n  weight -60\n}`;
    const [d1, d2] = await pair(
      { priority: 150, extra: script, front: 'track_script {\n chk\n }' },
      { priority: 100, extra: script, front: 'track_script {\n chk\n }' },
    );
    expect(d1.state()).toBe('MASTER');
    d1.scripts.set('chk', false);
    await lab.timers.advance(600);
    expect(d1.service?.status()[0]?.priority).toBe(90);
    expect(d2.state()).toBe('MASTER');
    expect(d1.state()).toBe('BACKUP');
    expect(d1.service?.status()[0]?.tracking).toContainEqual({
      kind: 'script',
      name: 'chk',
      ok: false,
      weight: -60,
    });
    d1.scripts.set('chk', true);
    await lab.timers.advance(600);
    expect(d1.state()).toBe('MASTER');
  });

  it('the sync daemon follows the instance named in lvs_sync_daemon', async () => {
    const sync = 'global_defs {\n  lvs_sync_daemon eth1 FRONT\n}';
    const [d1, d2] = await pair({ priority: 150, extra: sync }, { priority: 100, extra: sync });
    expect((await d1.sync.state()).map((d) => d.role)).toEqual(['master']);
    expect((await d2.sync.state()).map((d) => d.role)).toEqual(['backup']);
    await d1.service?.stop(false);
    await lab.timers.advance(20);
    expect((await d2.sync.state()).map((d) => d.role)).toEqual(['master']);
    expect(await d1.sync.state()).toEqual([]);
  });

  it('unicast peers work without multicast', async () => {
    const [d1, d2] = await pair(
      { priority: 150, unicast: { src: '198.18.0.1', peer: '198.18.0.2' } },
      { priority: 100, unicast: { src: '198.18.0.2', peer: '198.18.0.1' } },
    );
    expect(d1.state()).toBe('MASTER');
    expect(d2.state()).toBe('BACKUP');
    await d1.service?.stop(false);
    await lab.timers.advance(5);
    expect(d2.state()).toBe('MASTER');
  });
});

describe('VRRP service: forged and replayed adverts', () => {
  const keyed = `key_file ${keyFile}`;

  it('never move the VIP and are counted by reason', async () => {
    const [d1, d2] = await pair({ priority: 150, lvsd: keyed }, { priority: 100, lvsd: keyed });
    expect(d1.state()).toBe('MASTER');
    const rogue = lab.net.attach({ address: '198.18.0.66', segment: 'eth0', mode: 'multicast' });
    const forged = (key: Buffer | null, counter: bigint) =>
      encodeAdvert(
        {
          vrid: 51,
          priority: 254,
          advertIntMs: 50,
          restarting: false,
          family: 4,
          addresses: ['198.18.0.10'],
          senderId: '00000000000000ff',
          counter,
        },
        key === null ? null : { bytes: key },
      );
    // A captured advert of d1's, replayed later.
    const captured: Buffer[] = [];
    const spy = lab.net.attach({ address: '198.18.0.77', segment: 'eth0', mode: 'multicast' });
    spy.onMessage((buf, from) => {
      if (from.address === '198.18.0.1') captured.push(buf);
    });
    await lab.timers.advance(200);
    await spy.close();
    for (let i = 0; i < 20; i++) {
      await rogue.send(forged(Buffer.alloc(32, 7), BigInt(i))); // wrong key
      await rogue.send(forged(null, BigInt(i))); // no MAC at all
      await lab.timers.advance(20);
    }
    // Priority 0 from d1's own sender id, replayed: would hand the VIP over if accepted.
    for (const buf of captured) await rogue.send(buf);
    await lab.timers.advance(500);
    expect(d1.state()).toBe('MASTER');
    expect(d2.state()).toBe('BACKUP');
    expect(await d2.holdsVip()).toBe(false);
    const dropped = d2.service?.status()[0]?.dropped ?? {};
    expect(dropped['bad-mac']).toBe(20);
    expect(dropped.unauthenticated).toBe(20);
    expect(dropped.replay).toBe(captured.length);
    expect(captured.length).toBeGreaterThan(0);
    // Reported, but aggregated: not one event per packet.
    const reports = d2.events.filter((e) => e.name === 'vrrp.dropped');
    expect(reports.length).toBeLessThan(10);
    await rogue.close();
  });

  it('garbage and unknown VRIDs are counted once and reported aggregated', async () => {
    const [, d2] = await pair({ priority: 150 }, { priority: 100 });
    const rogue = lab.net.attach({ address: '198.18.0.66', segment: 'eth0', mode: 'multicast' });
    for (let i = 0; i < 60; i++) {
      await rogue.send(Buffer.from('not an advert at all'));
      await lab.timers.advance(10);
    }
    expect(d2.service?.unroutedDrops()).toEqual({ malformed: 60 });
    // The first at once, the rest in one report 10 s later.
    await lab.timers.advance(10_000);
    const reports = d2.events.filter((e) => e.name === 'vrrp.dropped' && e.subject === 'vrrp');
    expect(reports.length).toBeLessThanOrEqual(2);
    expect(reports.reduce((n, e) => n + (e.name === 'vrrp.dropped' ? e.data.count : 0), 0)).toBe(
      60,
    );
    await rogue.close();
  });

  it('directors with different keys do not hear each other', async () => {
    const other = join(dir, 'other-key');
    writeFileSync(other, `${'5'.repeat(2)}${KEY.slice(2)}\n`);
    chmodSync(other, 0o600);
    const [d1, d2] = await pair(
      { priority: 150, lvsd: keyed },
      { priority: 100, lvsd: `key_file ${other}` },
    );
    expect(d1.state()).toBe('MASTER');
    expect(d2.state()).toBe('MASTER');
    expect(d2.service?.status()[0]?.dropped['bad-mac']).toBeGreaterThan(0);
  });

  it('a key file readable by others is refused at start', async () => {
    const open = join(dir, 'open-key');
    writeFileSync(open, `${KEY}\n`);
    chmodSync(open, 0o644);
    lab = new Lab();
    await expect(
      lab.director(1).start(configOf({ priority: 150, lvsd: `key_file ${open}` })),
    ).rejects.toThrow(/mode 0644/);
  });
});

describe('VRRP service: reload and restart', () => {
  it('an unchanged reload touches nothing; a changed instance keeps its VIP', async () => {
    const [d1] = await pair({ priority: 150 }, { priority: 100 });
    const before = d1.events.length;
    await d1.service?.reload(configOf({ priority: 150 }));
    await lab.timers.advance(200);
    expect(d1.events.slice(before).filter((e) => e.name.startsWith('vrrp.transition'))).toEqual([]);
    await d1.service?.reload(configOf({ priority: 160 }));
    await lab.timers.advance(400);
    const after = d1.events.slice(before);
    expect(d1.state()).toBe('MASTER');
    expect(d1.service?.status()[0]?.priority).toBe(160);
    expect(after.some((e) => e.name === 'vrrp.address' && e.data.action === 'removed')).toBe(false);
    expect(await d1.holdsVip()).toBe(true);
  });

  it('a restart keeps the VIP and the peer waits for the master to come back', async () => {
    const [d1, d2] = await pair({ priority: 150 }, { priority: 100 });
    await d1.service?.stop(true);
    await lab.timers.advance(1000);
    expect(d2.state()).toBe('BACKUP');
    expect(await d1.holdsVip()).toBe(true);
    await d1.start(configOf({ priority: 150 }));
    await lab.timers.advance(500);
    expect(d1.state()).toBe('MASTER');
    expect(d2.state()).toBe('BACKUP');
    expect(d2.transitions().filter((t) => t.includes(':master:'))).toEqual([]);
  });
});
