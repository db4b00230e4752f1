/**
 * The IPVS connection-sync driver against a real IPVS kernel (the VM:
 * `../shared/ipvs-vm/run --timeout 600 -- npx vitest run test/ipvs/sync-daemon.test.ts`);
 * skips elsewhere and says why.
 *
 * Topology (network namespaces, 198.18.0.0/15 only):
 *   client eth0 198.18.0.100 ── eth0 198.18.0.1 + VIP 198.18.0.10   dir1 (MASTER)
 *                                  eth1 198.18.1.254 ── eth0 198.18.1.11  rs (TCP echo :80)
 *                                  sync0 198.18.2.1 ── sync0 198.18.2.2   dir2 (BACKUP)
 * dir1 runs an IPVS NAT service VIP:80 → rs:80 and the sync daemon as master; dir2 the same
 * service and the sync daemon as backup. A TCP connection from the client through dir1 must
 * then appear in dir2's `ipvsadm -Lnc`: what lets it survive a failover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLvsdError } from '../../src/lib/errors.js';
import { IpvsadmSyncDaemon } from '../../src/vrrp/drivers/sync-daemon.js';
import { NetnsLab, waitFor } from '../helpers/netns.js';
import { announceSkip, probeIpvs } from './helpers.js';

const probe = probeIpvs();
announceSkip('IPVS sync daemon on a real kernel', probe);

const SYNC = { interface: 'sync0', syncId: 51 } as const;

const SERVER = `require('net').createServer((s) => s.pipe(s)).listen(80, '198.18.1.11', () => console.log('listening'));`;
const CLIENT = `
const s = require('net').connect(80, '198.18.0.10');
let n = 0;
s.on('connect', () => { const t = setInterval(() => { s.write('ping'); if (++n === 10) clearInterval(t); }, 100); });
s.on('data', () => console.log('echo'));
s.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });
setTimeout(() => process.exit(0), 120000);
`;

describe.skipIf(!probe.ok)('IpvsadmSyncDaemon on a real kernel', { timeout: 240_000 }, () => {
  let lab: NetnsLab;
  let client = '';
  let dir1 = '';
  let dir2 = '';
  let rs = '';

  beforeAll(async () => {
    lab = new NetnsLab('sync');
    client = await lab.ns('client');
    dir1 = await lab.ns('dir1');
    dir2 = await lab.ns('dir2');
    rs = await lab.ns('rs');
    await lab.veth({ ns: client, ifname: 'eth0' }, { ns: dir1, ifname: 'eth0' });
    await lab.veth({ ns: dir1, ifname: 'eth1' }, { ns: rs, ifname: 'eth0' });
    await lab.veth({ ns: dir1, ifname: 'sync0' }, { ns: dir2, ifname: 'sync0' });
    await lab.addr(client, 'eth0', '198.18.0.100/24');
    await lab.addr(dir1, 'eth0', '198.18.0.1/24');
    await lab.addr(dir1, 'eth0', '198.18.0.10/32');
    await lab.addr(dir1, 'eth1', '198.18.1.254/24');
    await lab.addr(dir1, 'sync0', '198.18.2.1/24');
    await lab.addr(dir2, 'sync0', '198.18.2.2/24');
    await lab.addr(rs, 'eth0', '198.18.1.11/24');
    await lab.exec(rs, 'ip', ['route', 'add', 'default', 'via', '198.18.1.254']);
    await lab.sysctl(dir1, 'net.ipv4.ip_forward', '1');
    for (const d of [dir1, dir2]) {
      await lab.exec(d, 'ipvsadm', ['-A', '-t', '198.18.0.10:80', '-s', 'rr']);
      await lab.exec(d, 'ipvsadm', ['-a', '-t', '198.18.0.10:80', '-r', '198.18.1.11:80', '-m']);
    }
  });
  afterAll(async () => {
    await lab?.dispose();
  });

  it('start/stop/state: the kernel rules the twin copies', async () => {
    const d = new IpvsadmSyncDaemon({ netns: dir2 });
    expect(await d.state()).toEqual([]);
    expect(await d.stop('master')).toEqual({ changed: false });
    await d.start('backup', SYNC);
    await expect(d.start('backup', SYNC)).rejects.toMatchObject({ code: 'SYNCD_ALREADY_RUNNING' });
    expect(await d.state()).toEqual([
      {
        role: 'backup',
        interface: 'sync0',
        syncId: 51,
        maxLen: expect.any(Number) as number,
        group: '224.0.0.81',
        port: 8848,
        ttl: 1,
      },
    ]);
    await expect(d.start('master', { interface: 'nosuch0' })).rejects.toSatisfy(
      (e: unknown) => isLvsdError(e) && e.code === 'SYNCD_NO_DEVICE',
    );
    expect(await d.stop('backup')).toEqual({ changed: true });
    expect(await d.state()).toEqual([]);
  });

  it('a connection through the master appears on the backup; roles switch idempotently', async () => {
    const master = new IpvsadmSyncDaemon({ netns: dir1 });
    const backup = new IpvsadmSyncDaemon({ netns: dir2 });
    expect(await backup.switch('backup', SYNC)).toEqual({ stopped: [], started: ['backup'] });
    expect(await master.switch('master', SYNC)).toEqual({ stopped: [], started: ['master'] });
    expect(await master.switch('master', SYNC)).toEqual({ stopped: [], started: [] });

    const server = lab.spawn(rs, process.execPath, ['-e', SERVER]);
    let serverOut = '';
    server.stdout.on('data', (b: Buffer) => (serverOut += b.toString()));
    expect(await waitFor(() => (serverOut.includes('listening') ? true : undefined), 30_000)).toBe(
      true,
    );
    const cl = lab.spawn(client, process.execPath, ['-e', CLIENT]);
    let clientOut = '';
    cl.stdout.on('data', (b: Buffer) => (clientOut += b.toString()));
    expect(await waitFor(() => (clientOut.includes('echo') ? true : undefined), 30_000)).toBe(true);

    const conn =
      /^TCP\s+\S+\s+ESTABLISHED\s+198\.18\.0\.100:\d+\s+198\.18\.0\.10:80\s+198\.18\.1\.11:80\s*$/m;
    const onMaster = await lab.exec(dir1, 'ipvsadm', ['-Lnc']);
    expect(onMaster.stdout).toMatch(conn);
    // The master flushes partly filled sync buffers every 2 s; the VM is slow: allow 30 s.
    const onBackup = await waitFor(
      async () => {
        const r = await lab.exec(dir2, 'ipvsadm', ['-Lnc']);
        return conn.test(r.stdout) ? r.stdout : undefined;
      },
      30_000,
      250,
    );
    expect(onBackup).toMatch(conn);

    // Failover: dir2 becomes master, dir1 backup (other role stopped first, as keepalived).
    expect(await backup.switch('master', SYNC)).toEqual({
      stopped: ['backup'],
      started: ['master'],
    });
    expect(await master.switch('backup', SYNC)).toEqual({
      stopped: ['master'],
      started: ['backup'],
    });
    expect((await backup.state()).map((s) => s.role)).toEqual(['master']);
    expect((await master.state()).map((s) => s.role)).toEqual(['backup']);
    // The synced entry is still on dir2 after its role changed.
    expect((await lab.exec(dir2, 'ipvsadm', ['-Lnc'])).stdout).toMatch(conn);
    expect(await master.switch('none', SYNC)).toEqual({ stopped: ['backup'], started: [] });
    expect(await backup.switch('none', SYNC)).toEqual({ stopped: ['master'], started: [] });
  });
});
