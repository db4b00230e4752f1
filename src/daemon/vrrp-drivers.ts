/** The real VRRP drivers for `lvsd run`: ip, arping, UDP, sysfs, ipvsadm, key files, scripts. */
import type { Config } from '../config/index.js';
import { probeMisc, type ScriptRun } from '../health/checkers/misc.js';
import { ArpingAnnouncer } from '../vrrp/drivers/garp-arping.js';
import { readKeyFile } from '../vrrp/drivers/key-file.js';
import { SystemLinks } from '../vrrp/drivers/links.js';
import { IpvsadmSyncDaemon } from '../vrrp/drivers/sync-daemon.js';
import { MemorySyncDaemon } from '../vrrp/drivers/sync-daemon-memory.js';
import { readSysctl } from '../vrrp/drivers/sysctl.js';
import { UdpTransport } from '../vrrp/drivers/transport-udp.js';
import { IprouteVipDriver } from '../vrrp/drivers/vip-iproute.js';
import { MemoryVipDriver } from '../vrrp/drivers/vip-memory.js';
import type { VrrpDrivers } from './vrrp-service.js';

export interface SystemDriverChoice {
  /** `ip`: addresses on the host's interfaces; `memory`: only in lvsd (demo, tests). */
  readonly addresses: 'ip' | 'memory';
  /** The IPVS driver's name: the sync daemon goes through ipvsadm only with a real table. */
  readonly ipvs: string;
  /** For `addresses: memory`: the configuration, whose interfaces the twin then has. */
  readonly config?: Config | undefined;
  /** How vrrp_scripts start (the daemon's spawner); default: by this process. */
  readonly runScript?: ScriptRun;
}

export function systemVrrpDrivers(choice: SystemDriverChoice): VrrpDrivers {
  const devs = new Set<string>();
  for (const i of choice.config?.vrrpInstances ?? []) {
    if (i.interface !== undefined) devs.add(i.interface);
    for (const a of [...i.virtualAddresses, ...i.excludedAddresses]) devs.add(a.dev);
  }
  const run = choice.runScript ?? probeMisc;
  return {
    vips: choice.addresses === 'memory' ? new MemoryVipDriver([...devs]) : new IprouteVipDriver(),
    announcer:
      choice.addresses === 'memory'
        ? { announce: (t) => Promise.resolve({ dev: t.dev, sent: [...t.addresses], failed: [] }) }
        : new ArpingAnnouncer(),
    links: new SystemLinks(),
    openTransport: (o) => UdpTransport.open(o),
    readKey: readKeyFile,
    runScript: async (s, scriptSecurity) => {
      const r = await run({
        argv: s.script.argv,
        timeoutMs: s.timeoutMs,
        dynamic: false,
        user: s.script.user,
        ...(s.script.group === undefined ? {} : { group: s.script.group }),
        scriptSecurity,
      });
      return { ok: r.ok, detail: r.reason };
    },
    syncDaemon: choice.ipvs === 'ipvsadm' ? new IpvsadmSyncDaemon() : new MemorySyncDaemon(),
    ipForward: () => readSysctl('net.ipv4.ip_forward'),
  };
}
