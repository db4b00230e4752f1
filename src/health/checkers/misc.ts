/**
 * MISC_CHECK: run a script, judge its exit status (keepalived check_misc.c).
 *
 * - argv is executed directly (no shell): the config module has already split `misc_path`.
 * - The script leads its own process group. At misc_timeout the whole group gets SIGTERM, then
 *   SIGKILL after `killGraceMs` (keepalived: SIGTERM, then SIGKILL almost at once); a group
 *   that was terminated is SIGKILLed again after the leader exits so no grandchild survives.
 *   The probe resolves only after the script has exited, so runs of one checker never overlap.
 * - The verdict comes from the script's own exit, as in keepalived: a background child that
 *   keeps stdout open does not hold the check; its output stops being read OUTPUT_DRAIN_MS after
 *   the script exits.
 * - stdout and stderr go into one capture that keeps the first `maxOutputBytes` and counts the
 *   rest ("captured X of Y bytes"); the pipes are always drained, so a flood never blocks the
 *   script on a full pipe and never grows lvsd's memory.
 * - misc_dynamic: 0 = up, weight unchanged; 1 = down; 2..255 = up with weight = status - 2.
 *   Without it: 0 = up, anything else down. Death by a signal lvsd did not send = down
 *   (keepalived ignores such a run; lvsd reports it).
 */
import { execa } from 'execa';
import type { CancelSignal } from '../cancel.js';
import type { ProbeCode, ProbeDetail, ProbeResult } from '../result.js';
import { armDeadline, cancelDeadline, type Deadline } from './deadline.js';
import { insecureReason, resolveRunAs } from './script-security.js';
import { abortedResult, errnoOf, result, timeoutReason } from './socket-common.js';

export interface MiscCheckTarget {
  /** Program and arguments; argv[0] absolute or found on PATH. */
  readonly argv: readonly string[];
  readonly timeoutMs: number;
  /** keepalived misc_dynamic. */
  readonly dynamic: boolean;
  /** Name or uid; needs lvsd to run as root unless it is lvsd's own user. */
  readonly user?: string | number;
  readonly group?: string | number;
  /** Default 4096 bytes (stdout and stderr together). */
  readonly maxOutputBytes?: number;
  /** keepalived enable_script_security: refuse scripts a non-root user could modify. */
  readonly scriptSecurity?: boolean;
  /** SIGTERM → SIGKILL delay after the timeout. Default 200 ms. */
  readonly killGraceMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Default "/". */
  readonly cwd?: string;
}

/**
 * How the daemon's parts run a script: probeMisc itself, or the spawner's client (src/spawner),
 * which runs probeMisc in a small process of its own. Same contract: never throws.
 */
export type ScriptRun = (target: MiscCheckTarget, signal?: CancelSignal) => Promise<ProbeResult>;

export const DEFAULT_MAX_OUTPUT_BYTES = 4096;
const DEFAULT_KILL_GRACE_MS = 200;
const OUTPUT_DRAIN_MS = 50;

/** Never throws. */
export async function probeMisc(
  target: MiscCheckTarget,
  signal?: CancelSignal,
): Promise<ProbeResult> {
  const start = performance.now();
  try {
    return await runScript(target, start, signal);
  } catch (err) {
    return result(start, 'spawn', `cannot run script: ${String(err)}`);
  }
}

export { probeMisc as probe };

