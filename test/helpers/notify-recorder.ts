/**
 * Notify parity support (root only): one recording notify script that keepalived and lvsd both
 * run, a FIFO reader, and keepalived started in a director's namespace with any config text.
 *
 * The script lives in a root-owned 0755 folder under /run (not /tmp: keepalived's
 * `enable_script_security` refuses a script whose path has a world-writable folder in it) and
 * appends one line per run to a log file:
 *
 *   TAG $0 $@
 *
 * where TAG is the network namespace it runs in (`ip netns identify`), so one log serves both
 * directors. Lines are grouped per transition by `NotifyLog.take()` once the log has been quiet.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Sends a signal; false when the process (group) is already gone. */
function killQuietly(pid: number, signal: NodeJS.Signals): boolean {
  try {
    return process.kill(pid, signal);
  } catch {
    return false;
  }
}

/** The recording script and its log; `dispose()` removes both. */
export class NotifyRecorder {
  readonly dir: string;
  readonly script: string;
  readonly log: string;
  private taken = 0;

  constructor(logDir: string) {
    this.dir = `/run/lvsd-notify-${process.pid}-${randomBytes(3).toString('hex')}`;
    mkdirSync(this.dir, { mode: 0o755 });
    chmodSync(this.dir, 0o755);
    this.log = join(logDir, 'notify.log');
    writeFileSync(this.log, '');
    this.script = join(this.dir, 'notify.sh');
    writeFileSync(
      this.script,
      [
        '#!/bin/sh',
        '# Records one line per run: the namespace it runs in, then $0 and its arguments.',
        'tag=$(ip netns identify 2>/dev/null)',
        `echo "\${tag:-root} $0 $*" >> ${this.log}`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    chmodSync(this.script, 0o755);
  }

  /** A keyword line: `KEYWORD "SCRIPT WORD"`. */
  line(keyword: string, word: string): string {
    return `  ${keyword} "${this.script} ${word}"`;
  }

  /** Every line recorded so far. */
  all(): string[] {
    if (!existsSync(this.log)) return [];
    return readFileSync(this.log, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0);
  }

  /**
   * Waits until at least `min` new lines have come and then `quietMs` passed without another
   * (bounded by `maxMs`); returns the new lines and moves past them.
   */
  async take(min: number, quietMs = 700, maxMs = 8_000): Promise<string[]> {
    const t0 = Date.now();
    let seen = -1;
    let since = Date.now();
    for (let i = 0; i < 10_000 && Date.now() - t0 < maxMs; i++) {
      const n = this.all().length;
      if (n !== seen) {
        seen = n;
        since = Date.now();
      } else if (n - this.taken >= min && Date.now() - since >= quietMs) break;
      await sleep(50);
    }
    const lines = this.all();
    const out = lines.slice(this.taken);
    this.taken = lines.length;
    return out;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Reads a FIFO from a `cat` child (started before the daemon, so no line waits for it) and
 * groups its lines per transition like NotifyRecorder.take().
 */
export class FifoReader {
  private readonly child: ChildProcess;
  private buf = '';
  private lines: string[] = [];
  private taken = 0;

  constructor(readonly path: string) {
    this.child = spawn('cat', [path], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (c: string) => {
      const parts = (this.buf + c).split('\n');
      this.buf = parts.pop() ?? '';
      if (this.lines.length < 100_000) this.lines.push(...parts.filter((l) => l.length > 0));
    });
  }

  all(): string[] {
    return [...this.lines];
  }

  async take(min: number, quietMs = 700, maxMs = 8_000): Promise<string[]> {
    const t0 = Date.now();
    let seen = -1;
    let since = Date.now();
    for (let i = 0; i < 10_000 && Date.now() - t0 < maxMs; i++) {
      const n = this.lines.length;
      if (n !== seen) {
        seen = n;
        since = Date.now();
      } else if (n - this.taken >= min && Date.now() - since >= quietMs) break;
      await sleep(50);
    }
    const out = this.lines.slice(this.taken);
    this.taken = this.lines.length;
    return out;
  }

  close(): void {
    if (this.child.pid !== undefined) killQuietly(this.child.pid, 'SIGKILL');
  }
}

/** Makes a FIFO (mkfifo) at `path`, replacing whatever is there. */
export function makeFifo(path: string): void {
  rmSync(path, { force: true });
  const r = spawnSync('mkfifo', ['-m', '0644', path], { timeout: 5_000 });
  if (r.status !== 0) throw new Error(`mkfifo ${path} failed (${String(r.status)})`);
}

export interface KeepalivedHandle {
  readonly pid: number;
  readonly log: string;
  readonly exited: Promise<number | null>;
}

/**
 * keepalived in a namespace with any config text, exactly as the lab runs it:
 * `keepalived --dont-fork --log-console --no-syslog --vrrp|--check --use-file=… --pid=…
 * --vrrp_pid=…|--checkers_pid=…`, in its own process group. Tracks what it starts;
 * `killAll()` ends those by PID.
 */
export class KeepalivedRunner {
  private readonly running = new Set<KeepalivedHandle>();

  constructor(private readonly dir: string) {}

  start(ns: string, name: string, text: string, mode: 'vrrp' | 'check'): KeepalivedHandle {
    const file = join(this.dir, `${name}.ka.conf`);
    writeFileSync(file, text);
    const pid = join(this.dir, `${name}.ka.pid`);
    const child = join(this.dir, `${name}.ka-${mode}.pid`);
    rmSync(pid, { force: true });
    rmSync(child, { force: true });
    const log = join(this.dir, `${name}.ka.log`);
    const fd = openSync(log, 'a');
    const c = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'keepalived',
        '--dont-fork',
        '--log-console',
        '--no-syslog',
        `--${mode}`,
        `--use-file=${file}`,
        `--pid=${pid}`,
        mode === 'vrrp' ? `--vrrp_pid=${child}` : `--checkers_pid=${child}`,
      ],
      { detached: true, stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    if (c.pid === undefined) throw new Error('keepalived did not start');
    const exited = new Promise<number | null>((res) => {
      c.once('exit', (code) => {
        res(code);
      });
    });
    const h: KeepalivedHandle = { pid: c.pid, log, exited };
    this.running.add(h);
    void exited.then(() => this.running.delete(h));
    return h;
  }

  /** SIGTERM (keepalived's clean stop); SIGKILL to the group after 10 s. */
  async stop(h: KeepalivedHandle): Promise<number | null> {
    killQuietly(h.pid, 'SIGTERM');
    const r = await Promise.race([h.exited, sleep(10_000).then(() => 'timeout' as const)]);
    if (r !== 'timeout') return r;
    killQuietly(-h.pid, 'SIGKILL');
    await Promise.race([h.exited, sleep(3_000)]);
    return null;
  }

  async killAll(): Promise<void> {
    const all = [...this.running];
    for (const h of all) killQuietly(-h.pid, 'SIGKILL');
    await Promise.race([Promise.allSettled(all.map((h) => h.exited)), sleep(3_000)]);
  }
}

/** Lines as a sorted multiset (ruling 16: the set of argv lines per transition). */
export function asSet(lines: readonly string[]): string[] {
  return [...lines].sort();
}
