/**
 * Support for the end-to-end daemon test on a real IPVS kernel (daemon-e2e.test.ts): the built
 * CLI run as a real process inside a network namespace, HTTP real servers in a child process in
 * the same namespace (so lvsd's checks reach them on that namespace's loopback), a PATH shim
 * that records every ipvsadm command lvsd runs, and bounded waits.
 *
 * Every process started here is tracked by PID and ended by PID; nothing is killed by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { execaSync } from 'execa';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(REPO, 'bin', 'lvsd.js');
export const BUNDLE = join(REPO, 'dist', 'lvsd.mjs');

/** Why the built CLI cannot be run, or undefined when it can. */
export function missingBuild(): string | undefined {
  if (!existsSync(BUNDLE)) {
    return `${BUNDLE} is missing: build on the host first (cd ${REPO} && npm run build), then run the VM`;
  }
  return undefined;
}

/** Polls `cond` every `everyMs` until it holds; returns the elapsed ms, or throws after `ms`. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
  everyMs = 100,
): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - t0;
    if (performance.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves with the exit (code, signal) of `child`, or `undefined` after `ms`. */
function exitWithin(
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return Promise.race([exited, sleep(ms).then(() => undefined)]);
}

function watchExit(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((r) => {
    child.once('exit', (code, signal) => {
      r({ code, signal });
    });
  });
}

/** `ip netns exec NS ARGV...` (the command replaces `ip`: the PID is the command's). */
function inNetns(netns: string | undefined, argv: readonly string[]): [string, string[]] {
  if (netns === undefined) return [argv[0] ?? '', argv.slice(1)];
  return ['ip', ['netns', 'exec', netns, ...argv]];
}

// ---------------------------------------------------------------------------------------------
// Real servers

/**
 * The backends' child process: N HTTP servers on 127.0.0.1 (ephemeral ports), each answering
 * every request with its current status (200 by default) and `connection: close`. Commands are
 * JSON lines on stdin, each answered by one JSON line: {op:'status',port,code} sets a status,
 * {op:'count',port} reads how many requests a port served. Closing stdin ends the process.
 */
const BACKENDS_SCRIPT = `
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
const n = Number(process.env.LVSD_E2E_BACKENDS);
const byPort = new Map();
for (let i = 0; i < n; i++) {
  const st = { status: 200, count: 0 };
  const server = createServer((req, res) => {
    st.count++;
    res.writeHead(st.status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(st.status === 200 ? 'ok\\n' : 'unavailable\\n');
  });
  await new Promise((ok, fail) => { server.once('error', fail); server.listen(0, '127.0.0.1', ok); });
  byPort.set(server.address().port, st);
}
process.stdout.write(JSON.stringify({ ready: [...byPort.keys()] }) + '\\n');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const m = JSON.parse(line);
  const st = byPort.get(m.port);
  if (!st) { process.stdout.write(JSON.stringify({ id: m.id, error: 'no such port' }) + '\\n'); return; }
  if (m.op === 'status') st.status = m.code;
  process.stdout.write(JSON.stringify({ id: m.id, status: st.status, count: st.count }) + '\\n');
});
rl.on('close', () => process.exit(0));
`;

