/**
 * The installed .deb gives a working pair (issue 9, "a newcomer installs the .deb on two
 * directors' worth of namespaces and gets a working pair"). Everything the directors run comes
 * from the installed files: the program is /usr/bin/lvsd started with the installed unit's
 * ExecStart line, the configs are the installed LVS-NAT samples (/etc/lvsd/lvs-nat/*.conf), the
 * status is read with the installed CLI.
 *
 * Runs only with LVSD_INSTALLED=1 (packaging/ci-check.sh sets it while the package is
 * installed, before the purge); then a missing package or namespace support is a failure, not a
 * skip. Root only (network namespaces: test/helpers/director-lab.ts, prefix "lvsd-lvdi-").
 *
 * How the samples are fitted to the lab, and nothing else is changed:
 * - interfaces: none; the samples' eth0 (outside) and eth1 (inside) are the lab's.
 * - addresses, one pass over every 198.18.x.y: the samples' primary .0.2/.1.2 become dir1's
 *   .0.1/.1.1, the backup's .0.3/.1.3 dir2's .0.2/.1.2, and the DIP 198.18.1.1 the lab's
 *   198.18.1.254 (the lab gives .1.1 to dir1). VIP and real servers are the same.
 * - key_file /etc/lvsd/vrrp.key: the lab's key (the samples say to make that file; the package
 *   does not ship it, and the purge check wants /etc/lvsd gone).
 * - LVSD_OPTIONS (the unit's /etc/default/lvsd hook): the IPVS driver (ipvsadm where the kernel
 *   has IPVS in the namespace, else memory), and the sockets and state folder in the lab's
 *   scratch folder instead of /run/lvsd and /var/lib/lvsd (two directors on one host).
 * The real servers run a small HTTP server answering the samples' HTTP_GET /health checks.
 */
import { execa } from 'execa';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIP,
  IP,
  MAC,
  VIP,
  directorLab,
  type Director,
  type DirectorLab,
} from '../../helpers/director-lab.js';
import { probeNetns } from '../../helpers/netns.js';

const enabled = process.env.LVSD_INSTALLED === '1';
const BIN = '/usr/bin/lvsd';
const SAMPLES = '/etc/lvsd/lvs-nat';
const UNIT = ['/lib/systemd/system/lvsd.service', '/usr/lib/systemd/system/lvsd.service'];
const SAMPLE_OF: Record<Director, 'primary' | 'backup'> = { dir1: 'primary', dir2: 'backup' };

/** The samples' addresses → the lab's (see the header). Others stay as they are. */
const ADDRESS_MAP: Readonly<Record<string, string>> = {
  '198.18.0.2': IP.dir1.front,
  '198.18.1.2': IP.dir1.back,
  '198.18.0.3': IP.dir2.front,
  '198.18.1.3': IP.dir2.back,
  '198.18.1.1': DIP,
};
const LAB_ADDRESSES = new Set<string>([
  VIP,
  DIP,
  IP.client,
  IP.rs1,
  IP.rs2,
  IP.dir1.front,
  IP.dir1.back,
  IP.dir2.front,
  IP.dir2.back,
]);

