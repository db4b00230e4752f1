/**
 * The real Announcer. IPv4: `arping -q -U -c 1 -I DEV -s VIP VIP` from iputils-arping, one
 * process per address, started together — a gratuitous ARP *request* "who-has VIP tell VIP" to
 * the broadcast address, the packet keepalived sends. (`-A`, an ARP reply, updates a Linux
 * neighbour's existing entry just as well — both checked in test/integration/vrrp — and is
 * available as `mode: 'reply'` for gear that only listens to replies.) Neither form creates an
 * entry on a peer with `arp_accept=0`: only an entry that exists is updated, which is the case
 * for every client talking to the VIP.
 *
 * iputils arping sends its packet at once but then waits one interval (1 s; `-i`/`-w` take
 * whole seconds only, and `-i 0` with `-c` > 1 never ends), so a round resolves about 1 s after
 * its packets left; rounds of a burst therefore run as concurrent processes, not `-c N`.
 *
 * IPv6: one `perl -e NA_SCRIPT DEV ADDR...` per round (see ndisc-na.ts for why).
 */
import { familyOf } from './vip.js';
import { NA_SCRIPT } from './ndisc-na.js';
import { runTool, tail, type ToolOptions } from './run.js';
import type { AnnounceTarget, Announcer, RoundResult } from './garp.js';

export interface ArpingAnnouncerOptions extends ToolOptions {
  /** `request` (default): `arping -U`, as keepalived; `reply`: `arping -A`. */
  readonly mode?: 'request' | 'reply';
  readonly arpingPath?: string;
  readonly perlPath?: string;
}

export class ArpingAnnouncer implements Announcer {
  constructor(private readonly options: ArpingAnnouncerOptions = {}) {}

  /** The argv of one gratuitous ARP (without the netns prefix). */
  arpingArgs(dev: string, address: string): string[] {
    const flag = this.options.mode === 'reply' ? '-A' : '-U';
    return ['-q', flag, '-c', '1', '-I', dev, '-s', address, address];
  }

  async announce(target: AnnounceTarget): Promise<RoundResult> {
    const v4 = target.addresses.filter((a) => familyOf(a) === 4);
    const v6 = target.addresses.filter((a) => familyOf(a) === 6);
    const bad = target.addresses.filter((a) => familyOf(a) === undefined);
    const sent: string[] = [];
    const failed: { address: string; reason: string }[] = bad.map((address) => ({
      address,
      reason: 'not an IPv4 or IPv6 address',
    }));
    const tool: ToolOptions = { timeoutMs: 5_000, ...this.options };
    const jobs: Promise<void>[] = v4.map(async (address) => {
      try {
        const out = await runTool(
          tool,
          this.options.arpingPath ?? 'arping',
          this.arpingArgs(target.dev, address),
        );
        if (out.exitCode === 0) sent.push(address);
        else failed.push({ address, reason: tail(out.stderr) || `exit ${out.exitCode}` });
      } catch (e) {
        failed.push({ address, reason: e instanceof Error ? e.message : String(e) });
      }
    });
    if (v6.length > 0) {
      jobs.push(
        (async () => {
          try {
            const out = await runTool(tool, this.options.perlPath ?? 'perl', [
              '-e',
              NA_SCRIPT,
              target.dev,
              ...v6,
            ]);
            const problems = new Map<string, string>();
            for (const line of out.stdout.split('\n')) {
              const m = /^(\S+): (.*)$/.exec(line);
              if (m?.[1] !== undefined && m[2] !== undefined) problems.set(m[1], m[2]);
            }
            for (const address of v6) {
              const p = problems.get(address);
              // exit 1 with per-address lines: the others went out; without any (the script
              // died, e.g. no such interface) none did.
              if (out.exitCode === 0 || (problems.size > 0 && p === undefined)) sent.push(address);
              else
                failed.push({
                  address,
                  reason: p ?? (tail(out.stderr) || `exit ${out.exitCode}`),
                });
            }
          } catch (e) {
            for (const address of v6)
              failed.push({ address, reason: e instanceof Error ? e.message : String(e) });
          }
        })(),
      );
    }
    await Promise.all(jobs);
    return { dev: target.dev, sent, failed };
  }
}
