/**
 * Network namespaces for tests (root only): namespaces, veth pairs, bridges and addresses,
 * with names unique to this process and test file, and a `dispose()` that removes everything
 * it made (call it from afterAll; it never throws, and is bounded in time).
 *
 * Interfaces are created directly inside their namespaces (`ip link add NAME netns NS type
 * veth peer name PEER netns NS2`), so no interface ever appears in the root namespace and
 * short names like `eth0` are safe. Addresses must be in 198.18.0.0/15 or 2001:db8::/32:
 * anything else is refused before any command runs.
 */
import { execa, execaSync, type ResultPromise } from 'execa';

const TIMEOUT_MS = 10_000;

const SPAWN_OPTIONS = {
  reject: false,
  stdin: 'pipe',
  buffer: false,
  forceKillAfterDelay: 2_000,
} as const;

/** A process started by NetnsLab.spawn (stdin, stdout and stderr piped, not buffered). */
export type LabChild = ResultPromise<typeof SPAWN_OPTIONS>;

export interface NetnsProbe {
  readonly ok: boolean;
  readonly reason: string;
}

/** Root and a working `ip netns`: the integration tests can run. */
export function probeNetns(): NetnsProbe {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root (network namespaces)' };
  const r = execaSync('ip', ['netns', 'list'], { reject: false, stdin: 'ignore', timeout: 5_000 });
  if (r.code === 'ENOENT') return { ok: false, reason: 'iproute2 is not installed' };
  if (r.exitCode !== 0) return { ok: false, reason: `ip netns does not work: ${r.stderr}` };
  return { ok: true, reason: '' };
}

/** Whether a tool is on PATH (`arping`, `perl`, `tc` …). */
export function hasTool(tool: string): boolean {
  const r = execaSync('sh', ['-c', `command -v ${tool}`], { reject: false, stdin: 'ignore' });
  return r.exitCode === 0;
}

/**
 * `probe`, or, when it is ok but a tool is missing, a failed probe that says how to get it.
 * `tools`: each tool on PATH the suite needs, and its install hint (checked in order).
 */
export function needTools(probe: NetnsProbe, tools: Record<string, string>): NetnsProbe {
  if (!probe.ok) return probe;
  for (const [tool, hint] of Object.entries(tools))
    if (!hasTool(tool)) return { ok: false, reason: `${tool} is not installed (${hint})` };
  return probe;
}

function ipv4Ok(a: string): boolean {
  const m = /^198\.(18|19)\.(\d{1,3})\.(\d{1,3})(\/\d{1,2})?$/.exec(a);
  return m !== null && Number(m[2]) <= 255 && Number(m[3]) <= 255;
}

/** Only 198.18.0.0/15 and 2001:db8::/32 (with an optional /LEN). */
export function assertLabAddress(cidr: string): void {
  const ok = cidr.includes(':') ? /^2001:0?db8:/i.test(cidr) : ipv4Ok(cidr);
  if (!ok) throw new Error(`test address ${cidr} is outside 198.18.0.0/15 and 2001:db8::/32`);
}

let labCounter = 0;