export interface Backends {
  readonly pid: number;
  readonly ports: readonly number[];
  /** Returns once the child has switched: the next request gets `code`. */
  setStatus(port: number, code: number): Promise<void>;
  requests(port: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startBackends(netns: string | undefined, count: number): Promise<Backends> {
  const [file, args] = inNetns(netns, [
    process.execPath,
    '--input-type=module',
    '-e',
    BACKENDS_SCRIPT,
  ]);
  const child = spawn(file, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LVSD_E2E_BACKENDS: String(count) },
  });
  const exited = watchExit(child);
  let stopping = false;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const waiting = new Map<number, (m: { status: number; count: number }) => void>();
  let onReady: ((ports: number[]) => void) | undefined;
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  rl.on('line', (line) => {
    const m = JSON.parse(line) as {
      ready?: number[];
      id?: number;
      status: number;
      count: number;
    };
    if (m.ready) onReady?.(m.ready);
    else if (m.id !== undefined) {
      waiting.get(m.id)?.(m);
      waiting.delete(m.id);
    }
  });
  // The timer is cleared once listening: a losing race branch still runs, and this one kills.
  let timer: NodeJS.Timeout | undefined;
  const ports = await Promise.race([
    new Promise<number[]>((r) => (onReady = r)),
    exited.then(({ code }) => {
      throw new Error(`the backends process exited (${code}) before listening: ${stderr}`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the backends process did not listen within 30 s: ${stderr}`));
      }, 30_000);
    }),
  ]).finally(() => {
    clearTimeout(timer);
  });
  void exited.then(({ code, signal }) => {
    if (!stopping) {
      console.log(`[e2e] the backends process ended unexpectedly (${code ?? signal}): ${stderr}`);
    }
  });
  let next = 0;
  const ask = async (msg: object): Promise<{ status: number; count: number }> => {
    const id = ++next;
    const reply = new Promise<{ status: number; count: number }>((r) => waiting.set(id, r));
    child.stdin?.write(`${JSON.stringify({ ...msg, id })}\n`);
    const r = await Promise.race([reply, sleep(10_000).then(() => undefined)]);
    if (r === undefined)
      throw new Error(`the backends process did not answer ${JSON.stringify(msg)}`);
    return r;
  };
  const pid = child.pid ?? -1;
  return {
    pid,
    ports,
    setStatus: async (port, code) => {
      await ask({ op: 'status', port, code });
    },
    requests: async (port) => (await ask({ op: 'count', port })).count,
    stop: async () => {
      stopping = true;
      child.stdin?.end();
      if ((await exitWithin(child, exited, 5000)) === undefined) {
        child.kill('SIGKILL');
        await exitWithin(child, exited, 5000);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// ipvsadm shim: records what lvsd asks of ipvsadm, then runs the real one

export interface IpvsadmShim {
  /** Folder to put first in lvsd's PATH. */
  readonly dir: string;
  /** The recorded commands: one `ipvsadm ARGS` line each; `-R` lines are followed by the
   *  batch, each batch line indented by two spaces. */
  log(): string[];
  /** Recorded commands that change the table (anything but -S/-L reads), with their batches. */
  changes(): string[];
  /** ipvsadm calls begun and ended so far (a call killed midway never ends). */
  calls(): { begun: number; ended: number };
  /** From now on every call sleeps `seconds` before it runs (0: no delay). */
  setDelay(seconds: number): void;
}

export function ipvsadmShim(dir: string): IpvsadmShim {
  const real = execaSync('bash', ['-c', 'command -v ipvsadm'], { reject: false }).stdout.trim();
  if (real === '') throw new Error('ipvsadm is not in PATH');
  const logFile = join(dir, 'ipvsadm-calls.log');
  const flightFile = join(dir, 'ipvsadm-inflight.log');
  const delayFile = join(dir, 'ipvsadm-delay');
  writeFileSync(logFile, '');
  writeFileSync(flightFile, '');
  writeFileSync(delayFile, '0');
  const shim = join(dir, 'ipvsadm');
  writeFileSync(
    shim,
    `#!/bin/bash
# Test shim: log the command (and a -R batch), run the real ipvsadm, log its end.
log=${JSON.stringify(logFile)}
flight=${JSON.stringify(flightFile)}
echo "begin $$" >> "$flight"
delay=$(cat ${JSON.stringify(delayFile)} 2>/dev/null)
[ "\${delay:-0}" != 0 ] && sleep "$delay"
if [ "$1" = "-R" ]; then
  batch=$(cat)
  { printf 'ipvsadm %s\n' "$*"; printf '%s\n' "$batch" | sed 's/^/  /'; } >> "$log"
  # A here-string, not \`printf | ipvsadm\` with exec: exec in a pipeline runs in a subshell.
  ${JSON.stringify(real)} "$@" <<<"$batch"
else
  printf 'ipvsadm %s\n' "$*" >> "$log"
  ${JSON.stringify(real)} "$@"
fi
rc=$?
echo "end $$" >> "$flight"
exit $rc
`,
  );
  chmodSync(shim, 0o755);
  const log = (): string[] =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  return {
    dir,
    log,
    changes: () => {
      const out: string[] = [];
      let inBatch = false;
      for (const l of log()) {
        if (l.startsWith('  ')) {
          if (inBatch) out.push(l);
          continue;
        }
        inBatch = !/^ipvsadm -[SL]/.test(l);
        if (inBatch) out.push(l);
      }
      return out;
    },
    calls: () => {
      const lines = readFileSync(flightFile, 'utf8').split('\n');
      return {
        begun: lines.filter((l) => l.startsWith('begin ')).length,
        ended: lines.filter((l) => l.startsWith('end ')).length,
      };
    },
    setDelay: (seconds) => {
      writeFileSync(delayFile, String(seconds));
    },
  };
}

/**
 * Waits for a quiet moment of lvsd's ipvsadm use: a call has just ended and none is running.
 * lvsd's next table read is then most of a drift period (5 s) away, so a signal sent right
 * after this lands while lvsd has no ipvsadm child (the opposite case is tested on its own).
 */
export async function quietMoment(shim: IpvsadmShim, ms: number): Promise<void> {
  const { ended } = shim.calls();
  await waitUntil(
    () => {
      const c = shim.calls();
      return c.ended > ended && c.begun === c.ended;
    },
    ms,
    'a moment with no ipvsadm call in flight',
    20,
  );
}

// ---------------------------------------------------------------------------------------------
// lvsd, the real CLI process

export interface LogLine {
  readonly level?: string;
  readonly time?: string;
  readonly msg?: string;
  readonly event?: {
    readonly name: string;
    readonly seq: number;
    readonly subject: string;
    readonly data: Record<string, unknown>;
  };
  /** Host time (performance.now()) when the test read the line. */
  readonly seenAt: number;
  readonly raw: string;
}

export interface Lvsd {
  readonly pid: number;
  readonly lines: LogLine[];
  stderr(): string;
  events(name: string): LogLine[];
  /** The first line (from the start, or from index `from`) that matches, within `ms`. */
  waitFor(pred: (l: LogLine) => boolean, ms: number, what: string, from?: number): Promise<LogLine>;
  /** Sends `signal` (by PID) and waits for the exit; SIGKILL after `ms`. */
  stop(
    signal?: NodeJS.Signals,
    ms?: number,
  ): Promise<{ code: number | null; signal: string | null }>;
  running(): boolean;
  /** The last log lines and stderr, for failure messages. */
  dump(): string;
}

let runHelp: string | undefined;

/** `--socket`/`--state-dir` under `dir` when this build of `lvsd run` has them, so a test's
 *  lvsd never meets another lvsd's control socket (/run/lvsd) or admin state (/var/lib/lvsd). */
export function isolationArgs(dir: string): string[] {
  runHelp ??= execaSync(process.execPath, [CLI, 'run', '--help'], { reject: false }).stdout;
  const args: string[] = [];
  if (runHelp.includes('--socket')) args.push('--socket', join(dir, 'lvsd.sock'));
  if (runHelp.includes('--state-dir')) args.push('--state-dir', join(dir, 'state'));
  return args;
}

export function startLvsd(opts: {
  readonly netns?: string;
  readonly conf: string;
  readonly pathPrefix?: string;
  /** Folder for the control sockets and admin state (see isolationArgs). */
  readonly runDir?: string;
  readonly extraArgs?: readonly string[];
}): Lvsd {
  const [file, args] = inNetns(opts.netns, [
    process.execPath,
    CLI,
    'run',
    '-f',
    opts.conf,
    '--ipvs',
    'ipvsadm',
    ...(opts.runDir === undefined ? [] : isolationArgs(opts.runDir)),
    ...(opts.extraArgs ?? []),
  ]);
  const env = { ...process.env };
  if (opts.pathPrefix !== undefined) env['PATH'] = `${opts.pathPrefix}:${env['PATH'] ?? ''}`;
  const child = spawn(file, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env });
  const exited = watchExit(child);
  const lines: LogLine[] = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  rl.on('line', (raw) => {
    let parsed: Omit<LogLine, 'seenAt' | 'raw'> = {};
    try {
      parsed = JSON.parse(raw) as Omit<LogLine, 'seenAt' | 'raw'>;
    } catch {
      // not JSON: kept as raw text
    }
    lines.push({ ...parsed, seenAt: performance.now(), raw });
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const dump = (): string =>
    `\n--- lvsd stdout (last 20 lines) ---\n${lines
      .slice(-20)
      .map((l) => l.raw)
      .join('\n')}\n--- lvsd stderr ---\n${stderr}`;
  return {
    pid: child.pid ?? -1,
    lines,
    stderr: () => stderr,
    events: (name) => lines.filter((l) => l.event?.name === name),
    running,
    dump,
    waitFor: async (pred, ms, what, from = 0) => {
      let found: LogLine | undefined;
      try {
        await waitUntil(
          () => {
            found = lines.slice(from).find(pred);
            if (found === undefined && !running())
              throw new Error(`lvsd exited (${child.exitCode})`);
            return found !== undefined;
          },
          ms,
          what,
          20,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}${dump()}`);
      }
      return found as LogLine;
    },
    stop: async (signal = 'SIGTERM', ms = 15_000) => {
      if (!running()) return { code: child.exitCode, signal: child.signalCode };
      child.kill(signal);
      const r = await exitWithin(child, exited, ms);
      if (r !== undefined) return r;
      child.kill('SIGKILL');
      await exitWithin(child, exited, 5000);
      throw new Error(`lvsd did not exit within ${ms} ms of ${signal}${dump()}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The table as ipvsadm -Sn prints it

/** The weight of real server `rs` (`ADDR:PORT`) of tcp service `vip` in `-Sn` text. */
export function weightIn(save: string, vip: string, rs: string): number | undefined {
  for (const line of save.split('\n')) {
    const m = /^-a -t (\S+) -r (\S+) \S+ -w (\d+)/.exec(line);
    if (m && m[1] === vip && m[2] === rs) return Number(m[3]);
  }
  return undefined;
}

/** node's start in the VM on the host where the VM suites' bounds were set (best of 3). */
const REFERENCE_NODE_START_MS = 300;
let pace: number | undefined;

/**
 * How much slower this VM's emulated CPU is than the one the VM suites' bounds were set on
 * (ruling 15): node's start (`node -e 0`, best of 3) against REFERENCE_NODE_START_MS there, at
 * least 1, at most 4. 1 outside the VM (a real kernel on real hardware). Suites multiply their
 * waits by it, so a slower CI host gets longer bounds instead of red tests, and print it.
 */
export function vmPace(): number {
  if (pace !== undefined) return pace;
  if (process.env.IPVS_VM !== '1') return (pace = 1);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    execaSync(process.execPath, ['-e', '0'], { reject: false, timeout: 30_000 });
    best = Math.min(best, performance.now() - t0);
  }
  pace = Math.min(4, Math.max(1, best / REFERENCE_NODE_START_MS));
  return pace;
}

/** `ms` scaled by vmPace(), for a wait or a test's timeout in a VM suite. */
export function paced(ms: number): number {
  return Math.round(ms * vmPace());
}
