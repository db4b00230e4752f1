/**
 * The seed's LVS-NAT director pair in network namespaces, for failover tests (root only):
 *
 *   client eth0 198.18.0.100 ── bridge "front" (namespace sw) ── dir1 eth0 198.18.0.1
 *                                                              └─ dir2 eth0 198.18.0.2
 *   rs1 eth0 198.18.1.11, rs2 198.18.1.12 ── bridge "back" ── dir1 eth1 198.18.1.1, dir2 198.18.1.2
 *   VIP 198.18.0.10/24 (eth0) and DIP 198.18.1.254/24 (eth1, the real servers' gateway) float.
 *
 * Built on NetnsLab (names unique per process and lab, interfaces created inside their
 * namespaces, every address in 198.18.0.0/15). Fixed MACs as in the shared lab: client
 * 02:18:00:00:00:64, dir1/dir2 front 02:18:00:00:00:01/02, back 02:18:01:00:00:01/02. IPv6 is
 * off in every namespace; directors have ip_forward and ip_nonlocal_bind (so a service binds
 * the VIP before it arrives). A small UDP echo service on each director answers on VIP:9000 with
 * the director's name; a prober in the client sends to the VIP every 10 ms and keeps every
 * answer, so a test can ask "who does the client reach now" and measure outages.
 * lvsd daemons run as `ip netns exec NS node bin/lvsd.js run -f FILE` in their own process group
 * (crash = SIGSTOP to the group, links down, SIGKILL); `create(tag, { lvsd })` runs a given
 * executable instead (the installed /usr/bin/lvsd), and `startDaemon(…, { command })` any
 * command line (a systemd unit's ExecStart). `dispose()` ends everything by PID and
 * deletes the namespaces and the scratch folder; it never throws and is bounded in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VrrpInstanceStatus } from '../../src/daemon/vrrp-service.js';
import { execa } from 'execa';
import { NetnsLab, waitFor, type CommandResult } from './netns.js';

/** The checkout: the nearest folder above this file with bin/lvsd.js (also when bundled). */
function findRepo(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    if (existsSync(join(dir, 'bin', 'lvsd.js'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export const REPO = findRepo();
export const LVSD_BIN = join(REPO, 'bin', 'lvsd.js');

/**
 * A private copy of the built CLI (dist/ is self-contained), so that a rebuild in the checkout
 * while a test runs (`npm run build` removes dist/ first) cannot break a daemon's start. Waits
 * up to 10 s for a dist/ that is being rebuilt.
 */
async function snapshotLvsd(dir: string): Promise<string> {
  const dist = join(REPO, 'dist');
  for (let i = 0; i < 100 && !existsSync(join(dist, 'lvsd.mjs')); i++) await sleep(100);
  if (!existsSync(join(dist, 'lvsd.mjs')))
    throw new Error(`${dist}/lvsd.mjs is missing: npm run build first`);
  const root = join(dir, 'lvsd');
  cpSync(dist, join(root, 'dist'), { recursive: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  cpSync(LVSD_BIN, join(root, 'bin', 'lvsd.js'));
  return join(root, 'bin', 'lvsd.js');
}

export type Director = 'dir1' | 'dir2';
export type LabNode = 'client' | Director | 'rs1' | 'rs2';
export const DIRECTORS: readonly Director[] = ['dir1', 'dir2'];

export const VIP = '198.18.0.10';
export const DIP = '198.18.1.254';
export const ECHO_PORT = 9000;
/** status()'s timeout: see there. */
const STATUS_TIMEOUT_MS = process.env.IPVS_VM === '1' ? 10_000 : 1_000;
/**
 * How often the waits below look. On the host 25 ms, the resolution the failover figures are
 * read at. In the emulated VM each look starts processes (two `ip`, or a status request the
 * daemon must answer) costing ~100 ms of its one CPU: at 25 ms the harness's own polling took
 * most of the CPU from the daemons whose handover it was timing.
 */
const POLL_MS = process.env.IPVS_VM === '1' ? 250 : 25;
export const ADVERT_PORT = 61112;
export const VRRP_GROUP = '224.0.0.18';

export const IP = {
  client: '198.18.0.100',
  dir1: { front: '198.18.0.1', back: '198.18.1.1' },
  dir2: { front: '198.18.0.2', back: '198.18.1.2' },
  rs1: '198.18.1.11',
  rs2: '198.18.1.12',
} as const;

export const MAC = {
  client: '02:18:00:00:00:64',
  dir1: { front: '02:18:00:00:00:01', back: '02:18:01:00:00:01' },
  dir2: { front: '02:18:00:00:00:02', back: '02:18:01:00:00:02' },
  rs1: '02:18:01:00:00:0b',
  rs2: '02:18:01:00:00:0c',
} as const;

/** One director's lvsd config for the pair (sync group LAB = FRONT on eth0 + BACK on eth1). */
export interface PairConfig {
  readonly priority: number;
  readonly state?: 'MASTER' | 'BACKUP';
  /** Seconds; omitted: lvsd's `timing fast` profile (80 ms). Sub-second sets version 3. */
  readonly advertInt?: number;
  readonly nopreempt?: boolean;
  readonly preemptDelay?: number;
  /** `file` (default): the lab's key file; `pass`: auth_pass; `none`: unauthenticated. */
  readonly auth?: 'file' | 'pass' | 'none';
  /** unicast_src_ip = this director's address, unicast_peer = the other's. */
  readonly unicast?: boolean;
  /** Only the FRONT instance (no BACK, no sync group). */
  readonly frontOnly?: boolean;
  /** Extra lines in FRONT (track_script, track_interface …). */
  readonly front?: string;
  /** Extra top-level text (vrrp_script …). */
  readonly top?: string;
  /** The daemon to run (default lvsd); keepalived gets the same config without the lvsd block. */
  readonly daemon?: 'lvsd' | 'keepalived';
}

export interface LabOptions {
  /** An lvsd executable to run instead of the private copy of dist/ (the installed /usr/bin/lvsd). */
  readonly lvsd?: string;
}

export interface StartOptions {
  /** The daemon's whole command line, given its config file (default: `LVSD run -f FILE`). */
  readonly command?: (configFile: string) => readonly string[];
}

export interface ProbeAnswer {
  readonly seq: number;
  readonly sent: number;
  readonly recv: number;
  readonly who: string;
}

/** How a daemon ended: its exit code, or the signal that ended it (then code is null). */
export interface DaemonExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface DaemonHandle {
  readonly director: Director;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly log: string;
  readonly exited: Promise<DaemonExit>;
}

/** What the status endpoint returns that these tests read. */
export interface StatusView {
  readonly vrrp: readonly VrrpInstanceStatus[];
  /** Datagrams on the advert port that no instance took, by reason (malformed, wrong-vrid). */
  readonly vrrpUnrouted?: Readonly<Record<string, number>>;
}

const ECHO_JS = `'use strict';
const dgram = require('node:dgram');
const [name, vip, port] = process.argv.slice(2);
const s = dgram.createSocket('udp4');
// A reply that cannot leave (links down, VIP just removed) is dropped, never fatal.
s.on('message', (m, r) => { s.send(name + ' ' + m.toString('latin1', 0, 32), r.port, r.address, () => undefined); });
s.on('error', (e) => { console.error('echo ' + name + ': ' + e.message); });
s.bind(Number(port), vip);
process.on('SIGTERM', () => process.exit(0));
`;

// Prints "seq sent recv who" per answer (epoch ms); a probe without an answer prints nothing.
const PROBER_JS = `'use strict';
const dgram = require('node:dgram');
const { performance } = require('node:perf_hooks');
const [target, port, interval] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const sent = new Map();
let seq = 0;
const s = dgram.createSocket('udp4');
s.on('message', (m) => {
  const [who, q] = m.toString('latin1').split(' ');
  const t = sent.get(Number(q));
  if (t === undefined) return;
  sent.delete(Number(q));
  process.stdout.write(q + ' ' + t.toFixed(3) + ' ' + now().toFixed(3) + ' ' + who + '\\n');
});
s.on('error', () => undefined);
s.connect(Number(port), target, () => {
  const t0 = now();
  const tick = () => {
    const q = seq++;
    sent.set(q, now());
    if (sent.size > 1000) sent.delete(sent.keys().next().value);
    try { s.send(String(q), () => undefined); } catch {}
    setTimeout(tick, Math.max(0, t0 + seq * Number(interval) - now()));
  };
  tick();
});
process.on('SIGTERM', () => process.exit(0));
`;

// rogue.js send ADDR PORT IFADDR COUNT INTERVAL_MS HEX... | capture IFADDR MS
const ROGUE_JS = `'use strict';
const dgram = require('node:dgram');
const [mode, ...a] = process.argv.slice(2);
if (mode === 'send') {
  const [addr, port, ifaddr, count, interval, ...hex] = a;
  const bufs = hex.map((h) => Buffer.from(h, 'hex'));
  const s = dgram.createSocket('udp4');
  s.bind(0, ifaddr, () => {
    if (addr.startsWith('224.')) { s.setMulticastInterface(ifaddr); s.setMulticastTTL(255); }
    else s.setTTL(255);
    let i = 0;
    const next = () => {
      if (i >= Number(count)) { s.close(); return; }
      s.send(bufs[i % bufs.length], Number(port), addr, () => undefined);
      i += 1;
      setTimeout(next, Number(interval));
    };
    next();
  });
} else if (mode === 'capture') {
  const [ifaddr, ms] = a;
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  s.on('message', (m, r) => { process.stdout.write(r.address + ' ' + m.toString('hex') + '\\n'); });
  s.bind(${ADVERT_PORT}, '${VRRP_GROUP}', () => { s.addMembership('${VRRP_GROUP}', ifaddr); });
  setTimeout(() => { s.close(); process.exit(0); }, Number(ms));
} else { console.error('rogue: send | capture'); process.exit(2); }
`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export class DirectorLab {
  readonly net: NetnsLab;
  readonly dir: string;
  readonly keyFile: string;
  /** The lvsd the daemons run: the copy of bin/lvsd.js (see snapshotLvsd), or LabOptions.lvsd. */
  readonly lvsd: string;
  /** How to run it: [node, copy] or [executable]. */
  readonly lvsdCommand: readonly string[];
  readonly ns: Readonly<Record<LabNode | 'sw', string>>;
  private readonly daemons = new Map<Director, DaemonHandle>();
  /** The last exit per director: a daemon that ended on its own is gone from `daemons`. */
  private readonly lastExits = new Map<Director, DaemonExit>();
  private readonly helpers = new Set<ChildProcess>();
  private readonly echo = new Map<Director, ChildProcess>();
  private prober: ChildProcess | undefined;
  private answers: ProbeAnswer[] = [];
  private disposed = false;

  private constructor(
    net: NetnsLab,
    ns: Record<LabNode | 'sw', string>,
    dir: string,
    lvsdCommand: readonly string[],
  ) {
    this.net = net;
    this.lvsdCommand = lvsdCommand;
    this.lvsd = lvsdCommand[lvsdCommand.length - 1] ?? '';
    this.ns = ns;
    this.dir = dir;
    this.keyFile = join(dir, 'vrrp.key');
    writeFileSync(this.keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    chmodSync(this.keyFile, 0o600);
    writeFileSync(join(dir, 'echo.js'), ECHO_JS);
    writeFileSync(join(dir, 'prober.js'), PROBER_JS);
    writeFileSync(join(dir, 'rogue.js'), ROGUE_JS);
    writeFileSync(join(dir, 'links-down.batch'), 'link set eth0 down\nlink set eth1 down\n');
  }

  /** Builds the topology (about 1 s); on failure removes what was made and rethrows. */
  static async create(tag = 'fo', opts: LabOptions = {}): Promise<DirectorLab> {
    const net = new NetnsLab(tag);
    const dir = mkdtempSync(join(tmpdir(), `lvsd-${tag}-`));
    try {
      const names: Partial<Record<LabNode | 'sw', string>> = {};
      for (const n of ['sw', 'client', 'dir1', 'dir2', 'rs1', 'rs2'] as const) {
        const full = await net.ns(n);
        names[n] = full;
        await net.sysctl(full, 'net.ipv6.conf.all.disable_ipv6', '1');
        await net.sysctl(full, 'net.ipv6.conf.default.disable_ipv6', '1');
      }
      const ns = names as Record<LabNode | 'sw', string>;
      for (const br of ['front', 'back']) await net.bridge(ns.sw, br);
      const link = async (
        node: LabNode,
        ifname: string,
        port: string,
        bridge: string,
        mac: string,
        cidr: string,
      ): Promise<void> => {
        await net.veth({ ns: ns[node], ifname, mac }, { ns: ns.sw, ifname: port, master: bridge });
        await net.addr(ns[node], ifname, cidr);
      };
      await link('client', 'eth0', 'f-client', 'front', MAC.client, `${IP.client}/24`);
      for (const d of DIRECTORS) {
        await link(d, 'eth0', `f-${d}`, 'front', MAC[d].front, `${IP[d].front}/24`);
        await link(d, 'eth1', `b-${d}`, 'back', MAC[d].back, `${IP[d].back}/24`);
        await net.sysctl(ns[d], 'net.ipv4.ip_forward', '1');
        await net.sysctl(ns[d], 'net.ipv4.ip_nonlocal_bind', '1');
      }
      for (const rs of ['rs1', 'rs2'] as const) {
        await link(rs, 'eth0', `b-${rs}`, 'back', MAC[rs], `${IP[rs]}/24`);
        await net.exec(ns[rs], 'ip', ['route', 'add', 'default', 'via', DIP, 'dev', 'eth0']);
      }
      const command =
        opts.lvsd !== undefined ? [opts.lvsd] : [process.execPath, await snapshotLvsd(dir)];
      return new DirectorLab(net, ns, dir, command);
    } catch (err) {
      await net.dispose();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** `ip …` inside a node's namespace. */
  async ip(
    node: LabNode | 'sw',
    args: readonly string[],
    allowFail = false,
  ): Promise<CommandResult> {
    return this.net.exec(this.ns[node], 'ip', args, allowFail);
  }

  socket(d: Director, ro = true): string {
    return join(this.dir, `${d}${ro ? '-ro' : ''}.sock`);
  }

  /** The lvsd config text of one director of the pair. */
  config(d: Director, c: PairConfig): string {
    const other: Director = d === 'dir1' ? 'dir2' : 'dir1';
    const timing = c.advertInt === undefined ? '  timing fast\n' : '';
    const auth = c.auth ?? 'file';
    const instance = (
      name: string,
      dev: string,
      vrid: number,
      side: 'front' | 'back',
      vip: string,
    ): string => {
      const lines = [
        `vrrp_instance ${name} {`,
        `  state ${c.state ?? 'BACKUP'}`,
        `  interface ${dev}`,
        `  virtual_router_id ${vrid}`,
        `  priority ${c.priority}`,
      ];
      if (c.advertInt !== undefined) {
        lines.push(`  advert_int ${c.advertInt}`);
        if (c.advertInt < 1 && c.daemon !== 'keepalived') lines.push('  version 3');
      }
      if (c.nopreempt === true) lines.push('  nopreempt');
      if (c.preemptDelay !== undefined) lines.push(`  preempt_delay ${c.preemptDelay}`);
      if (auth === 'pass')
        lines.push('  authentication {', '    auth_type PASS', '    auth_pass lab1234', '  }');
      if (c.unicast === true)
        lines.push(
          `  unicast_src_ip ${IP[d][side]}`,
          '  unicast_peer {',
          `    ${IP[other][side]}`,
          '  }',
        );
      lines.push('  virtual_ipaddress {', `    ${vip}/24 dev ${dev}`, '  }');
      if (name === 'FRONT' && c.front !== undefined) lines.push(c.front);
      lines.push('}');
      return lines.join('\n');
    };
    const keepalived = c.daemon === 'keepalived';
    const v3 = c.advertInt !== undefined && c.advertInt < 1;
    const parts = [
      `global_defs {\n  router_id ${d}\n  script_user root${keepalived && v3 ? '\n  vrrp_version 3' : ''}\n}`,
    ];
    if (c.top !== undefined) parts.push(c.top);
    if (c.frontOnly !== true)
      parts.push('vrrp_sync_group LAB {\n  group {\n    FRONT\n    BACK\n  }\n}');
    parts.push(instance('FRONT', 'eth0', 51, 'front', VIP));
    if (c.frontOnly !== true) parts.push(instance('BACK', 'eth1', 52, 'back', DIP));
    if (keepalived) return `${parts.join('\n')}\n`;
    parts.push(
      [
        'lvsd {',
        timing +
          '  ipvs_driver memory\n  metrics_address off' +
          (auth === 'file' ? `\n  key_file ${this.keyFile}` : ''),
        `  control_socket ${this.socket(d, false)}`,
        `  control_socket_ro ${this.socket(d)}`,
        `  state_dir ${join(this.dir, `state-${d}`)}`,
        '}',
      ].join('\n'),
    );
    return `${parts.join('\n')}\n`;
  }

  /** Writes a file under the lab's scratch folder; returns its path. */
  file(name: string, text: string, mode = 0o644): string {
    const p = join(this.dir, name);
    writeFileSync(p, text, { mode });
    chmodSync(p, mode);
    return p;
  }

  /** Starts `lvsd run` in a director; resolves when its control socket answers (≤ 15 s). */
  async startDaemon(
    d: Director,
    c: PairConfig | string,
    opts: StartOptions = {},
  ): Promise<DaemonHandle> {
    if (this.daemons.has(d)) throw new Error(`${d}: a daemon is already running`);
    const text = typeof c === 'string' ? c : this.config(d, c);
    const file = this.file(`${d}.conf`, text);
    mkdirSync(join(this.dir, `state-${d}`), { recursive: true });
    rmSync(this.socket(d), { force: true });
    rmSync(this.socket(d, false), { force: true });
    const log = join(this.dir, `${d}.log`);
    const fd = openSync(log, 'a');
    const keepalived = typeof c !== 'string' && c.daemon === 'keepalived';
    const run = keepalived
      ? [
          'keepalived',
          '--dont-fork',
          '--log-console',
          '--no-syslog',
          '--vrrp',
          `--use-file=${file}`,
          `--pid=${join(this.dir, `${d}.ka.pid`)}`,
          `--vrrp_pid=${join(this.dir, `${d}.ka-vrrp.pid`)}`,
        ]
      : (opts.command?.(file) ?? [...this.lvsdCommand, 'run', '-f', file]);
    if (keepalived)
      for (const f of [`${d}.ka.pid`, `${d}.ka-vrrp.pid`])
        rmSync(join(this.dir, f), { force: true });
    const child = spawn('ip', ['netns', 'exec', this.ns[d], ...run], {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${d}: lvsd did not start`);
    const exited = new Promise<DaemonExit>((res) => {
      child.once('exit', (code, signal) => {
        const e = { code, signal };
        this.lastExits.set(d, e);
        res(e);
      });
    });
    const h: DaemonHandle = { director: d, pid, child, log, exited };
    this.daemons.set(d, h);
    this.lastExits.delete(d);
    void exited.then(() => {
      if (this.daemons.get(d) === h) this.daemons.delete(d);
    });
    // keepalived has no control socket: it is up once spawned (its VRRP child follows).
    if (keepalived) return h;
    let ended = false;
    void exited.then(() => (ended = true));
    const ok = await waitFor(
      async () =>
        ended || (await this.status(d).catch(() => undefined)) !== undefined ? true : undefined,
      15_000,
      2 * POLL_MS,
    );
    if (ok === undefined || ended) {
      const tail = readFileSync(log, 'utf8').split('\n').slice(-6).join('\n');
      throw new Error(
        `${d}: lvsd ${ended ? 'exited during start' : "'s control socket did not answer in 15 s"} (log ${log}):\n${tail}`,
      );
    }
    return h;
  }

  daemon(d: Director): DaemonHandle | undefined {
    return this.daemons.get(d);
  }

  /** How the last daemon of `d` ended; undefined while one runs or if none ever ran. */
  lastExit(d: Director): DaemonExit | undefined {
    return this.lastExits.get(d);
  }

  /**
   * GET /v1/status on the read-only socket: 1 s timeout, 10 s in the IPVS VM, where a loaded
   * emulated CPU delays the daemon's answer by seconds (lvsd itself answers within about a
   * second whatever ipvsadm does: STATUS_KERNEL_WAIT_MS).
   */
  status(d: Director): Promise<StatusView> {
    return new Promise((res, rej) => {
      const req = request(
        {
          socketPath: this.socket(d),
          path: '/v1/status',
          method: 'GET',
          timeout: STATUS_TIMEOUT_MS,
        },
        (r) => {
          let body = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (body += c));
          r.on('end', () => {
            try {
              res(JSON.parse(body) as StatusView);
            } catch (e) {
              rej(e instanceof Error ? e : new Error(String(e)));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('status timeout')));
      req.on('error', rej);
      req.end();
    });
  }

  /** The VRRP states of a director, by instance: { FRONT: 'MASTER', BACK: 'MASTER' }. */
  async states(d: Director): Promise<Record<string, string>> {
    const s = await this.status(d);
    return Object.fromEntries(s.vrrp.map((i) => [i.name, i.state]));
  }

  /** Waits until every instance of `d` is in `state`; the states last seen, or undefined. */
  async waitState(d: Director, state: string, timeoutMs: number): Promise<boolean> {
    const r = await waitFor(
      async () => {
        const s = await this.states(d).catch(() => undefined);
        return s !== undefined &&
          Object.values(s).length > 0 &&
          Object.values(s).every((x) => x === state)
          ? true
          : undefined;
      },
      timeoutMs,
      POLL_MS,
    );
    return r === true;
  }

  /** SIGKILL to the daemon's process group; waits for it to end. */
  async kill9(d: Director): Promise<void> {
    const h = this.daemons.get(d);
    if (!h) return;
    killQuietly(-h.pid, 'SIGKILL');
    await Promise.race([h.exited, sleep(5_000)]);
    this.daemons.delete(d);
  }

  /** A power cut: the daemon frozen, both links down in one `ip -batch`, then SIGKILL. */
  async crash(d: Director): Promise<number> {
    const h = this.daemons.get(d);
    if (h) killQuietly(-h.pid, 'SIGSTOP');
    const t = Date.now();
    await this.ip(d, ['-batch', join(this.dir, 'links-down.batch')]).catch(async () => {
      await this.linksDown(d);
    });
    await this.kill9(d);
    return t;
  }

  /**
   * SIGTERM (clean stop: priority-0 advert, VIPs removed); waits ≤ 10 s, then SIGKILL. Returns
   * how the daemon ended, also when it had already exited (signalled by the test itself, or
   * crashed); null only if no daemon ever ran in `d`.
   */
  async stop(d: Director, signal: NodeJS.Signals = 'SIGTERM'): Promise<DaemonExit | null> {
    const h = this.daemons.get(d);
    if (!h) return this.lastExits.get(d) ?? null;
    killQuietly(h.pid, signal);
    const ended = await Promise.race([h.exited, sleep(10_000).then(() => 'timeout' as const)]);
    if (ended === 'timeout') await this.kill9(d);
    this.daemons.delete(d);
    return this.lastExits.get(d) ?? null;
  }

  async linksDown(d: Director): Promise<void> {
    await this.ip(d, ['link', 'set', 'eth0', 'down']);
    await this.ip(d, ['link', 'set', 'eth1', 'down']);
  }

  async linksUp(d: Director): Promise<void> {
    await this.ip(d, ['link', 'set', 'eth0', 'up']);
    await this.ip(d, ['link', 'set', 'eth1', 'up']);
  }

  /** Removes VIP and DIP from a director ("reboot"); missing ones are fine. */
  async flush(d: Director): Promise<void> {
    await this.ip(d, ['addr', 'del', `${VIP}/24`, 'dev', 'eth0'], true);
    await this.ip(d, ['addr', 'del', `${DIP}/24`, 'dev', 'eth1'], true);
  }

  /** Detaches (or re-attaches) a director's switch ports: the far side of a cable cut. */
  async switchPort(d: Director, side: 'front' | 'back', attached: boolean): Promise<void> {
    const port = `${side === 'front' ? 'f' : 'b'}-${d}`;
    await this.ip('sw', ['link', 'set', port, ...(attached ? ['master', side] : ['nomaster'])]);
  }

  /** Bridge multicast flooding to the directors' ports off (on): a network without multicast. */
  async multicast(on: boolean): Promise<void> {
    for (const d of DIRECTORS)
      for (const p of [`f-${d}`, `b-${d}`])
        await this.net.exec(this.ns.sw, 'bridge', [
          'link',
          'set',
          'dev',
          p,
          'mcast_flood',
          on ? 'on' : 'off',
        ]);
  }

  /** Which directors hold `addr` on a link that is up. */
  async holders(addr: string = VIP): Promise<Director[]> {
    const held = await this.held();
    return DIRECTORS.filter((d) => held[d].includes(` ${addr}/`));
  }

  /** `ip -4 -o addr show up` of both directors (one `ip -n` process each, no netns exec). */
  private async held(): Promise<Record<Director, string>> {
    const read = async (d: Director): Promise<string> => {
      const r = await execa('ip', ['-n', this.ns[d], '-4', '-o', 'addr', 'show', 'up'], {
        reject: false,
        timeout: 5_000,
        stdin: 'ignore',
      });
      return typeof r.stdout === 'string' ? r.stdout : '';
    };
    const [a, b] = await Promise.all([read('dir1'), read('dir2')]);
    return { dir1: a, dir2: b };
  }

  /** Waits until `d` alone holds VIP and DIP (both), or `timeoutMs`; true if so. */
  async waitHolder(d: Director | 'none', timeoutMs: number, both = true): Promise<boolean> {
    const r = await waitFor(
      async () => {
        const held = await this.held();
        const alone = (addr: string): boolean => {
          const h = DIRECTORS.filter((x) => held[x].includes(` ${addr}/`));
          return d === 'none' ? h.length === 0 : h.length === 1 && h[0] === d;
        };
        return alone(VIP) && (!both || alone(DIP)) ? true : undefined;
      },
      timeoutMs,
      POLL_MS,
    );
    return r === true;
  }

  /** The client's neighbour entry for the VIP: its MAC, or undefined. */
  async clientNeighbour(): Promise<string | undefined> {
    const r = await this.ip('client', ['neigh', 'show', VIP, 'dev', 'eth0'], true);
    return /lladdr (\S+)/.exec(r.stdout)?.[1];
  }

  /** Starts the echo service on both directors (bound to VIP:9000) and the client's prober. */
  async startTraffic(): Promise<void> {
    for (const d of DIRECTORS) {
      const running = this.echo.get(d);
      if (running && running.exitCode === null && running.signalCode === null) continue;
      const c = this.helper(this.ns[d], [join(this.dir, 'echo.js'), d, VIP, String(ECHO_PORT)]);
      this.echo.set(d, c);
    }
    if (this.prober && this.prober.exitCode === null && this.prober.signalCode === null) return;
    await sleep(300);
    const p = this.helper(
      this.ns.client,
      [join(this.dir, 'prober.js'), VIP, String(ECHO_PORT), '10'],
      true,
    );
    let rest = '';
    p.stdout?.setEncoding('utf8');
    p.stdout?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) {
        const [seq, sent, recv, who] = l.split(' ');
        if (who === undefined) continue;
        this.answers.push({ seq: Number(seq), sent: Number(sent), recv: Number(recv), who });
      }
      if (this.answers.length > 200_000) this.answers = this.answers.slice(-100_000);
    });
    this.prober = p;
  }

  /** Answers received at or after `since` (epoch ms). */
  answersSince(since: number): ProbeAnswer[] {
    const out: ProbeAnswer[] = [];
    for (let i = this.answers.length - 1; i >= 0; i--) {
      const a = this.answers[i];
      if (a === undefined || a.recv < since) break;
      out.push(a);
    }
    return out.reverse();
  }

  /**
   * Who the client reaches now: waits for `count` consecutive fresh answers from one director
   * (≤ timeoutMs) and returns its name, or undefined (no answer, or answers from both).
   */
  async reaches(timeoutMs = 2_000, count = 3): Promise<string | undefined> {
    const since = Date.now();
    return waitFor(
      () => {
        const a = this.answersSince(since).slice(-count);
        if (a.length < count) return undefined;
        const who = a[0]?.who;
        return a.every((x) => x.who === who) ? who : undefined;
      },
      timeoutMs,
      10,
    );
  }

  /**
   * The client's outage around `event` (epoch ms): first answer from `to` at/after the event
   * minus the last answer from `from` before that (ms); undefined if `to` never answered.
   */
  outage(event: number, from: string, to: string): number | undefined {
    const a = this.answersSince(event - 5_000);
    const first = a.find((x) => x.who === to && x.recv >= event);
    if (!first) return undefined;
    const last = [...a].reverse().find((x) => x.who === from && x.recv < first.recv);
    return last === undefined ? first.recv - event : first.recv - last.recv;
  }

  /** One line on where things stand, for failure messages: holders, neighbour, last answers. */
  async describe(): Promise<string> {
    const now = Date.now();
    const last = this.answersSince(now - 3_000)
      .slice(-5)
      .map((a) => `${a.who}@-${(now - a.recv).toFixed(0)}ms`);
    const states: string[] = [];
    for (const d of DIRECTORS) {
      const s = this.daemons.has(d) ? await this.states(d).catch(() => undefined) : undefined;
      states.push(
        `${d} ${
          s
            ? Object.entries(s)
                .map(([k, v]) => `${k}=${v}`)
                .join(',')
            : 'no daemon/status'
        }`,
      );
    }
    return [
      `VIP on ${(await this.holders(VIP)).join('+') || 'none'}`,
      `DIP on ${(await this.holders(DIP)).join('+') || 'none'}`,
      `client neighbour for the VIP ${(await this.clientNeighbour()) ?? 'none'}`,
      `prober ${this.prober?.exitCode === null ? 'running' : 'ended'}, last answers ${last.join(' ') || 'none in 3 s'}`,
      `echo ${DIRECTORS.map((d) => `${d} ${this.echo.get(d)?.exitCode === null ? 'running' : 'ended'}`).join(', ')}`,
      ...states,
    ].join('; ');
  }

  /** Runs the rogue sender in `node` (default: the client): packets as hex, round robin. */
  async rogueSend(
    packets: readonly Buffer[],
    opts: { count?: number; intervalMs?: number; to?: string; node?: LabNode; from?: string } = {},
  ): Promise<void> {
    const node = opts.node ?? 'client';
    const from = opts.from ?? IP.client;
    const args = [
      join(this.dir, 'rogue.js'),
      'send',
      opts.to ?? VRRP_GROUP,
      String(ADVERT_PORT),
      from,
      String(opts.count ?? packets.length),
      String(opts.intervalMs ?? 10),
      ...packets.map((p) => p.toString('hex')),
    ];
    await this.net.exec(this.ns[node], process.execPath, args);
  }

  /** Captures the adverts seen on the front segment (from the client) for `ms`. */
  async capture(ms: number): Promise<{ from: string; data: Buffer }[]> {
    const r = await this.net.exec(this.ns.client, process.execPath, [
      join(this.dir, 'rogue.js'),
      'capture',
      IP.client,
      String(ms),
    ]);
    return r.stdout
      .split('\n')
      .filter((l) => l.includes(' '))
      .map((l) => {
        const [from = '', hex = ''] = l.split(' ');
        return { from, data: Buffer.from(hex, 'hex') };
      });
  }

  /** Stops both daemons (SIGKILL), removes VIP/DIP, links and ports up, neighbours flushed. */
  async reset(): Promise<void> {
    for (const d of DIRECTORS) await this.kill9(d);
    // Echo services that ended (they should not) are started again.
    if (this.prober) await this.startTraffic();
    await this.multicast(true);
    for (const d of DIRECTORS) {
      await this.linksUp(d);
      await this.switchPort(d, 'front', true);
      await this.switchPort(d, 'back', true);
      await this.flush(d);
    }
    await this.ip('client', ['neigh', 'flush', 'dev', 'eth0'], true);
  }

  /**
   * A fresh pair: dir1 started first and holding VIP+DIP, then dir2, settled as BACKUP.
   * Throws (with both logs' tails) if that does not happen within the bound.
   */
  async startPair(c1: PairConfig, c2: PairConfig, timeoutMs = 8_000): Promise<void> {
    await this.reset();
    await this.startDaemon('dir1', c1);
    if (!(await this.waitHolder('dir1', timeoutMs, c1.frontOnly !== true)))
      throw new Error(`dir1 did not take VIP and DIP in ${timeoutMs} ms`);
    await this.startDaemon('dir2', c2);
    if (c2.daemon === 'keepalived') {
      // No status to read: 1.5 adverts + 0.5 s, then dir1 must still hold both alone.
      await sleep(1.5 * 1000 * (c2.advertInt ?? 1) + 500);
      if (!(await this.waitHolder('dir1', 1_000, c1.frontOnly !== true)))
        throw new Error('VIP/DIP not on dir1 alone after dir2 (keepalived) started');
    } else if (!(await this.waitState('dir2', 'BACKUP', timeoutMs)))
      throw new Error(`dir2 did not settle as BACKUP in ${timeoutMs} ms`);
  }

  private helper(ns: string, args: readonly string[], pipeOut = false): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], {
      stdio: ['ignore', pipeOut ? 'pipe' : 'ignore', 'ignore'],
    });
    this.helpers.add(c);
    c.once('exit', () => this.helpers.delete(c));
    return c;
  }

  /** Ends every process this lab started, deletes its namespaces and scratch folder. */
  async dispose(keepDir = false): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const h of this.daemons.values()) killQuietly(-h.pid, 'SIGKILL');
    for (const c of this.helpers) if (c.pid !== undefined) killQuietly(c.pid, 'SIGKILL');
    await Promise.race([
      Promise.allSettled([...this.daemons.values()].map((h) => h.exited)),
      sleep(3_000),
    ]);
    this.daemons.clear();
    await this.net.dispose();
    if (!keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A lab ready to use (topology built, batch files written). */
export async function directorLab(tag = 'fo', opts: LabOptions = {}): Promise<DirectorLab> {
  return DirectorLab.create(tag, opts);
}
