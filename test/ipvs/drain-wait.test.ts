/**
 * `lvsd drain --wait` against real connections on a REAL IPVS kernel (the VM): a client holds
 * a TCP connection through the VIP (LVS-NAT) to a real server; the drain puts the server at
 * weight 0 at once, `--wait` keeps waiting while the kernel counts the connection as active
 * (ActiveConn from `ipvsadm -Ln`), times out with exit 7 when asked to, and returns 0 soon
 * after the client closes it.
 *
 * Topology, three network namespaces created here (each netns has its own IPVS table):
 *   client 198.18.0.2 --- 198.18.0.1 director (VIP 198.18.0.10, lvsd) 198.18.1.1 --- 198.18.1.11 rs
 * The real server routes back through the director (NAT). Runs where `ipvsadm -Ln` works (the
 * VM: `npm run build && ../shared/ipvs-vm/run -- npx vitest run test/ipvs/drain-wait.test.ts`),
 * and skips elsewhere, saying why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, missingBuild, startLvsd, waitUntil, weightIn, type Lvsd } from './e2e-helpers.js';
import { announceSkip, ipvsadmIn, probeIpvs } from './helpers.js';

const probe = probeIpvs();
announceSkip('drain --wait on a real kernel', probe);
const build = missingBuild();

const VIP = '198.18.0.10:80';
const VS = `tcp:${VIP}`;
const RS = '198.18.1.11:80';
const tag = `${process.pid % 100000}`;
const ns = { dir: `lvsd-dw-d${tag}`, client: `lvsd-dw-c${tag}`, rs: `lvsd-dw-r${tag}` };

const HOLD_SERVER = `
const net = require('node:net');
const server = net.createServer((s) => { s.on('error', () => {}); s.on('end', () => s.end()); });
server.listen(80, '198.18.1.11', () => console.log('listening'));
`;
const HOLD_CLIENT = `
const net = require('node:net');
const s = net.connect(80, '198.18.0.10', () => console.log('connected'));
s.on('error', (e) => { console.log('error ' + e.message); process.exit(3); });
process.stdin.on('data', () => { s.end(); s.on('close', () => process.exit(0)); });
`;

async function sh(args: string[]): Promise<void> {
  const r = await execa(args[0] ?? 'true', args.slice(1), { reject: false });
  if (r.exitCode !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
}

function inNs(name: string, script: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', name, process.execPath, '-e', script], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function said(child: ChildProcess, word: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => {
      reject(new Error(`no '${word}' within ${ms} ms: ${out}`));
    }, ms);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(word)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

async function activeConns(): Promise<number | undefined> {
  const r = await ipvsadmIn(ns.dir, ['-Ln']);
  for (const line of r.stdout.split('\n')) {
    const m = /^\s+->\s+(\S+)\s+\S+\s+\d+\s+(\d+)\s+(\d+)/.exec(line);
    if (m && m[1] === RS) return Number(m[2]);
  }
  return undefined;
}

describe.skipIf(!probe.ok || build !== undefined)('drain --wait with real IPVS connections', () => {
  let dir = '';
  let lvsd: Lvsd | undefined;
  let server: ChildProcess | undefined;
  let client: ChildProcess | undefined;
  const drain = (extra: string[]) =>
    execa(
      process.execPath,
      [CLI, 'drain', VS, RS, '--reason', 'test', '--socket', join(dir, 'lvsd.sock'), ...extra],
      { reject: false, timeout: 120_000 },
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvsd-drain-wait-'));
    for (const n of Object.values(ns)) await sh(['ip', 'netns', 'add', n]);
    for (const n of Object.values(ns)) await sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
    await sh([
      'ip',
      'link',
      'add',
      'c0',
      'netns',
      ns.client,
      'type',
      'veth',
      'peer',
      'name',
      'd0',
      'netns',
      ns.dir,
    ]);
    await sh([
      'ip',
      'link',
      'add',
      'r0',
      'netns',
      ns.rs,
      'type',
      'veth',
      'peer',
      'name',
      'd1',
      'netns',
      ns.dir,
    ]);
    await sh(['ip', '-n', ns.client, 'addr', 'add', '198.18.0.2/24', 'dev', 'c0']);
    await sh(['ip', '-n', ns.dir, 'addr', 'add', '198.18.0.1/24', 'dev', 'd0']);
    await sh(['ip', '-n', ns.dir, 'addr', 'add', '198.18.0.10/32', 'dev', 'd0']);
    await sh(['ip', '-n', ns.dir, 'addr', 'add', '198.18.1.1/24', 'dev', 'd1']);
    await sh(['ip', '-n', ns.rs, 'addr', 'add', '198.18.1.11/24', 'dev', 'r0']);
    for (const [n, dev] of [
      [ns.client, 'c0'],
      [ns.dir, 'd0'],
      [ns.dir, 'd1'],
      [ns.rs, 'r0'],
    ] as const)
      await sh(['ip', '-n', n, 'link', 'set', dev, 'up']);
    await sh(['ip', '-n', ns.client, 'route', 'add', 'default', 'via', '198.18.0.1']);
    await sh(['ip', '-n', ns.rs, 'route', 'add', 'default', 'via', '198.18.1.1']);
    await sh(['ip', 'netns', 'exec', ns.dir, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    server = inNs(ns.rs, HOLD_SERVER);
    await said(server, 'listening', 30_000);
    const conf = join(dir, 'keepalived.conf');
    writeFileSync(
      conf,
      `virtual_server 198.18.0.10 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
`,
    );
    lvsd = startLvsd({ netns: ns.dir, conf, runDir: dir });
    await lvsd.waitFor((l) => l.event?.name === 'daemon.started', 60_000, 'daemon.started');
    await waitUntil(
      async () => weightIn((await ipvsadmIn(ns.dir, ['-Sn'])).stdout, VIP, RS) === 1,
      30_000,
      'the real server in the table with weight 1',
    );
  }, 180_000);

  afterAll(async () => {
    client?.kill('SIGKILL');
    server?.kill('SIGKILL');
    if (lvsd?.running()) await lvsd.stop('SIGTERM', 15_000).catch(() => undefined);
    for (const n of Object.values(ns)) await execa('ip', ['netns', 'del', n], { reject: false });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('waits while a connection is active, times out with exit 7, returns 0 once it closes', async () => {
    client = inNs(ns.client, HOLD_CLIENT);
    await said(client, 'connected', 30_000);
    await waitUntil(async () => (await activeConns()) === 1, 20_000, 'ActiveConn 1 on the server');

    // A short wait: the connection stays, so the timeout passes (exit 7); the drain stays.
    const short = await drain(['--wait', '--timeout', '3s', '--json']);
    expect(short.exitCode, short.stderr).toBe(7);
    expect(weightIn((await ipvsadmIn(ns.dir, ['-Sn'])).stdout, VIP, RS)).toBe(0);
    expect(await activeConns()).toBe(1);

    // A long wait: still waiting 3 s later; the client closes; the wait ends with 0.
    const long = drain(['--wait', '--timeout', '90s', '--json']);
    let ended = false;
    void long.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 3000));
    expect(ended).toBe(false);
    const closedAt = Date.now();
    client.stdin?.write('close\n');
    const done = await long;
    expect(done.exitCode, done.stderr).toBe(0);
    // The CLI polls once a second; the VM is slow (ruling 15).
    expect(Date.now() - closedAt).toBeLessThan(20_000);
    expect(await activeConns()).toBe(0);
  }, 180_000);
});
