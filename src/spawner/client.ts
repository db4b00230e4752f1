/**
 * The daemon's side of the spawner (child.ts): scripts — MISC_CHECKs, notify scripts,
 * vrrp_scripts — and tools (ip, ipvsadm, arping; lib/exec.ts) are started by a small helper
 * process instead of by the daemon, so a spawn never blocks the daemon's event loop
 * (bench/hooks-storm: ~5 ms per spawn at 1,000 real servers when the daemon forked them
 * itself; in the emulated IPVS VM an `ip addr` run took 1–2 s).
 *
 * Failure handling, in the order an operator cares about:
 * - A script's verdict is only ever what the spawner reported. When the spawner dies with runs
 *   in flight, those runs fail with a reason that says so (their outcome is unknown); runs it
 *   had not yet accepted (before its hello) are started directly instead.
 * - The spawner is restarted with a growing delay. While it is down, scripts are started by the
 *   daemon itself, as before the spawner existed: slower, never lost. The switch is logged
 *   once each way, not per run.
 * - Cancelling a run (the scheduler's run timeout, a stop) sends a cancel; the spawner kills
 *   the script's process group as the runner does for a timeout.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { probeMisc, type ScriptRun } from '../health/checkers/misc.js';
import type { ProbeResult } from '../health/result.js';
import type { SpawnerStatus } from '../control/types.js';
import type { ObserverLog } from '../hooks/log-port.js';
import { execDirect, type Exec, type ExecOutcome } from '../lib/exec.js';
import {
  decodeReply,
  encodeRequest,
  LineSplitter,
  type SpawnerReply,
  type SpawnerRequest,
  WIRE_VERSION,
} from './wire.js';

export interface SpawnerOptions {
  /** dist/spawner.mjs; default: found beside the running bundle (spawnerEntry); null: none. */
  readonly entry?: string | null;
  readonly log: ObserverLog;
  /** Runs a script when the spawner cannot; default probeMisc (a spawn by the daemon). */
  readonly fallback?: ScriptRun;
  /** Runs a tool when the spawner cannot; default execDirect. */
  readonly execFallback?: Exec;
  /**
   * The spawner became unusable or runs again (`lvsd run` publishes daemon.spawner); without
   * it the client logs these itself. Not called for the first start.
   */
  readonly onState?: (s: { state: 'up' | 'down'; reason: string; pid?: number }) => void;
  /** Restart delays, first to last (the last repeats). */
  readonly restartDelaysMs?: readonly number[];
}

/** A request the spawner has not answered yet. */
interface Pending {
  /** The spawner's answer arrived (undefined: it was invalid, `why` says how). */
  readonly answer: (reply: SpawnerReply | undefined, why?: string) => void;
  /** The spawner died first; `accepted`: it may have started the run. */
  readonly orphan: (accepted: boolean, why: string) => void;
}

const DEFAULT_RESTART_DELAYS_MS = [100, 500, 2000, 10_000];
/** A spawner that lived this long had started fine: the next crash starts the delays over. */
const HEALTHY_AFTER_MS = 30_000;
/** How long close() waits for the spawner to reap its scripts before killing it. */
const CLOSE_WAIT_MS = 6000;

/**
 * dist/spawner.mjs, wherever this code was bundled to: dist/lvsd.mjs or dist/chunks/*.mjs (the
 * CLI and the .deb), node_modules/.cache/lvsd-bench (the benches' bundles), src/spawner (tests
 * running the sources, after `npm run build`). Undefined when there is none.
 */
