/**
 * Real-kernel test support: find out whether this kernel has IPVS, and give each test its own
 * network namespace (each has its own IPVS table), so tests never see each other's services.
 */
import { execaSync, execa } from 'execa';

export interface Probe {
  readonly ok: boolean;
  readonly reason: string;
}

/** `ipvsadm -Ln` succeeds: IPVS is there (and we may change it: netns needs root too). */
export function probeIpvs(): Probe {
  const r = execaSync('ipvsadm', ['-Ln'], { reject: false, stdin: 'ignore' });
  if (r.code === 'ENOENT')
    return { ok: false, reason: 'ipvsadm is not installed (apt-get install ipvsadm)' };
  if (r.exitCode !== 0) {
    return {
      ok: false,
      reason: 'no IPVS in this kernel; run via ../shared/ipvs-vm/run -- npx vitest run test/ipvs',
    };
  }
  const ns = execaSync('ip', ['netns', 'list'], { reject: false, stdin: 'ignore' });
  if (ns.exitCode !== 0) return { ok: false, reason: 'cannot use network namespaces (ip netns)' };
  return { ok: true, reason: '' };
}

/** Explains a skip where vitest's output will show it. */
export function announceSkip(suite: string, probe: Probe): void {
  if (!probe.ok) console.log(`[${suite}] skipped: ${probe.reason}`);
}

let counter = 0;

/** A fresh namespace named for this process; `dispose()` removes it (and its IPVS table). */
export async function freshNetns(): Promise<{ name: string; dispose: () => Promise<void> }> {
  counter += 1;
  const name = `lvsd-ipvs-${process.pid}-${counter}`;
  await execa('ip', ['netns', 'add', name]);
  await execa('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return {
    name,
    dispose: async () => {
      await execa('ip', ['netns', 'del', name], { reject: false });
    },
  };
}

/** Runs ipvsadm by hand inside `netns` (drift, raw restores), like an operator would. */
export async function ipvsadmIn(
  netns: string,
  args: readonly string[],
  input?: string,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('ip', ['netns', 'exec', netns, 'ipvsadm', ...args], {
    reject: false,
    stripFinalNewline: false,
    ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}
