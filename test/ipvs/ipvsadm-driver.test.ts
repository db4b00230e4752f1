/**
 * The ipvsadm driver against a real IPVS kernel. Runs where `ipvsadm -Ln` works (the VM:
 * `../shared/ipvs-vm/run -- npx vitest run test/ipvs`), skips elsewhere and says why. Each test
 * gets its own network namespace, hence its own empty IPVS table.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diff } from '../../src/ipvs/diff.js';
import { IpvsadmDriver } from '../../src/ipvs/drivers/ipvsadm.js';
import { parseSave, renderBatch, renderSave } from '../../src/ipvs/ipvsadm-text.js';
import type { Op } from '../../src/ipvs/op.js';
import {
  MASQ,
  SCHEDULERS,
  makeDestination,
  makeService,
  type Table,
} from '../../src/ipvs/table.js';
import { isLvsdError } from '../../src/lib/errors.js';
import { announceSkip, freshNetns, ipvsadmIn, probeIpvs } from './helpers.js';

const probe = probeIpvs();
announceSkip('ipvsadm driver on a real kernel', probe);

function t(text: string): Table {
  const r = parseSave(text);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

const NAT_DR_TUN = t(`-A -t 198.18.0.10:80 -s wrr
-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 3
-a -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 1
-A -t 198.18.0.20:443 -s wlc -p 300
-a -t 198.18.0.20:443 -r 198.18.1.11:443 -g -w 5
-a -t 198.18.0.20:443 -r 198.18.1.12:443 -g -w 5
-A -t 198.18.0.30:80 -s rr
-a -t 198.18.0.30:80 -r 198.18.1.11:80 -i -w 1 --tun-type ipip
-a -t 198.18.0.30:80 -r 198.18.1.12:80 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum
`);

const V6_AND_FWMARK = t(`-A -u 198.18.0.10:53 -s lc -o
-a -u 198.18.0.10:53 -r 198.18.1.11:53 -m -w 1
-A -t [2001:db8::10]:80 -s sh -b sh-fallback,sh-port -p 60 -M 64
-a -t [2001:db8::10]:80 -r [2001:db8::11]:80 -m -w 1 -x 100 -y 10
-A -f 1 -s rr -p 30 -M 255.255.255.0
-a -f 1 -r 198.18.1.11:0 -g -w 1
-A -f 2 -6 -s wlc
-a -f 2 -6 -r [2001:db8::11]:0 -g -w 1
`);

const vip = { kind: 'address', protocol: 'tcp', address: '198.18.0.10', port: 80 } as const;

describe.skipIf(!probe.ok)('IpvsadmDriver on a real IPVS kernel', { timeout: 120_000 }, () => {
  let netns: { name: string; dispose: () => Promise<void> };
  let driver: IpvsadmDriver;

  beforeEach(async () => {
    netns = await freshNetns();
    driver = new IpvsadmDriver({ netns: netns.name });
  });
  afterEach(async () => {
    await netns.dispose();
  });

  async function converge(desired: Table): Promise<void> {
    const result = await driver.apply(diff((await driver.read()).table, desired));
    expect(result.outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(diff(result.after, desired)).toEqual([]);
  }

  it('builds NAT, DR and TUN services from empty; reads back what ipvsadm -Sn prints', async () => {
    await converge(NAT_DR_TUN);
    const raw = await ipvsadmIn(netns.name, ['-Sn']);
    expect(renderSave((await driver.read()).table)).toBe(raw.stdout);
  });

  it('IPv6, UDP one-packet, sh flags, thresholds, fwmark IPv4 and IPv6', async () => {
    await converge(V6_AND_FWMARK);
    const observed = await driver.read();
    expect(renderSave(observed.table, { thresholds: true })).toBe(
      renderSave(V6_AND_FWMARK, { thresholds: true }),
    );
    const d = observed.table.services
      .get('tcp:[2001:db8::10]:80')
      ?.destinations.get('[2001:db8::11]:80');
    expect(d).toMatchObject({ upperThreshold: 100, lowerThreshold: 10 });
  });

  it('edits in place: weight 0 and back, method NAT→DR→TUN, scheduler and persistence', async () => {
    await converge(NAT_DR_TUN);
    const steps = [
      ['weight 0', NAT_DR_TUN_with('-a -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 0')],
      ['weight back', NAT_DR_TUN],
      ['to DR', NAT_DR_TUN_with('-a -t 198.18.0.10:80 -r 198.18.1.12:80 -g -w 1')],
      [
        'to gre TUN',
        NAT_DR_TUN_with('-a -t 198.18.0.10:80 -r 198.18.1.12:80 -i -w 1 --tun-type gre --tun-csum'),
      ],
      ['back to NAT', NAT_DR_TUN],
      [
        'scheduler and persistence',
        NAT_DR_TUN_service('-A -t 198.18.0.10:80 -s sed -p 120 -M 255.255.0.0'),
      ],
      ['persistence off', NAT_DR_TUN],
    ] as const;
    for (const [name, desired] of steps) {
      const ops = diff((await driver.read()).table, desired);
      expect(
        ops.map((o) => o.kind),
        name,
      ).toEqual([
        name.startsWith('scheduler') || name === 'persistence off'
          ? 'edit-service'
          : 'edit-destination',
      ]);
      await converge(desired);
    }
  });

  it('deletes real servers, then services (with their real servers, implicitly)', async () => {
    await converge(NAT_DR_TUN);
    const fewer = t(
      renderSave(NAT_DR_TUN)
        .split('\n')
        .filter((l) => !l.includes('198.18.1.12:80') && !l.includes('198.18.0.20:443'))
        .join('\n'),
    );
    const ops = diff((await driver.read()).table, fewer);
    expect(renderBatch(ops)).toBe(
      '-d -t 198.18.0.10:80 -r 198.18.1.12:80\n-d -t 198.18.0.30:80 -r 198.18.1.12:80\n-D -t 198.18.0.20:443\n',
    );
    await converge(fewer);
    await converge(t(''));
    expect((await ipvsadmIn(netns.name, ['-Sn'])).stdout).toBe('');
  });

  it('adopts a table that already matches: zero ops', async () => {
    const restore = await ipvsadmIn(
      netns.name,
      ['-R'],
      renderSave(NAT_DR_TUN, { thresholds: true }),
    );
    expect(restore).toMatchObject({ exitCode: 0, stderr: '' });
    expect(diff((await driver.read()).table, NAT_DR_TUN)).toEqual([]);
  });

  it('repairs drift made by hand', async () => {
    await converge(NAT_DR_TUN);
    // An operator's edit that forgets -m: ipvsadm switches the server to DR (the README trap).
    expect(
      (
        await ipvsadmIn(netns.name, [
          '-e',
          '-t',
          '198.18.0.10:80',
          '-r',
          '198.18.1.11:80',
          '-w',
          '7',
        ])
      ).exitCode,
    ).toBe(0);
    const ops = diff((await driver.read()).table, NAT_DR_TUN);
    expect(renderBatch(ops)).toBe('-e -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 3\n');
    await converge(NAT_DR_TUN);
  });

  it('a batch with one bad line: exactly that op is reported, the rest applied', async () => {
    await converge(NAT_DR_TUN);
    const edit = (host: number, weight: number): Op => ({
      kind: 'edit-destination',
      serviceId: vip,
      destination: makeDestination({
        address: `198.18.1.${host}`,
        port: 80,
        forwarding: MASQ,
        weight,
      }),
    });
    const result = await driver.apply([edit(11, 4), edit(99, 4), edit(12, 4)]);
    expect(result.outcomes.map((o) => [o.ok, o.error])).toEqual([
      [true, undefined],
      [false, 'No such destination'],
      [true, undefined],
    ]);
    // The status is that of the last line, which worked.
    expect(result.exitCode).toBe(0);
    expect(result.ok).toBe(false);
    const svc = result.after.services.get('tcp:198.18.0.10:80');
    expect([...(svc?.destinations.values() ?? [])].map((d) => d.weight)).toEqual([4, 4]);
  });

  it('an op ipvsadm cannot parse is not sent, so it cannot cut the batch short', async () => {
    await converge(NAT_DR_TUN);
    const result = await driver.apply([
      {
        kind: 'add-service',
        service: makeService({ protocol: 'tcp', address: '198.18.0.40', port: 0 }),
      },
      {
        kind: 'add-service',
        service: makeService({ protocol: 'tcp', address: '198.18.0.41', port: 80 }),
      },
    ]);
    expect(result.outcomes.map((o) => [o.ok, o.sent, o.error])).toEqual([
      [false, false, 'Zero port specified for non-persistent service'],
      [true, true, undefined],
    ]);
  });

  it('every scheduler this kernel has; `twos` (6.2+) is refused as ipvsadm words it', async () => {
    const desired = t(SCHEDULERS.map((s, i) => `-A -t 198.18.0.${100 + i}:80 -s ${s}`).join('\n'));
    const result = await driver.apply(diff((await driver.read()).table, desired));
    const failed = result.outcomes.filter((o) => !o.ok);
    const kernel = (await ipvsadmIn(netns.name, ['-Ln'])).stdout;
    if (failed.length > 0) {
      // Debian's 6.1 kernel has no ip_vs_twos; a newer kernel would take it.
      expect(
        failed.map((o) => [o.op.kind === 'add-service' && o.op.service.scheduler, o.error]),
      ).toEqual([['twos', 'Scheduler or persistence engine not found']]);
    }
    expect(kernel).toContain('198.18.0.112:80 mh');
  });

  it('reads counters: ActiveConn/InActConn and --stats for every service and real server', async () => {
    await converge(NAT_DR_TUN);
    const observed = await driver.read();
    const svc = observed.observations.get('tcp:198.18.0.10:80');
    expect(svc?.stats).toEqual({ conns: 0, inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0 });
    expect(svc?.destinations.get('198.18.1.11:80')).toMatchObject({
      activeConns: 0,
      inactiveConns: 0,
    });
  });

  it('a missing namespace is IPVS_COMMAND_FAILED with a hint', async () => {
    const error: unknown = await new IpvsadmDriver({ netns: 'lvsd-no-such-ns' })
      .read()
      .catch((e: unknown) => e);
    expect(isLvsdError(error) && error.code).toBe('IPVS_COMMAND_FAILED');
    expect(isLvsdError(error) && error.hint).toBe('create it first: ip netns add lvsd-no-such-ns');
  });
});

function NAT_DR_TUN_with(destinationLine: string): Table {
  const key = destinationLine.split(' ')[4] ?? '';
  return t(
    renderSave(NAT_DR_TUN, { thresholds: true })
      .split('\n')
      .map((l) =>
        l.startsWith('-a -t 198.18.0.10:80 ') && l.includes(` ${key} `) ? destinationLine : l,
      )
      .join('\n'),
  );
}

function NAT_DR_TUN_service(serviceLine: string): Table {
  return t(
    renderSave(NAT_DR_TUN, { thresholds: true })
      .split('\n')
      .map((l) => (l.startsWith('-A -t 198.18.0.10:80 ') ? serviceLine : l))
      .join('\n'),
  );
}