export interface VethEnd {
  readonly ns: string;
  readonly ifname: string;
  readonly mac?: string;
  /** A bridge (in the same namespace) to enslave this end to. */
  readonly master?: string;
}

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class NetnsLab {
  readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<LabChild>();

  constructor(tag = 't') {
    labCounter += 1;
    this.prefix = `lvsd-${tag}-${process.pid}-${labCounter}`;
  }

  /** Creates namespace PREFIX-name with lo up (IPv6 stays on); returns its full name. */
  async ns(name: string): Promise<string> {
    const full = `${this.prefix}-${name}`;
    await this.run('ip', ['netns', 'add', full]);
    this.namespaces.push(full);
    await this.run('ip', ['-n', full, 'link', 'set', 'lo', 'up']);
    return full;
  }

  /** A bridge in `ns`, up; multicast snooping off (flood all multicast) unless told. */
  async bridge(ns: string, name: string, snooping = false): Promise<void> {
    await this.run('ip', [
      '-n',
      ns,
      'link',
      'add',
      name,
      'type',
      'bridge',
      'mcast_snooping',
      snooping ? '1' : '0',
    ]);
    await this.run('ip', ['-n', ns, 'link', 'set', name, 'up']);
  }

  /** A veth pair between two namespaces (or within one), both ends up. */
  async veth(a: VethEnd, b: VethEnd): Promise<void> {
    const args = ['link', 'add', a.ifname, 'netns', a.ns];
    if (a.mac !== undefined) args.push('address', a.mac);
    args.push('type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns);
    if (b.mac !== undefined) args.push('address', b.mac);
    await this.run('ip', args);
    for (const end of [a, b]) {
      if (end.master !== undefined) {
        await this.run('ip', ['-n', end.ns, 'link', 'set', end.ifname, 'master', end.master]);
      }
      await this.run('ip', ['-n', end.ns, 'link', 'set', end.ifname, 'up']);
    }
  }

  /** `ip addr add CIDR dev DEV` (IPv6 with nodad so it is usable at once). */
  async addr(ns: string, dev: string, cidr: string): Promise<void> {
    assertLabAddress(cidr);
    const extra = cidr.includes(':') ? ['nodad'] : [];
    await this.run('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', dev, ...extra]);
  }

  /** Runs a command inside `ns`; rejects on a non-zero exit unless `allowFail`. */
  async exec(
    ns: string,
    cmd: string,
    args: readonly string[],
    allowFail = false,
  ): Promise<CommandResult> {
    return this.run('ip', ['netns', 'exec', ns, cmd, ...args], allowFail);
  }

  /** Writes a sysctl inside `ns`. */
  async sysctl(ns: string, key: string, value: string): Promise<void> {
    await this.exec(ns, 'sysctl', ['-qw', `${key}=${value}`]);
  }

  /**
   * Starts a long-running process inside `ns` (stdin/stdout piped); it is killed by dispose().
   */
  spawn(ns: string, cmd: string, args: readonly string[]): LabChild {
    const child = execa('ip', ['netns', 'exec', ns, cmd, ...args], SPAWN_OPTIONS);
    this.children.add(child);
    void child.finally(() => this.children.delete(child));
    return child;
  }

  /** Kills what spawn() started and deletes every namespace this lab made. Never throws. */
  async dispose(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    await Promise.allSettled([...this.children]);
    for (const ns of this.namespaces.splice(0).reverse()) {
      // Anything still running inside (a tool a test started by hand) is ended by PID first.
      const pids = await execa('ip', ['netns', 'pids', ns], { reject: false, timeout: 5_000 });
      for (const pid of (typeof pids.stdout === 'string' ? pids.stdout : '')
        .split('\n')
        .map((p) => Number(p.trim()))
        .filter((p) => Number.isInteger(p) && p > 1)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await execa('ip', ['netns', 'del', ns], { reject: false, timeout: 5_000 });
    }
  }

  private async run(
    cmd: string,
    args: readonly string[],
    allowFail = false,
  ): Promise<CommandResult> {
    const r = await execa(cmd, args, {
      reject: false,
      timeout: TIMEOUT_MS,
      stdin: 'ignore',
      env: { LC_ALL: 'C' },
    });
    const out = {
      exitCode: r.exitCode ?? -1,
      stdout: typeof r.stdout === 'string' ? r.stdout : '',
      stderr: typeof r.stderr === 'string' ? r.stderr : '',
    };
    if (out.exitCode !== 0 && !allowFail) {
      throw new Error(`${cmd} ${args.join(' ')} → exit ${out.exitCode}: ${out.stderr.trim()}`);
    }
    return out;
  }
}

/** Polls `check` every `stepMs` until it returns a value or `timeoutMs` passes (then undefined). */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  stepMs = 50,
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; i < 10_000; i++) {
    const v = await check();
    if (v !== undefined) return v;
    if (performance.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return undefined;
}
