/**
 * One notify FIFO (notify_fifo, vrrp_notify_fifo, lvs_notify_fifo), opened as keepalived opens
 * it: created with mode 0644 if missing, then opened read-write and non-blocking, so lvsd holds
 * a read end itself — a write never blocks and never fails for want of a reader, and a reader
 * that attaches later finds the lines already in the pipe. If `_script` is set, it is started
 * once with the FIFO's path as its last argument (keepalived's reader convention) and killed
 * at stop.
 *
 * Better than keepalived: when the pipe is full (a stuck reader), keepalived loses the line;
 * lvsd keeps up to `maxPendingBytes` of lines in memory and retries every RETRY_MS, dropping
 * (and counting) the oldest beyond that. A path that exists but is not a FIFO is refused.
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { execa } from 'execa';
import type { Script } from '../config/types.js';
import { insecureReason, resolveRunAs } from '../health/checkers/script-security.js';
import type { ObserverLog } from './log-port.js';
import type { HookOutcome } from './script-runner.js';

export interface NotifyFifoConfig {
  readonly path: string;
  /** Already resolved by the config's ScriptPolicy (user, group); argv without the path. */
  readonly script?: Script;
}

export interface NotifyFifoOptions {
  readonly log: ObserverLog;
  readonly scriptSecurity: boolean;
  readonly maxPendingBytes?: number;
  /** Told when the reader script is refused, or exits while the FIFO is open (a failure). */
  readonly onScriptOutcome?: (outcome: HookOutcome) => void;
}

const RETRY_MS = 100;
const DEFAULT_MAX_PENDING = 256 * 1024;
const SCRIPT_LOG_BYTES = 4096;

export class NotifyFifo {
  private fd: number | undefined;
  private created = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private retry: NodeJS.Timeout | undefined;
  private reader: { readonly pid: number | undefined; readonly done: Promise<unknown> } | undefined;
  private closing = false;
  written = 0;
  dropped = 0;

  private constructor(
    readonly config: NotifyFifoConfig,
    private readonly opts: NotifyFifoOptions,
  ) {}