export function spawnerEntry(from: string = import.meta.url): string | undefined {
  const here = path.dirname(fileURLToPath(from));
  for (const rel of [
    'spawner.mjs',
    '../spawner.mjs',
    '../../dist/spawner.mjs',
    '../../../dist/spawner.mjs',
  ]) {
    const p = path.resolve(here, rel);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export class SpawnerClient {
  private child: ReturnType<typeof startSpawner> | undefined;
  /** The running spawner said hello: it reads requests. */
  private up = false;
  private helloWaiters: (() => void)[] = [];
  private startedAt = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private degraded = false;
  /** Why no spawner is started any more (a wire version it cannot speak). */
  private entryRefused: string | undefined;
  private readonly entry: string | undefined;
  private readonly fallback: ScriptRun;
  private readonly execFallback: Exec;
  private readonly delays: readonly number[];
  /** Counters for status and tests. */
  readonly stats = {
    spawnerRuns: 0,
    directRuns: 0,
    spawnerExecs: 0,
    directExecs: 0,
    lost: 0,
    starts: 0,
    retries: 0,
    malformed: 0,
  };

  constructor(private readonly opts: SpawnerOptions) {
    this.entry = opts.entry === null ? undefined : (opts.entry ?? spawnerEntry());
    this.fallback = opts.fallback ?? probeMisc;
    this.execFallback = opts.execFallback ?? execDirect;
    this.delays = opts.restartDelaysMs ?? DEFAULT_RESTART_DELAYS_MS;
    if (this.entry === undefined) {
      this.degrade('dist/spawner.mjs not found beside the bundle (run `npm run build`)');
    } else this.spawn();
  }

  /** The ScriptRun the daemon's parts are given. */
  readonly run: ScriptRun = (target, signal) => {
    if (!this.usable || signal?.aborted === true) {
      this.stats.directRuns++;
      return this.fallback(target, signal);
    }
    this.stats.spawnerRuns++;
    let id = 0;
    const onAbort = (): void => {
      this.send({ id, op: 'cancel' });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    return this.ask<ProbeResult>({
      request: (n) => {
        id = n;
        return { id: n, op: 'script', target };
      },
      take: (reply) => (reply.kind === 'result' ? reply.result : undefined),
      failed: (why) => lost(why),
      direct: () => {
        this.stats.directRuns++;
        return this.fallback(target, signal);
      },
      what: 'script',
    }).finally(() => {
      signal?.removeEventListener('abort', onAbort);
    });
  };

  /**
   * The Exec that `lvsd run` could install for its tools (lib/exec.ts). A tool run is not
   * cancelled (its own timeout bounds it); one the spawner died during fails with errno
   * ESPAWNER, which the drivers report as a failed run: the IPVS reconciler and the VIP driver
   * retry.
   */
  readonly exec: Exec = (request) => {
    const direct = (): Promise<ExecOutcome> => {
      this.stats.directExecs++;
      return this.execFallback(request);
    };
    if (!this.usable) return direct();
    this.stats.spawnerExecs++;
    return this.ask<ExecOutcome>({
      request: (id) => ({ id, op: 'exec', exec: request }),
      take: (reply) => (reply.kind === 'exec' ? reply.outcome : undefined),
      failed: (why) => failedExec(why),
      direct,
      what: 'tool',
    });
  };

  private get usable(): boolean {
    return this.up && this.child !== undefined && !this.closed;
  }

  /**
   * One request to the spawner, settled by its matching reply; an invalid reply or the
   * spawner's death before the reply becomes `failed` (it may have run), or `direct` when the
   * spawner had not accepted requests yet (it cannot have run).
   */
  private ask<T>(q: {
    readonly request: (id: number) => SpawnerRequest;
    readonly take: (reply: SpawnerReply) => T | undefined;
    readonly failed: (why: string) => T;
    readonly direct: () => Promise<T>;
    readonly what: 'script' | 'tool';
  }): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.pending.set(id, {
        answer: (reply, why) => {
          const value = reply === undefined ? undefined : q.take(reply);
          resolve(
            value ??
              q.failed(`the spawner's reply was invalid (${why ?? `not a ${q.what} result`})`),
          );
        },
        orphan: (accepted, why) => {
          if (!accepted) {
            void q.direct().then(resolve);
            return;
          }
          this.stats.lost++;
          resolve(q.failed(`${why} while the ${q.what} ran`));
        },
      });
      this.send(q.request(id));
    });
  }

  /**
   * Resolves once the spawner said hello, or after `maxMs` (scripts then start directly until
   * it does): `lvsd run` waits here so that even the first checks come from the spawner.
   */
  async ready(maxMs = 3000): Promise<boolean> {
    if (!this.up && this.child !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.helloWaiters.push(resolve);
        timer = setTimeout(resolve, maxMs);
      });
      clearTimeout(timer);
    }
    return this.up;
  }

  /** For `lvsd status`. */
  status(): SpawnerStatus {
    const s = this.stats;
    const pid = this.pid;
    return {
      up: pid !== undefined,
      ...(pid === undefined ? {} : { pid }),
      scriptRuns: s.spawnerRuns,
      directScriptRuns: s.directRuns,
      toolRuns: s.spawnerExecs,
      directToolRuns: s.directExecs,
      lost: s.lost,
      starts: s.starts,
    };
  }

  /** The spawner's pid while one runs (tests, status). */
  get pid(): number | undefined {
    return this.up ? this.child?.pid : undefined;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Stops taking runs, lets running scripts finish or be killed, waits for the spawner. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined) return;
    child.stdin.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), CLOSE_WAIT_MS);
    await child.catch(() => undefined);
    clearTimeout(killer);
  }

  private send(req: SpawnerRequest): void {
    const stdin = this.child?.stdin;
    if (stdin === undefined || !stdin.writable) return;
    stdin.write(encodeRequest(req));
  }

  private spawn(): void {
    if (this.entry === undefined || this.closed || this.entryRefused !== undefined) return;
    // Checked here, not left to node: its "Cannot find module" trace would go to the log on
    // every retry (a package upgrade that removed the file, say).
    if (!existsSync(this.entry)) {
      this.retryLater(`${this.entry} is missing`);
      return;
    }
    this.stats.starts++;
    this.up = false;
    this.startedAt = performance.now();
    const child = startSpawner(this.entry);
    this.child = child;
    const lines = new LineSplitter();
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of lines.push(chunk)) this.onLine(line);
      this.stats.malformed += lines.overflows;
      lines.overflows = 0;
    });
    // A write after the spawner died: its exit below settles everything.
    child.stdin.on('error', () => undefined);
    void child.then((r) => {
      this.onExit(r.signal ?? (r.exitCode === undefined ? (r.code ?? 'error') : r.exitCode));
    });
  }

  private onLine(line: string): void {
    const d = decodeReply(line);
    if (!d.ok) {
      this.stats.malformed++;
      this.opts.log.warn({ spawner: { why: d.why } }, `script spawner sent a bad line: ${d.why}`);
      if (d.id !== undefined) this.settle(d.id, undefined, d.why);
      return;
    }
    const reply = d.value;
    if (reply.kind === 'hello') {
      if (reply.version !== WIRE_VERSION) {
        // Not ours (an upgrade replaced the file): no restarts until the daemon itself restarts.
        this.entryRefused = `${this.entry ?? 'spawner.mjs'} speaks wire version ${reply.version}, this lvsd ${WIRE_VERSION} (restart lvsd after an upgrade)`;
        this.degrade(this.entryRefused);
        this.child?.stdin.end();
        return;
      }
      this.up = true;
      for (const w of this.helloWaiters.splice(0)) w();
      if (this.degraded) {
        this.degraded = false;
        if (this.opts.onState)
          this.opts.onState({ state: 'up', reason: 'started again', pid: reply.pid });
        else
          this.opts.log.info(
            { spawner: { pid: reply.pid } },
            `script spawner running again (pid ${reply.pid})`,
          );
      }
      return;
    }
    this.settle(reply.id, reply);
  }

  private settle(id: number, reply: SpawnerReply | undefined, why?: string): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    p.answer(reply, why);
  }

  private onExit(how: string | number): void {
    const wasReady = this.up;
    this.up = false;
    for (const w of this.helloWaiters.splice(0)) w();
    this.child = undefined;
    const inFlight = [...this.pending.values()];
    this.pending.clear();
    for (const p of inFlight) p.orphan(wasReady, `the script spawner exited (${String(how)})`);
    if (this.closed || this.entryRefused !== undefined) return;
    if (performance.now() - this.startedAt > HEALTHY_AFTER_MS) this.restarts = 0;
    this.retryLater(`the script spawner exited (${String(how)})`);
  }

  private retryLater(why: string): void {
    const delay = this.delays[Math.min(this.restarts, this.delays.length - 1)] ?? 1000;
    this.restarts++;
    this.stats.retries++;
    this.degrade(`${why}; starting it again in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.spawn();
    }, delay);
    this.restartTimer.unref();
  }

  private degrade(why: string): void {
    if (this.degraded) return;
    this.degraded = true;
    if (this.opts.onState) {
      this.opts.onState({ state: 'down', reason: why });
      return;
    }
    this.opts.log.warn(
      { spawner: { why } },
      `${why}; until it runs, the daemon starts scripts and tools itself (slower: each start blocks it briefly)`,
    );
  }
}

/** stderr is the daemon's (journald): the spawner writes there only when something is wrong. */
function startSpawner(entry: string) {
  return execa(process.execPath, [entry], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'inherit',
    buffer: false,
    reject: false,
  });
}

/** A tool run whose end nobody saw: the drivers report it as a failed run (errno ESPAWNER). */
function failedExec(why: string): ExecOutcome {
  return {
    stdout: '',
    stderr: `lvsd: ${why}: outcome unknown`,
    timedOut: false,
    overflow: false,
    errno: 'ESPAWNER',
  };
}

function lost(reason: string): ProbeResult {
  return { ok: false, code: 'io', reason: `${reason}: outcome unknown`, latencyMs: 0 };
}
