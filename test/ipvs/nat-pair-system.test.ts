/**
 * The whole system on a REAL IPVS kernel (the VM; each network namespace has its own IPVS
 * table), the classic LVS-NAT pair (issue 9; harness: test/helpers/director-lab.ts): a client
 * outside, two directors running `lvsd run --ipvs ipvsadm` with VRRP (sync group: VIP outside,
 * DIP inside) and lvs_sync_daemon, two real servers whose gateway is the DIP. Client traffic
 * through the VIP all along (a new connection every 80 ms), and in order:
 *   1. rr spreads requests evenly; a reload to wrr 3:1 gives 3:1 (within 10 %);
 *   2. a reload that changes one weight is exactly one IPVS operation;
 *   3. a real server that fails (503) gets weight 0 and comes back; no request fails after the
 *      detection bound;
 *   4. a drained server gets no new connections while an open one goes on; `drain --wait`
 *      returns once it closes;
 *   5. lvsd restarted on the master under load (SIGUSR2, ruling 14): zero failed requests,
 *      zero IPVS operations, the VIP never moves;
 *   6. the master crashes (links down, kill -9): the backup serves VIP and DIP; a keep-alive
 *      connection opened before goes on through the new master (connection sync); the client
 *      outage is printed;
 *   7. the old master returns and pre-empts; a clean stop (SIGTERM) hands over at once;
 *   8. a director cut off from both segments becomes MASTER too, and once reconnected the
 *      pair converges to one master and the client is served.
 * advert_int 1 and VM-sized bounds (ruling 15: emulated CPU; the figures are VM timings), scaled
 * by vmPace() on a VM slower than the reference one.
 *   npm run build && ../shared/ipvs-vm/run --rw --smp 2 -- npx vitest run test/ipvs/nat-pair-system.test.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LVSD_BIN, directorLab, type Director, type DirectorLab } from '../helpers/director-lab.js';
import { missingBuild, paced, sleep, vmPace, waitUntil } from './e2e-helpers.js';
import { needTools } from '../helpers/netns.js';
import { announceSkip, probeIpvs } from './helpers.js';

// Without arping the new master's gratuitous ARP cannot go out (lvsd logs a warning), the
// client keeps the old director's MAC, and the failover tests would fail for the machine's sake.
const probe = needTools(probeIpvs(), { arping: 'apt-get install iputils-arping' });
announceSkip('LVS-NAT pair, whole system, on a real kernel', probe);
const build = missingBuild();

const VS = 'tcp:198.18.0.10:80';
const RS1 = '198.18.1.11:80';
const RS2 = '198.18.1.12:80';
const DELAY_LOOP_S = 1;
const CONNECT_TIMEOUT_S = 3;
/** fall × delay_loop + timeout (keepalived: down after retry + 1 = 2 failures), + VM slack. */
const DETECT_BOUND_MS = (2 * DELAY_LOOP_S + CONNECT_TIMEOUT_S) * 1000 + paced(4000);

function virtualServer(algo: string, w1: number, w2: number): string {
  const rs = (addr: string, w: number) => `  real_server ${addr} 80 {
    weight ${w}
    HTTP_GET {
      url {
        path /health
        status_code 200
      }
      connect_timeout ${CONNECT_TIMEOUT_S}
      retry 1
      delay_before_retry 0.5
    }
  }`;
  return `virtual_server 198.18.0.10 80 {
  delay_loop ${DELAY_LOOP_S}
  lb_algo ${algo}
  lb_kind NAT
  protocol TCP
${rs('198.18.1.11', w1)}
${rs('198.18.1.12', w2)}
}`;
}

function configFor(lab: DirectorLab, d: Director, vs: string): string {
  return (
    lab
      .config(d, { priority: d === 'dir1' ? 150 : 100, advertInt: 1, top: vs })
      .replace('ipvs_driver memory', 'ipvs_driver ipvsadm')
      .replace('script_user root', 'script_user root\n  lvs_sync_daemon eth1 FRONT')
      // A restart in the emulated VM takes 5-20 s (node's start at 10-20x slower CPU); on real
      // hardware it is about a second and the default 10 s is plenty.
      .replace('lvsd {\n', 'lvsd {\n  restart_grace 60\n')
  );
}

// Answers every path with its name; stdin "fail" / "ok" switches every answer to 503 / 200.
const RS_JS = `
const http = require('node:http');
const name = process.argv[1];
let status = 200;
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  status = l.trim() === 'fail' ? 503 : 200;
  console.log('status ' + status);
});
const s = http.createServer((req, res) => { res.statusCode = status; res.end(name + '\\n'); });
s.keepAliveTimeout = 600000;
// An idle keep-alive connection must outlive a slow VM's failover: no header or request deadline.
s.headersTimeout = 600000;
s.requestTimeout = 600000;
s.listen(80, '0.0.0.0', () => console.log('listening'));
`;

