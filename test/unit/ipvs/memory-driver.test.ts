import { describe, expect, it } from 'vitest';
import { diff } from '../../../src/ipvs/diff.js';
import { assertApplied } from '../../../src/ipvs/driver.js';
import { MemoryIpvsDriver } from '../../../src/ipvs/drivers/memory.js';
import { parseSave, renderSave } from '../../../src/ipvs/ipvsadm-text.js';
import type { Op } from '../../../src/ipvs/op.js';
import { MASQ, makeDestination, makeService, type Table } from '../../../src/ipvs/table.js';
import { isLvsdError } from '../../../src/lib/errors.js';

function t(text: string): Table {
  const r = parseSave(text);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

const NAT = t(`-A -t 198.18.0.10:80 -s wrr
-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 1
-a -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 1
`);
const vip = { kind: 'address', protocol: 'tcp', address: '198.18.0.10', port: 80 } as const;

describe('MemoryIpvsDriver', () => {
  it('applies a diff and records the ipvsadm lines it stands for', async () => {
    const driver = new MemoryIpvsDriver();
    const result = await driver.apply(diff((await driver.read()).table, NAT));
    expect(result.ok).toBe(true);
    expect(result.exitCode).toBe(0);
    expect(renderSave(driver.table)).toBe(renderSave(NAT));
    expect(driver.batches).toEqual([
      [
        '-A -t 198.18.0.10:80 -s wrr',
        '-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 1',
        '-a -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 1',
      ],
    ]);
  });

  it('refuses what the kernel refuses, with its words, and goes on (like -R)', async () => {
    const driver = new MemoryIpvsDriver({ initial: NAT });
    const ops: Op[] = [
      { kind: 'add-service', service: makeService(vip, { scheduler: 'rr' }) },
      {
        kind: 'edit-destination',
        serviceId: vip,
        destination: makeDestination({
          address: '198.18.1.11',
          port: 80,
          forwarding: MASQ,
          weight: 0,
        }),
      },
      {
        kind: 'delete-destination',
        serviceId: vip,
        destination: { address: '198.18.1.99', port: 80 },
      },
    ];
    const result = await driver.apply(ops);
    expect(result.ok).toBe(false);
    expect(result.outcomes.map((o) => [o.ok, o.error])).toEqual([
      [false, 'Service already exists'],
      [true, undefined],
      [false, 'No such destination'],
    ]);
    // The status of the last line, as ipvsadm -R gives it.
    expect(result.exitCode).toBe(255);
    expect(
      driver.table.services.get('tcp:198.18.0.10:80')?.destinations.get('198.18.1.11:80')?.weight,
    ).toBe(0);
    expect(() => {
      assertApplied(result);
    }).toThrow(/IPVS op\(s\) failed.*add-service tcp:198\.18\.0\.10:80: Service already exists/);
  });

  it('does not send an op ipvsadm could not parse (it would cut the batch short)', async () => {
    const driver = new MemoryIpvsDriver({ initial: NAT });
    const result = await driver.apply([
      {
        kind: 'edit-destination',
        serviceId: vip,
        destination: makeDestination({
          address: '198.18.1.11',
          port: 80,
          forwarding: MASQ,
          weight: 2147483648,
        }),
      },
      {
        kind: 'edit-destination',
        serviceId: vip,
        destination: makeDestination({
          address: '198.18.1.12',
          port: 80,
          forwarding: MASQ,
          weight: 4,
        }),
      },
    ]);
    expect(result.outcomes.map((o) => [o.ok, o.sent, o.error])).toEqual([
      [false, false, 'illegal weight specified'],
      [true, true, undefined],
    ]);
    expect(driver.batches).toEqual([['-e -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 4']]);
  });

  it('refuses a DR real server on another port (ipvsadm would silently rewrite it)', async () => {
    const driver = new MemoryIpvsDriver({ initial: NAT });
    const result = await driver.apply([
      {
        kind: 'add-destination',
        serviceId: vip,
        destination: makeDestination({ address: '198.18.1.13', port: 8080 }),
      },
    ]);
    expect(result.outcomes[0]).toMatchObject({ ok: false, sent: false });
    expect(result.outcomes[0]?.error).toMatch(/must use the service port 80/);
  });

  it('lacks schedulers it is told the kernel lacks', async () => {
    const driver = new MemoryIpvsDriver({ schedulers: ['rr'] });
    const result = await driver.apply([
      { kind: 'add-service', service: makeService(vip, { scheduler: 'twos' }) },
    ]);
    expect(result.outcomes[0]?.error).toBe('Scheduler or persistence engine not found');
  });

  it('reports connection counters set by tests, and forgets them with the real server', async () => {
    const driver = new MemoryIpvsDriver({ initial: NAT });
    driver.setConnections('tcp:198.18.0.10:80', '198.18.1.12:80', {
      activeConns: 1,
      inactiveConns: 3,
    });
    driver.setStats('tcp:198.18.0.10:80', undefined, {
      conns: 6,
      inPackets: 42,
      outPackets: 30,
      inBytes: 2340,
      outBytes: 2874,
    });
    const observed = await driver.read();
    const svc = observed.observations.get('tcp:198.18.0.10:80');
    expect(svc?.destinations.get('198.18.1.12:80')).toEqual({ activeConns: 1, inactiveConns: 3 });
    expect(svc?.destinations.get('198.18.1.11:80')).toEqual({ activeConns: 0, inactiveConns: 0 });
    expect(svc?.stats?.conns).toBe(6);
    await driver.apply([
      {
        kind: 'delete-destination',
        serviceId: vip,
        destination: { address: '198.18.1.12', port: 80 },
      },
    ]);
    expect((await driver.read()).observations.get('tcp:198.18.0.10:80')?.destinations.size).toBe(1);
  });

  it('drift made by hand (setTable) is repaired by the next diff', async () => {
    const driver = new MemoryIpvsDriver({ initial: NAT });
    driver.setTable(t(renderSave(NAT).replace('198.18.1.12:80 -m -w 1', '198.18.1.12:80 -m -w 9')));
    const ops = diff((await driver.read()).table, NAT);
    expect(ops).toHaveLength(1);
    await driver.apply(ops);
    expect(diff((await driver.read()).table, NAT)).toEqual([]);
  });

  it('fails as a kernel without IPVS when told to', async () => {
    const driver = new MemoryIpvsDriver();
    driver.setUnavailable(true);
    const error: unknown = await driver.read().catch((e: unknown) => e);
    expect(isLvsdError(error) && error.code).toBe('IPVS_UNAVAILABLE');
    expect(isLvsdError(error) && error.hint).toBe(
      "run with --ipvs memory to use lvsd's in-memory table",
    );
  });
});