/** One installed sample fitted to the lab; throws if it names an address the lab lacks. */
function adapt(text: string, keyFile: string): string {
  const out = text
    .replace(/\b198\.18\.\d{1,3}\.\d{1,3}\b/g, (a) => ADDRESS_MAP[a] ?? a)
    .replaceAll('/etc/lvsd/vrrp.key', keyFile);
  // The settings only: the comments also name networks (198.18.0.0/24) and the diagram.
  const settings = out.replace(/[!#].*$/gm, '');
  for (const a of settings.match(/\b198\.18\.\d{1,3}\.\d{1,3}\b/g) ?? [])
    if (!LAB_ADDRESSES.has(a)) throw new Error(`sample address ${a} has no place in the lab`);
  return out;
}

/**
 * The installed unit's ExecStart as an argv, with ${LVSD_CONFIG} = the config file and
 * $LVSD_OPTIONS split into words (systemd's rule for an unbraced variable). Any other variable,
 * or a quote, would need more of systemd's syntax than this: refused.
 */
function execStart(unitText: string, config: string, options: readonly string[]): string[] {
  const line = /^ExecStart=(.+)$/m.exec(unitText)?.[1];
  if (line === undefined) throw new Error('the unit has no ExecStart');
  return line
    .trim()
    .split(/\s+/)
    .flatMap((w) => {
      if (w === '${LVSD_CONFIG}') return [config];
      if (w === '$LVSD_OPTIONS') return [...options];
      if (/[$"'\\]/.test(w)) throw new Error(`ExecStart word ${w}: not understood here`);
      return [w];
    });
}

const HTTP_JS = `'use strict';
const http = require('node:http');
const [name, addr] = process.argv.slice(2);
http.createServer((q, r) => { r.end(q.url === '/health' ? 'ok ' + name : name); }).listen(80, addr);
process.on('SIGTERM', () => process.exit(0));
`;

const probe = probeNetns();

describe.skipIf(!enabled)(
  `the installed package runs a working pair ${enabled ? '' : '(skipped: set LVSD_INSTALLED=1 with the package installed; packaging/ci-check.sh does)'}`,
  { timeout: 30_000 },
  () => {
    let lab: DirectorLab | undefined;
    let unitText = '';
    let driver: 'ipvsadm' | 'memory' = 'memory';
    const L = (): DirectorLab => {
      if (lab === undefined) throw new Error('lab not built');
      return lab;
    };
    const configFile = (d: Director): string => join(L().dir, `${d}.conf`);
    const command =
      (d: Director) =>
      (file: string): string[] =>
        execStart(unitText, file, [
          '--ipvs',
          driver,
          '--socket',
          L().socket(d, false),
          '--ro-socket',
          L().socket(d),
          '--state-dir',
          join(L().dir, `state-${d}`),
        ]);
    const status = async (d: Director, json = false): Promise<string> => {
      const r = await execa(
        BIN,
        ['status', ...(json ? ['--json'] : []), '--socket', L().socket(d)],
        {
          reject: false,
          timeout: 10_000,
          cwd: '/',
          stdin: 'ignore',
        },
      );
      if (r.exitCode !== 0)
        throw new Error(`${BIN} status (${d}) exit ${String(r.exitCode)}: ${r.stderr}`);
      return r.stdout;
    };

    beforeAll(async () => {
      if (!probe.ok) throw new Error(`network namespaces: ${probe.reason}`);
      // The package, not a checkout: /usr/bin/lvsd is dpkg's and points into /usr/lib/lvsd.
      const owner = await execa('dpkg', ['-S', BIN], { reject: false, stdin: 'ignore' });
      if (owner.exitCode !== 0 || !owner.stdout.startsWith('lvsd:'))
        throw new Error(`${BIN} is not installed by the lvsd package: ${owner.stderr}`);
      expect(realpathSync(BIN)).toBe('/usr/lib/lvsd/bin/lvsd.js');
      const unit = UNIT.find((u) => existsSync(u));
      if (unit === undefined) throw new Error(`no installed unit (${UNIT.join(', ')})`);
      unitText = readFileSync(unit, 'utf8');
      lab = await directorLab('lvdi', { lvsd: BIN });
      // ipvsadm where a namespace sees the kernel's IPVS; this host's kernel may have none.
      const ipvs = await L().net.exec(L().ns.dir1, 'sh', ['-c', 'test -e /proc/net/ip_vs'], true);
      driver = ipvs.exitCode === 0 ? 'ipvsadm' : 'memory';
      L().file('http.js', HTTP_JS);
      for (const rs of ['rs1', 'rs2'] as const)
        void L().net.spawn(L().ns[rs], process.execPath, [join(L().dir, 'http.js'), rs, IP[rs]]);
      for (const d of ['dir1', 'dir2'] as const) {
        const s = SAMPLE_OF[d];
        L().file(
          `keepalived-${s}.conf`,
          adapt(readFileSync(join(SAMPLES, `keepalived-${s}.conf`), 'utf8'), L().keyFile),
        );
        L().file(`${d}.conf`, adapt(readFileSync(join(SAMPLES, `${s}.conf`), 'utf8'), L().keyFile));
      }
      await L().startTraffic();
    }, 60_000);
    afterAll(async () => {
      await lab?.dispose(process.env.LVSD_KEEP_LAB === '1');
    });

    it("the unit's ExecStart is the command line this test runs", () => {
      const argv = command('dir1')('/x.conf');
      expect(argv.slice(0, 4)).toEqual([BIN, 'run', '-f', '/x.conf']);
      expect(argv).toContain('--ipvs');
    });

    it("ExecStartPre's check-config accepts both fitted samples inside the directors", async () => {
      for (const d of ['dir1', 'dir2'] as const) {
        const r = await L().net.exec(
          L().ns[d],
          BIN,
          ['check-config', '--quiet', '-f', configFile(d)],
          true,
        );
        // The unit refuses to start on 4 only; the samples are clean: 0.
        expect(r.exitCode, `${d}: ${r.stdout}${r.stderr}`).toBe(0);
      }
    });

    it('the pair: one MASTER with VIP and DIP, the other BACKUP, the client reaches the VIP; lvsd status on each', async () => {
      await L().reset();
      const text = (d: Director): string => readFileSync(configFile(d), 'utf8');
      await L().startDaemon('dir1', text('dir1'), { command: command('dir1') });
      expect(await L().waitHolder('dir1', 10_000), await L().describe()).toBe(true);
      await L().startDaemon('dir2', text('dir2'), { command: command('dir2') });
      expect(await L().waitState('dir2', 'BACKUP', 10_000), await L().describe()).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      expect(await L().holders(VIP)).toEqual(['dir1']);
      expect(await L().holders(DIP)).toEqual(['dir1']);
      expect(await L().states('dir1')).toEqual({ VI_OUTSIDE: 'MASTER', VI_INSIDE: 'MASTER' });
      expect(await L().states('dir2')).toEqual({ VI_OUTSIDE: 'BACKUP', VI_INSIDE: 'BACKUP' });
      expect(await L().reaches(3_000), await L().describe()).toBe('dir1');
      expect(await L().clientNeighbour()).toBe(MAC.dir1.front);
      const s1 = await status('dir1');
      const s2 = await status('dir2');
      console.log(`lvsd status (dir1, installed CLI, --ipvs ${driver}):\n${s1}`);
      expect(s1).toMatch(/VI_OUTSIDE\b.*\bMASTER\b/);
      expect(s2).toMatch(/VI_OUTSIDE\b.*\bBACKUP\b/);
      // Both directors check the real servers (the samples' HTTP_GET /health): up, full weight.
      for (const s of [s1, s2])
        for (const rs of [IP.rs1, IP.rs2])
          expect(s).toMatch(new RegExp(`${rs.replaceAll('.', '\\.')}:80\\s+1/1\\s+up\\b`));
    });

    it('crash of the master (frozen, links down, SIGKILL): the backup takes VIP and DIP, the client follows', async () => {
      expect(await L().holders(VIP)).toEqual(['dir1']);
      const t = await L().crash('dir1');
      expect(await L().waitHolder('dir2', 5_000), await L().describe()).toBe(true);
      const took = Date.now() - t;
      expect(await L().reaches(3_000), await L().describe()).toBe('dir2');
      expect(await L().clientNeighbour()).toBe(MAC.dir2.front);
      const s2 = await status('dir2');
      expect(s2).toMatch(/VI_OUTSIDE\b.*\bMASTER\b/);
      expect(s2).toMatch(/VI_INSIDE\b.*\bMASTER\b/);
      expect(L().lastExit('dir1')).toEqual({ code: null, signal: 'SIGKILL' });
      console.log(
        `installed pair, crash of dir1: VIP+DIP on dir2 after ${took} ms, client outage ${L().outage(t, 'dir1', 'dir2')?.toFixed(0) ?? '?'} ms`,
      );
    });
  },
);
