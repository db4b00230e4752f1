/**
 * How lvsd runs its tools (ip, ipvsadm, arping): one narrow port, so that `lvsd run` can send
 * every tool run through its spawner (src/spawner) instead of forking the daemon, whose size
 * makes each fork block its event loop for milliseconds (and for seconds in an emulated VM).
 *
 * The port is process-wide on purpose: tools are run from deep inside many drivers, and which
 * process starts them is a property of the running program, not of any one driver. Everything
 * else (no shell, untranslated messages, bounds) is decided by the caller's request and is the
 * same whichever process runs it.
 */
import { execa } from 'execa';

export interface ExecRequest {
  readonly file: string;
  readonly args: readonly string[];
  /** Written to the tool's stdin; without it stdin is /dev/null. */
  readonly input?: string;
  readonly timeoutMs: number;
  /** Per stream; more makes the run fail with `overflow`. */
  readonly maxBufferBytes: number;
  /** Added to the inherited environment (LC_ALL=C for tools whose messages are matched). */
  readonly env?: Readonly<Record<string, string>>;
  /** Default true: one trailing newline is removed from stdout and stderr. */
  readonly stripFinalNewline?: boolean;
}

export interface ExecOutcome {
  /** Undefined when the tool did not exit normally (signal, could not start, timeout). */
  readonly exitCode?: number;
  readonly signal?: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Output over maxBufferBytes. */
  readonly overflow: boolean;
  /** Why it could not start or run (ENOENT, EACCES, …). */
  readonly errno?: string;
}

export type Exec = (request: ExecRequest) => Promise<ExecOutcome>;

/** Runs the tool from this process. Never throws. */
export const execDirect: Exec = async (q) => {
  const r = await execa(q.file, [...q.args], {
    reject: false,
    timeout: q.timeoutMs,
    maxBuffer: q.maxBufferBytes,
    stripFinalNewline: q.stripFinalNewline ?? true,
    ...(q.env === undefined ? {} : { env: q.env }),
    ...(q.input === undefined ? { stdin: 'ignore' as const } : { input: q.input }),
  });
  const o: { -readonly [K in keyof ExecOutcome]: ExecOutcome[K] } = {
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    stderr: typeof r.stderr === 'string' ? r.stderr : '',
    timedOut: r.timedOut,
    overflow: r.isMaxBuffer,
  };
  if (r.exitCode !== undefined) o.exitCode = r.exitCode;
  if (r.signal !== undefined) o.signal = r.signal;
  if (typeof r.code === 'string') o.errno = r.code;
  return o;
};

let current: Exec = execDirect;

/** `lvsd run` installs its spawner's exec here; tests and one-shot commands keep execDirect. */
export function useExec(exec: Exec): void {
  current = exec;
}

export function runExec(request: ExecRequest): Promise<ExecOutcome> {
  return current(request);
}