class OutputCapture {
  private readonly chunks: Buffer[] = [];
  captured = 0;
  total = 0;
  constructor(private readonly max: number) {}
  readonly add = (chunk: Buffer): void => {
    this.total += chunk.length;
    const room = this.max - this.captured;
    if (room <= 0) return;
    const keep = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(Buffer.from(keep)); // own copy: don't pin the stream's larger buffer
    this.captured += keep.length;
  };
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

type Ending = 'exit' | 'timeout' | 'aborted';

async function runScript(
  target: MiscCheckTarget,
  start: number,
  signal?: CancelSignal,
): Promise<ProbeResult> {
  const [file, ...args] = target.argv;
  if (file === undefined || file === '') return result(start, 'spawn', 'empty command');
  if (signal?.aborted === true) return abortedResult(start);

  const who = await resolveRunAs(target.user, target.group);
  if (who.refusal !== undefined) return result(start, 'spawn', who.refusal);
  if (target.scriptSecurity === true) {
    const why = await insecureReason(file);
    if (why !== undefined) return result(start, 'insecure', `script security: ${why}`);
  }

  const capture = new OutputCapture(target.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
  const sub = execa(file, args, {
    reject: false,
    buffer: false,
    shell: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    detached: true, // own process group, so a timeout can kill the whole tree
    cwd: target.cwd ?? '/',
    ...(target.env === undefined ? {} : { env: target.env }),
    ...(who.runAs === undefined ? {} : { uid: who.runAs.uid, gid: who.runAs.gid }),
  });
  sub.stdout?.on('data', capture.add);
  sub.stderr?.on('data', capture.add);

  // An object, not a `let`: TypeScript cannot see the closures below change it.
  const run: { ending: Ending } = { ending: 'exit' };
  let deadline: Deadline | undefined;
  let grace: Deadline | undefined;
  let drain: Deadline | undefined;
  const pid = sub.pid;
  const killGroup = (sig: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // ESRCH: the group is already gone
    }
  };
  const terminate = (why: Ending): void => {
    if (run.ending !== 'exit') return;
    run.ending = why;
    killGroup('SIGTERM');
    grace = armDeadline(target.killGraceMs ?? DEFAULT_KILL_GRACE_MS, () => {
      killGroup('SIGKILL');
    });
  };
  const onAbort = (): void => {
    terminate('aborted');
  };

  if (pid !== undefined) {
    deadline = armDeadline(target.timeoutMs, () => {
      terminate('timeout');
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    sub.once('exit', () => {
      cancelDeadline(deadline);
      cancelDeadline(grace);
      if (run.ending !== 'exit') killGroup('SIGKILL'); // leftovers of a terminated run
      // Give the pipes a moment for the last output, then stop waiting on them.
      drain = armDeadline(OUTPUT_DRAIN_MS, () => {
        sub.stdout?.destroy();
        sub.stderr?.destroy();
      });
    });
  }

  const r = await sub;
  cancelDeadline(deadline);
  cancelDeadline(grace);
  cancelDeadline(drain);
  signal?.removeEventListener('abort', onAbort);

  const output: ProbeDetail = {
    output: capture.text(),
    capturedBytes: capture.captured,
    totalOutputBytes: capture.total,
  };
  const capNote =
    capture.total > capture.captured
      ? ` (captured ${capture.captured} of ${capture.total} bytes of output)`
      : '';
  const done = (
    code: ProbeCode,
    reason: string,
    extra?: ProbeDetail,
    weight?: number,
  ): ProbeResult => result(start, code, reason + capNote, { ...extra, ...output }, weight);

  if (run.ending === 'aborted') return done('aborted', 'aborted');
  if (run.ending === 'timeout') {
    return done('timeout', `${timeoutReason(target.timeoutMs, 'script')}, process group killed`);
  }
  const exitCode = r.exitCode;
  const sig = r.signal;
  if (exitCode === undefined && sig === undefined) {
    const errno = errnoOf(r) ?? 'unknown';
    return done('spawn', `cannot start ${file}: ${errno}`, { errno });
  }
  if (sig !== undefined) return done('killed', `killed by ${sig}`, { signal: sig });
  const status = exitCode as number;
  if (status === 0) return done('ok', 'exit status 0', { exitCode: status });
  if (target.dynamic && status >= 2 && status <= 255) {
    return done(
      'ok',
      `exit status ${status} (weight ${status - 2})`,
      { exitCode: status },
      status - 2,
    );
  }
  return done('exit', `exit status ${status}`, { exitCode: status });
}