// A new connection every 80 ms; one JSON line per request: {t, ok, rs}. (Faster starves the
// emulated VM's CPU: node then takes over 15 s to start.)
const LOAD_JS = `
const http = require('node:http');
setInterval(() => {
  const t = Date.now();
  const req = http.get({ host: '198.18.0.10', port: 80, path: '/', agent: false, timeout: 5000 }, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => console.log(JSON.stringify({ t, ok: res.statusCode === 200, rs: body.trim() })));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => console.log(JSON.stringify({ t, ok: false, rs: '', error: e.message })));
}, 80);
`;

// One keep-alive connection; on each stdin line a request on it: "ok RS LOCALPORT" or an error.
const STREAM_JS = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  if (l.trim() === 'close') { agent.destroy(); console.log('closed'); return; }
  const req = http.get({ host: '198.18.0.10', port: 80, path: '/', agent, timeout: 20000 }, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => console.log('ok ' + body.trim() + ' ' + req.socket.localPort));
  });
  req.on('timeout', () => { console.log('timeout'); req.destroy(); });
  req.on('error', (e) => console.log('error ' + e.message));
});
`;

interface Answer {
  readonly t: number;
  readonly ok: boolean;
  readonly rs: string;
}

class Load {
  readonly answers: Answer[] = [];
  private readonly child: ChildProcess;
  constructor(ns: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', LOAD_JS], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      try {
        this.answers.push(JSON.parse(l) as Answer);
      } catch {
        // a partial line at exit
      }
    });
  }
  since(t: number): Answer[] {
    return this.answers.filter((a) => a.t >= t);
  }
  stop(): void {
    this.child.kill('SIGKILL');
  }
}

class Stream {
  private readonly child: ChildProcess;
  private readonly waiting: ((l: string) => void)[] = [];
  constructor(ns: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', STREAM_JS], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      this.waiting.shift()?.(l);
    });
  }
  send(line: string): Promise<string> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        resolve('no answer');
      }, 25_000);
      this.waiting.push((l) => {
        clearTimeout(t);
        resolve(l);
      });
      this.child.stdin?.write(`${line}\n`);
    });
  }
  stop(): void {
    this.child.kill('SIGKILL');
  }
}

function share(answers: readonly Answer[], rs: string): number {
  const ok = answers.filter((a) => a.ok);
  return ok.length === 0 ? 0 : ok.filter((a) => a.rs === rs).length / ok.length;
}

describe.skipIf(!probe.ok || build !== undefined)('LVS-NAT pair, whole system', () => {
  let lab: DirectorLab;
  let load: Load;
  const servers = new Map<string, ChildProcess>();

  const ipvsadm = async (d: Director, args: string[]) =>
    (await lab.net.exec(lab.ns[d], 'ipvsadm', args, true)).stdout;
  const weight = async (d: Director, rs: string) => {
    const m = new RegExp(
      `-a -t 198\\.18\\.0\\.10:80 -r ${rs.replace(/\./g, '\\.')} -m -w (\\d+)`,
    ).exec(await ipvsadm(d, ['-Sn']));
    return m ? Number(m[1]) : undefined;
  };
  const log = (d: Director) =>
    readFileSync(join(lab.dir, `${d}.log`), 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as { event?: { name: string; data: { ops?: number } } }];
        } catch {
          return [];
        }
      });
  const tail = (d: Director) => {
    const f = join(lab.dir, `${d}.log`);
    const text = existsSync(f) ? readFileSync(f, 'utf8') : '(no log yet)';
    return `\n--- ${d}.log (last 15 lines) ---\n${text.split('\n').slice(-15).join('\n')}`;
  };
  /** The harness waits 15 s for the control socket; the emulated CPU may need more. */
  const start = async (d: Director, vs: string) => {
    await lab.startDaemon(d, configFor(lab, d, vs)).catch(async (err: unknown) => {
      if (!lab.daemon(d)) throw err;
      await waitUntil(
        async () => (await lab.status(d).catch(() => undefined)) !== undefined,
        paced(60_000),
        `${d}'s control socket${tail(d)}`,
        200,
      );
    });
  };
  /** What both directors say, for a failure message. */
  const why = async () =>
    `holders ${(await lab.holders()).join(',') || 'none'}; dir1 ${JSON.stringify(await lab.states('dir1').catch(() => ({})))}; dir2 ${JSON.stringify(await lab.states('dir2').catch(() => ({})))}${tail('dir1')}${tail('dir2')}`;
  const applied = (d: Director) =>
    log(d)
      .filter((l) => l.event?.name === 'ipvs.applied')
      .map((l) => l.event?.data.ops ?? 0);
  const cli = (args: string[], d: Director = 'dir1') =>
    execa(process.execPath, [LVSD_BIN, ...args, '--socket', lab.socket(d, false)], {
      reject: false,
      timeout: 120_000,
    });
  const reloadWith = async (vs: string) => {
    for (const d of ['dir1', 'dir2'] as const)
      writeFileSync(join(lab.dir, `${d}.conf`), configFor(lab, d, vs));
    for (const d of ['dir1', 'dir2'] as const) {
      const r = await cli(['reload'], d);
      expect(r.exitCode, r.stderr).toBe(0);
    }
  };

  beforeAll(async () => {
    // Each step's time, printed: the emulated CPU's speed varies from host to host.
    const t0 = Date.now();
    const step = (what: string) => {
      console.log(`setup: ${what} after ${Date.now() - t0} ms (VM)`);
    };
    console.log(
      `VM pace ${vmPace().toFixed(2)} (node's start against the reference VM's; waits scaled by it)`,
    );
    lab = await directorLab('vms');
    step('lab built');
    for (const rs of ['rs1', 'rs2'] as const) {
      const p = spawn('ip', ['netns', 'exec', lab.ns[rs], process.execPath, '-e', RS_JS, rs], {
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      servers.set(rs, p);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          reject(new Error(`${rs} did not listen`));
        }, 30_000);
        p.stdout?.once('data', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    step('real servers listen');
    await start('dir1', virtualServer('rr', 1, 1));
    step('dir1 answers');
    expect(await lab.waitHolder('dir1', paced(30_000)), await why()).toBe(true);
    step('dir1 holds VIP and DIP');
    await start('dir2', virtualServer('rr', 1, 1));
    step('dir2 answers');
    expect(await lab.waitState('dir2', 'BACKUP', paced(30_000)), await why()).toBe(true);
    step('dir2 BACKUP');
    for (const d of ['dir1', 'dir2'] as const)
      await waitUntil(
        async () => (await weight(d, RS1)) === 1 && (await weight(d, RS2)) === 1,
        paced(30_000),
        `${d}: both real servers at weight 1 (both tables loaded)`,
        200,
      );
    step('both tables loaded');
    load = new Load(lab.ns.client);
  }, paced(180_000));

  afterAll(async () => {
    load?.stop();
    for (const p of servers.values()) p.kill('SIGKILL');
    await lab?.dispose();
  });

  it(
    'rr spreads evenly; a reload to wrr 3:1 gives 3:1 within 10 %',
    async () => {
      const t0 = Date.now();
      await sleep(4_000);
      const rr = load.since(t0);
      expect(rr.filter((a) => !a.ok)).toEqual([]);
      expect(share(rr, 'rs1')).toBeGreaterThan(0.4);
      expect(share(rr, 'rs1')).toBeLessThan(0.6);
      await reloadWith(virtualServer('wrr', 3, 1));
      await waitUntil(
        async () => (await weight('dir1', RS1)) === 3,
        paced(20_000),
        'rs1 at weight 3',
        200,
      );
      const t1 = Date.now();
      await sleep(8_000);
      const wrr = load.since(t1);
      const r = share(wrr, 'rs1');
      console.log(`wrr 3:1: rs1 got ${(r * 100).toFixed(1)} % of ${wrr.length} requests`);
      expect(Math.abs(r - 0.75)).toBeLessThan(0.075);
      expect(wrr.filter((a) => !a.ok)).toEqual([]);
    },
    paced(90_000),
  );

  it(
    'a reload that changes one weight is exactly one IPVS operation',
    async () => {
      const before = applied('dir1').length;
      await reloadWith(virtualServer('wrr', 3, 2));
      await waitUntil(
        async () => (await weight('dir1', RS2)) === 2,
        paced(20_000),
        'rs2 at weight 2',
        200,
      );
      await sleep(1_000);
      expect(applied('dir1').slice(before)).toEqual([1]);
    },
    paced(90_000),
  );

  it(
    'a failing real server is taken out and returns; no request fails after the bound',
    async () => {
      servers.get('rs2')?.stdin?.write('fail\n');
      const failedAt = Date.now();
      await waitUntil(
        async () => (await weight('dir1', RS2)) === 0,
        DETECT_BOUND_MS,
        'rs2 at weight 0',
        250,
      );
      const detectedAt = Date.now();
      console.log(
        `503 → weight 0 on the real kernel in ${detectedAt - failedAt} ms (VM; bound ${DETECT_BOUND_MS} ms)`,
      );
      await sleep(3_000);
      // Requests started once the weight was 0 (and every one after the bound) all succeed.
      const after = load.since(Math.min(detectedAt + 300, failedAt + DETECT_BOUND_MS));
      expect(after.length).toBeGreaterThan(10);
      expect(after.filter((a) => !a.ok)).toEqual([]);
      servers.get('rs2')?.stdin?.write('ok\n');
      await waitUntil(
        async () => (await weight('dir1', RS2)) === 2,
        DETECT_BOUND_MS,
        'rs2 back at weight 2',
        250,
      );
    },
    paced(60_000),
  );

  it(
    'a drained server takes no new connections while an open one finishes; --wait returns then',
    async () => {
      const stream = new Stream(lab.ns.client);
      try {
        // Open connections until one lands on rs2 (wrr 3:2); drain rs2 with it open.
        let first = '';
        for (let i = 0; i < 20 && !first.startsWith('ok rs2'); i++) {
          if (first !== '') await stream.send('close');
          first = await stream.send('go');
        }
        expect(first).toMatch(/^ok rs2 /);
        const d = await cli(['drain', VS, RS2, '--reason', 'system test']);
        expect(d.exitCode, d.stderr).toBe(0);
        await waitUntil(
          async () => (await weight('dir1', RS2)) === 0,
          paced(10_000),
          'rs2 drained',
          250,
        );
        const t = Date.now() + 500;
        const wait = cli(['drain', VS, RS2, '--wait', '--timeout', '60s']);
        await sleep(3_000);
        expect(load.since(t).filter((a) => a.ok && a.rs === 'rs2')).toEqual([]);
        // The open connection still works, on rs2.
        expect(await stream.send('go')).toBe(first);
        await stream.send('close');
        const w = await wait;
        expect(w.exitCode, w.stderr).toBe(0);
        const u = await cli(['undrain', VS, RS2]);
        expect(u.exitCode, u.stderr).toBe(0);
      } finally {
        stream.stop();
      }
    },
    paced(120_000),
  );

  it(
    'lvsd restarted on the master under load: zero failed requests, zero IPVS operations',
    async () => {
      await waitUntil(
        async () => (await weight('dir1', RS2)) === 2,
        paced(10_000),
        'rs2 back',
        250,
      );
      const t0 = Date.now();
      const offset = log('dir1').length;
      await lab.stop('dir1', 'SIGUSR2');
      await start('dir1', virtualServer('wrr', 3, 2));
      await waitUntil(
        async () =>
          log('dir1')
            .slice(offset)
            .some((l) => l.event?.name === 'ipvs.adopted') &&
          (await lab.states('dir1').catch((): Record<string, string> => ({})))['FRONT'] ===
            'MASTER',
        paced(30_000),
        'dir1 adopted its table and is MASTER again',
        200,
      );
      await sleep(2_000);
      const during = load.since(t0);
      expect(during.length).toBeGreaterThan(20);
      // On failure: both directors' logs, to tell which side answered (ECONNREFUSED: a director
      // with the VIP and no usable service) and when, against the restart's own events.
      expect(
        during.filter((a) => !a.ok),
        `restart at ${t0}; ${await why()}`,
      ).toEqual([]);
      expect(
        log('dir1')
          .slice(offset)
          .filter((l) => l.event?.name === 'ipvs.applied'),
      ).toEqual([]);
      expect(await lab.holders()).toEqual(['dir1']);
    },
    paced(90_000),
  );

  it(
    'the master crashes: the backup serves VIP and DIP, a synced connection goes on',
    async () => {
      const stream = new Stream(lab.ns.client);
      try {
        const first = await stream.send('go');
        const firstAt = Date.now();
        expect(first).toMatch(/^ok rs[12] \d+$/);
        const port = first.split(' ')[2] ?? '';
        await waitUntil(
          async () => (await ipvsadm('dir2', ['-Lnc'])).includes(`198.18.0.100:${port}`),
          paced(20_000),
          'the connection synced to dir2',
          250,
        ).catch(async (err: unknown) => {
          const daemons = async (d: Director) =>
            `${d}: ${(await ipvsadm(d, ['-L', '--daemon'])).trim() || 'no sync daemon'}`;
          throw new Error(
            `${err instanceof Error ? err.message : String(err)} (client port ${port})\n${await daemons('dir1')}\n${await daemons('dir2')}\ndir1 -Lnc:\n${await ipvsadm('dir1', ['-Lnc'])}\n${await why()}`,
          );
        });
        const crashAt = await lab.crash('dir1');
        expect(await lab.waitHolder('dir2', paced(30_000)), await why()).toBe(true);
        expect(
          await stream.send('go'),
          `the same connection (client port ${port}) after ${Date.now() - firstAt} ms idle`,
        ).toBe(first);
        await sleep(2_000);
        const answers = load.since(crashAt - 2_000);
        const lastOk = answers.filter((a) => a.ok && a.t < crashAt).at(-1)?.t ?? crashAt;
        const firstOk = answers.find((a) => a.ok && a.t > crashAt)?.t;
        expect(firstOk).toBeDefined();
        console.log(
          `crash of the master: client outage ${(firstOk ?? 0) - lastOk} ms (VM, advert_int 1)`,
        );
      } finally {
        stream.stop();
      }
    },
    paced(90_000),
  );

  /** The client's longest gap between answered requests in [from, to], in ms. */
  const longestGap = (from: number, to: number) => {
    const ok = load.since(from).filter((a) => a.ok && a.t <= to);
    let gap = 0;
    for (let i = 1; i < ok.length; i++) gap = Math.max(gap, (ok[i]?.t ?? 0) - (ok[i - 1]?.t ?? 0));
    return gap;
  };

  it(
    'the old master returns and takes over again (preempt); a clean stop hands over at once',
    async () => {
      // The crash above is this test's starting point; if that test failed before it, crash
      // dir1 here, so one failure does not fail every test after it.
      if (lab.daemon('dir1')) await lab.crash('dir1');
      await lab.flush('dir1');
      await lab.linksUp('dir1');
      const back = Date.now();
      await start('dir1', virtualServer('wrr', 3, 2));
      expect(await lab.waitHolder('dir1', paced(60_000)), await why()).toBe(true);
      await sleep(2_000);
      console.log(
        `fail-back (preempt): client's longest gap ${longestGap(back, Date.now())} ms (VM)`,
      );
      // The handover is timed from the signal, not from the process's exit (which waits for the
      // sync daemon to be stopped and the VIPs removed: several emulated ipvsadm/ip runs).
      const pid = lab.daemon('dir1')?.pid ?? 0;
      const stopAt = Date.now();
      process.kill(pid, 'SIGTERM');
      expect(await lab.waitHolder('dir2', paced(15_000)), await why()).toBe(true);
      const took = Date.now() - stopAt;
      const exit = await lab.stop('dir1');
      console.log(
        `dir1 exited ${exit?.signal ?? String(exit?.code)} ${Date.now() - stopAt} ms after SIGTERM (VM)${tail('dir1')}`,
      );
      await sleep(2_000);
      console.log(
        `clean stop: VIP+DIP on dir2 after ${took} ms, client's longest gap ${longestGap(stopAt - 1000, Date.now())} ms (VM)`,
      );
      // A priority-0 advert: no master-down wait. Here the bound only says the handover is
      // bounded: "alone" also waits for dir1 to remove its addresses, near its exit, and the
      // emulated CPU delays the signal's handling and each ip/ipvsadm run by seconds under load
      // (measured 1-8.5 s in the VM), so it cannot tell a priority-0 handover from a master-down
      // one (3.6 s at advert_int 1). On the host the handover is < 300 ms: test/integration/failover.
      expect(took).toBeLessThan(paced(15_000));
    },
    paced(120_000),
  );

  it(
    'a director cut off from both segments, then reconnected: one master again',
    async () => {
      // Starts from the clean stop above (or makes it so, if that test failed half-way).
      if (lab.daemon('dir1')) await lab.stop('dir1');
      await lab.linksUp('dir1');
      await start('dir1', virtualServer('wrr', 3, 2));
      expect(await lab.waitHolder('dir1', paced(60_000)), await why()).toBe(true);
      for (const side of ['front', 'back'] as const) await lab.switchPort('dir2', side, false);
      // dir2 hears nobody: it becomes MASTER too (split brain) after its master-down interval
      // (3.6 s; 60 s for the emulated CPU, where dir2's checks all time out meanwhile too).
      expect(await lab.waitState('dir2', 'MASTER', paced(60_000)), await why()).toBe(true);
      for (const side of ['front', 'back'] as const) await lab.switchPort('dir2', side, true);
      expect(await lab.waitHolder('dir1', paced(30_000)), await why()).toBe(true);
      expect(await lab.waitState('dir2', 'BACKUP', paced(30_000)), await why()).toBe(true);
      const t = Date.now();
      await sleep(3_000);
      expect(load.since(t).filter((a) => !a.ok)).toEqual([]);
    },
    paced(240_000),
  );
});
