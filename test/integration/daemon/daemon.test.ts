/**
 * The daemon end to end on one host: real HTTP real servers on loopback, real timers, the
 * in-memory IPVS twin (the same driver interface the ipvsadm driver implements, tested on a real
 * kernel in test/ipvs). A failed server goes to weight 0 within fall × interval + timeout and
 * comes back; a restart adopts the table with zero operations; hand-made drift is repaired.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Daemon } from '../../../src/daemon/daemon.js';
import { startSwitchableBackend, type SwitchableBackend } from '../../../src/demo/backend.js';
import { MemoryIpvsDriver } from '../../../src/ipvs/drivers/memory.js';
import { renderSave } from '../../../src/ipvs/ipvsadm-text.js';
import { makeDestination, MASQ, withEntry } from '../../../src/ipvs/table.js';
import { systemClock } from '../../../src/lib/clock.js';
import { EventBus, type AnyEvent } from '../../../src/lib/events.js';
import { startTestDaemon } from '../../helpers/test-daemon.js';

let dir: string;
let backends: SwitchableBackend[];
let daemons: Daemon[];

function config(ports: number[], extra = ''): string {
  const rs = ports
    .map(
      (p, i) => `    real_server 127.0.0.1 ${p} {
        weight ${i + 2}
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            connect_timeout 0.3
            retry 1
            delay_before_retry 0.1
            delay_loop 0.2
        }
    }`,
    )
    .join('\n');
  return `virtual_server 198.18.0.10 80 {
    lb_algo wlc
    lb_kind NAT
    protocol TCP
${extra}
${rs}
}
`;
}

async function start(
  file: string,
  driver: MemoryIpvsDriver,
  events: AnyEvent[],
  driftCheckMs = 0,
): Promise<Daemon> {
  const bus = new EventBus(systemClock);
  bus.subscribe((e) => events.push(e));
  const d = await startTestDaemon(file, {
    driver,
    bus,
    driftCheckMs,
    stateDir: path.join(dir, 'state'),
    control: false,
  });
  daemons.push(d);
  return d;
}

async function until(cond: () => boolean, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
}

async function weightOf(driver: MemoryIpvsDriver, port: number): Promise<number | undefined> {
  const t = (await driver.read()).table;
  return t.services.get('tcp:198.18.0.10:80')?.destinations.get(`127.0.0.1:${port}`)?.weight;
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-daemon-'));
  backends = [await startSwitchableBackend(), await startSwitchableBackend()];
  daemons = [];
});
afterEach(async () => {
  for (const d of daemons) await d.stop('test');
  for (const b of backends) await b.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('lvsd run (daemon)', () => {
  it('builds the table, takes a 503 server to weight 0 within the bound, and restores it', async () => {
    const [a, b] = backends as [SwitchableBackend, SwitchableBackend];
    const file = path.join(dir, 'k.conf');
    writeFileSync(file, config([a.port, b.port]));
    const driver = new MemoryIpvsDriver();
    const events: AnyEvent[] = [];
    const d = await start(file, driver, events);
    await d.settle();
    expect(renderSave((await driver.read()).table)).toBe(
      `-A -t 198.18.0.10:80 -s wlc\n-a -t 198.18.0.10:80 -r 127.0.0.1:${Math.min(a.port, b.port)} -m -w ${a.port < b.port ? 2 : 3}\n-a -t 198.18.0.10:80 -r 127.0.0.1:${Math.max(a.port, b.port)} -m -w ${a.port < b.port ? 3 : 2}\n`,
    );
    // Let the first checks pass (the start-up rule: the first failure would take it down at once).
    await until(() => a.requests() > 1, 2000);
    a.setStatus(503);
    // Bound: (retry + 1) failures = 2, 0.1 s apart after the first, each under 0.3 s; plus the
    // regular slot (0.2 s) and the scheduler's tick.
    const took = await until(() => events.some((e) => e.name === 'rs.down'), 2000);
    expect(took).toBeLessThan(2 * 200 + 2 * 300 + 200);
    await d.settle();
    expect(await weightOf(driver, a.port)).toBe(0);
    const down = events.find((e) => e.name === 'rs.down');
    expect(down?.name === 'rs.down' && down.data.reason).toBe('status 503 (2/2 failures)');
    expect(down?.subject).toBe(`tcp:198.18.0.10:80/127.0.0.1:${a.port}`);
    a.setStatus(200);
    await until(() => events.some((e) => e.name === 'rs.up'), 2000);
    await d.settle();
    expect(await weightOf(driver, a.port)).toBe(2);
    expect(await weightOf(driver, b.port)).toBe(3);
    const applied = events
      .filter((e) => e.name === 'ipvs.applied')
      .map((e) => (e.name === 'ipvs.applied' ? e.data.lines : []));
    expect(applied.flat()).toContain(`-e -t 198.18.0.10:80 -r 127.0.0.1:${a.port} -m -w 0`);
  });

  it('a restart adopts a matching table with zero operations', async () => {
    const [a, b] = backends as [SwitchableBackend, SwitchableBackend];
    const file = path.join(dir, 'k.conf');
    writeFileSync(file, config([a.port, b.port]));
    const driver = new MemoryIpvsDriver();
    const first = await start(file, driver, []);
    await first.settle();
    await first.stop('test');
    daemons = [];
    const batches = driver.batches.length;
    const events: AnyEvent[] = [];
    const second = await start(file, driver, events);
    await new Promise((r) => setTimeout(r, 600));
    await second.settle();
    expect(driver.batches.length).toBe(batches);
    expect(events.map((e) => e.name)).toContain('ipvs.adopted');
  });

  it('repairs a change made by hand and says so', async () => {
    const [a, b] = backends as [SwitchableBackend, SwitchableBackend];
    const file = path.join(dir, 'k.conf');
    writeFileSync(file, config([a.port, b.port]));
    const driver = new MemoryIpvsDriver();
    const events: AnyEvent[] = [];
    const d = await start(file, driver, events, 100);
    await d.settle();
    const t = (await driver.read()).table;
    const entry = t.services.get('tcp:198.18.0.10:80');
    if (!entry) throw new Error('service missing');
    const destinations = new Map(entry.destinations);
    destinations.set(
      `127.0.0.1:${b.port}`,
      makeDestination({ address: '127.0.0.1', port: b.port, forwarding: MASQ, weight: 100 }),
    );
    driver.setTable(withEntry(t, 'tcp:198.18.0.10:80', { service: entry.service, destinations }));
    await until(() => events.some((e) => e.name === 'ipvs.drift'), 2000);
    await d.settle();
    expect(await weightOf(driver, b.port)).toBe(3);
  });

  it('SIGHUP-style reload: a bad file is rejected and the old configuration keeps running', async () => {
    const [a, b] = backends as [SwitchableBackend, SwitchableBackend];
    const file = path.join(dir, 'k.conf');
    writeFileSync(file, config([a.port, b.port]));
    const driver = new MemoryIpvsDriver();
    const events: AnyEvent[] = [];
    const d = await start(file, driver, events);
    await d.settle();
    writeFileSync(file, config([a.port, b.port]).replace('lb_kind NAT', 'lb_kind nat'));
    const r = d.reload();
    expect(r.ok).toBe(false);
    expect(events.map((e) => e.name)).toContain('config.rejected');
    expect(d.current.virtualServers[0]?.forwarding).toBe('nat');
    // A good change applies, and touches only what changed.
    writeFileSync(file, config([a.port]));
    const ok = d.reload();
    expect(ok).toMatchObject({ ok: true, changed: ['tcp:198.18.0.10:80'] });
    await d.settle();
    expect(await weightOf(driver, b.port)).toBeUndefined();
    expect(await weightOf(driver, a.port)).toBe(2);
  });

  it('a no-op reload issues zero IPVS operations', async () => {
    const [a, b] = backends as [SwitchableBackend, SwitchableBackend];
    const file = path.join(dir, 'k.conf');
    writeFileSync(file, config([a.port, b.port]));
    const driver = new MemoryIpvsDriver();
    const d = await start(file, driver, []);
    await d.settle();
    const batches = driver.batches.length;
    expect(d.reload()).toMatchObject({ ok: true, added: [], removed: [], changed: [] });
    await new Promise((r) => setTimeout(r, 100));
    await d.settle();
    expect(driver.batches.length).toBe(batches);
  });

  it('refuses to start on a configuration that cannot run', async () => {
    const driver = new MemoryIpvsDriver();
    await expect(start(path.join(dir, 'missing.conf'), driver, [])).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});

describe('quorum, sorry server and slow start (daemon)', () => {
  it('loses quorum, serves the sorry server, and gets the real servers back', async () => {
    const [a, b] = backends as [SwitchableBackend, SwitchableBackend];
    const file = path.join(dir, 'q.conf');
    writeFileSync(
      file,
      config([a.port, b.port], '    quorum 5\n    hysteresis 0\n    sorry_server 198.18.1.99 80'),
    );
    const driver = new MemoryIpvsDriver();
    const events: AnyEvent[] = [];
    const d = await start(file, driver, events);
    await until(() => a.requests() > 1 && b.requests() > 1, 2000);
    await d.settle();
    a.setStatus(503); // weight 2 of 5 lost: live weight 3 < quorum 5
    await until(() => events.some((e) => e.name === 'vs.quorum_down'), 3000);
    await d.settle();
    const t = (await driver.read()).table.services.get('tcp:198.18.0.10:80');
    expect([...(t?.destinations.keys() ?? [])]).toEqual(['198.18.1.99:80']);
    a.setStatus(200);
    // The quorum held at start is reported too; wait for the one after the loss.
    const lost = events.findIndex((e) => e.name === 'vs.quorum_down');
    await until(() => events.slice(lost).some((e) => e.name === 'vs.quorum_up'), 3000);
    await d.settle();
    expect(await weightOf(driver, a.port)).toBe(2);
    expect(await weightOf(driver, b.port)).toBe(3);
  });

  it('slow start ramps a recovered server back to its weight', async () => {
    const [a, b] = backends as [SwitchableBackend, SwitchableBackend];
    const file = path.join(dir, 's.conf');
    writeFileSync(file, config([a.port, b.port], '    slow_start 1'));
    const driver = new MemoryIpvsDriver();
    const events: AnyEvent[] = [];
    const d = await start(file, driver, events);
    await until(() => a.requests() > 1, 2000);
    a.setStatus(503);
    await until(() => events.some((e) => e.name === 'rs.down'), 2000);
    a.setStatus(200);
    await until(() => events.some((e) => e.name === 'rs.up'), 2000);
    const up = events.find((e) => e.name === 'rs.up');
    expect(up?.name === 'rs.up' && up.data.weight).toBeLessThan(2);
    await until(() => events.some((e) => e.name === 'rs.weight' && e.data.weight === 2), 3000);
    await d.settle();
    expect(await weightOf(driver, a.port)).toBe(2);
  });
});