  /** Never throws: a FIFO that cannot be opened is logged and writes go nowhere. */
  static async open(config: NotifyFifoConfig, opts: NotifyFifoOptions): Promise<NotifyFifo> {
    const fifo = new NotifyFifo(config, opts);
    try {
      await fifo.create();
      if (config.script) await fifo.startReader(config.script);
      // O_NOFOLLOW: a symlink planted at the path must not redirect lvsd's writes. (libuv adds
      // O_CLOEXEC itself, so scripts lvsd starts do not inherit the descriptor.)
      fifo.fd = openSync(
        config.path,
        constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW,
      );
      if (!fstatSync(fifo.fd).isFIFO()) {
        closeSync(fifo.fd);
        fifo.fd = undefined;
        throw new Error('exists and is not a FIFO');
      }
    } catch (err) {
      opts.log.error(
        { fifo: { path: config.path } },
        `notify FIFO ${config.path} unusable: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return fifo;
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Writes whole lines in order; never blocks. */
  write(lines: readonly string[]): void {
    if (this.fd === undefined || lines.length === 0) return;
    for (const line of lines) {
      const b = Buffer.from(line);
      this.pending.push(b);
      this.pendingBytes += b.length;
    }
    this.trim();
    this.flush();
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.reader) {
      const pid = this.reader.pid;
      try {
        if (pid !== undefined) process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await this.reader.done;
    }
    if (this.created) await unlink(this.config.path).catch(() => undefined);
  }

  private flush(): void {
    if (this.fd === undefined) return;
    while (this.pending.length > 0) {
      const b = this.pending[0] as Buffer;
      let n: number;
      try {
        // Lines are far below PIPE_BUF, so each write is atomic: all of it or EAGAIN.
        n = writeSync(this.fd, b);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.armRetry();
          return;
        }
        this.opts.log.warn(
          { fifo: { path: this.config.path } },
          `notify FIFO write failed: ${String(err)}`,
        );
        this.dropAll();
        return;
      }
      if (n < b.length) {
        this.pending[0] = b.subarray(n);
        this.pendingBytes -= n;
        this.armRetry();
        return;
      }
      this.pending.shift();
      this.pendingBytes -= b.length;
      this.written += 1;
    }
  }

  private trim(): void {
    const max = this.opts.maxPendingBytes ?? DEFAULT_MAX_PENDING;
    while (this.pendingBytes > max && this.pending.length > 1) {
      const b = this.pending.shift() as Buffer;
      this.pendingBytes -= b.length;
      this.dropped += 1;
    }
  }

  private dropAll(): void {
    this.dropped += this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
  }

  private armRetry(): void {
    if (this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.flush();
    }, RETRY_MS);
    this.retry.unref();
  }

  private async create(): Promise<void> {
    const st = await lstat(this.config.path).catch(() => undefined);
    if (st) return; // checked after open (fstat), so a race cannot swap the file in between
    const r = await execa('mkfifo', ['-m', '0644', '--', this.config.path], {
      reject: false,
      stdin: 'ignore',
      timeout: 5000,
    });
    if (r.exitCode !== 0) throw new Error(`mkfifo failed: ${r.stderr.trim()}`);
    this.created = true;
  }

  private async startReader(script: Script): Promise<void> {
    const [file, ...args] = script.argv;
    if (file === undefined) return;
    const who = await resolveRunAs(script.user, script.group);
    const refusal =
      who.refusal ?? (this.opts.scriptSecurity ? await insecureReason(file) : undefined);
    if (refusal !== undefined) {
      this.opts.log.error(
        { fifo: { path: this.config.path, argv: script.argv } },
        `notify FIFO script not started: ${refusal}`,
      );
      this.scriptFailed(script, 'refused', `not started: ${refusal}`, 0);
      return;
    }
    const sub = execa(file, [...args, this.config.path], {
      reject: false,
      shell: false,
      stdin: 'ignore',
      buffer: false,
      detached: true,
      cwd: '/',
      ...(who.runAs === undefined ? {} : { uid: who.runAs.uid, gid: who.runAs.gid }),
    });
    let logged = 0;
    const onOutput = (chunk: Buffer): void => {
      if (logged >= SCRIPT_LOG_BYTES) return;
      const text = chunk.subarray(0, SCRIPT_LOG_BYTES - logged).toString('utf8');
      logged += text.length;
      this.opts.log.info(
        { fifo: { path: this.config.path }, output: text },
        'notify FIFO script output',
      );
    };
    sub.stdout?.on('data', onOutput);
    sub.stderr?.on('data', onOutput);
    const started = performance.now();
    const done = sub.then((r) => {
      this.opts.log.warn(
        { fifo: { path: this.config.path, exitCode: r.exitCode, signal: r.signal } },
        'notify FIFO script exited',
      );
      // Killed by close() is the normal end; any other exit leaves the FIFO without a reader.
      if (this.closing) return;
      const how =
        r.signal !== undefined
          ? { code: 'killed' as const, reason: `killed by ${r.signal}` }
          : r.exitCode === undefined
            ? { code: 'spawn' as const, reason: `not started: ${r.shortMessage ?? 'spawn failed'}` }
            : { code: 'exit' as const, reason: `exited with status ${r.exitCode}` };
      this.scriptFailed(script, how.code, how.reason, performance.now() - started);
    });
    this.reader = { pid: sub.pid, done };
  }

  private scriptFailed(
    script: Script,
    code: HookOutcome['code'],
    reason: string,
    durationMs: number,
  ): void {
    this.opts.onScriptOutcome?.({
      hook: 'fifo_script',
      queue: `fifo:${this.config.path}`,
      argv: script.argv,
      ok: false,
      code,
      reason,
      durationMs: Math.round(durationMs),
    });
  }
}
