/**
 * Running the network tools the VRRP drivers use (`ip`, `arping`, `ipvsadm`, `perl`, `cat`),
 * optionally inside a network namespace (`ip netns exec NAME ...`), with execa and no shell,
 * bounded in time and output, untranslated messages (they are matched as text), and the ways a
 * tool cannot run turned into coded LvsdErrors. A tool that ran and said no is not an error
 * here: callers judge exit status and stderr, because "File exists" is success for them.
 */
import { runExec } from '../../lib/exec.js';
import { LvsdError } from '../../lib/errors.js';

export const DRIVER_ERROR_CODES = {
  /** The tool is not installed, or `ip netns exec` could not start it. */
  toolMissing: 'VRRP_TOOL_MISSING',
  /** The tool ran but failed in a way the driver does not treat as success. */
  commandFailed: 'VRRP_COMMAND_FAILED',
  /** The tool did not finish in time. */
  timeout: 'VRRP_COMMAND_TIMEOUT',
  /** The named network namespace does not exist. */
  noNetns: 'VRRP_NO_NETNS',
} as const;

export interface ToolOptions {
  /** Run inside this network namespace: `ip netns exec NAME TOOL ...`. */
  readonly netns?: string;
  /** The `ip` binary (default `ip`, from PATH). */
  readonly ipPath?: string;
  /** Per process (default 10 s). */
  readonly timeoutMs?: number;
}

export interface ToolOutput {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The command line as run, for messages. */
  readonly shown: string;
}

/** At most this much of a tool's output is kept (a `ip -j addr` of 10,000 VIPs is ~3 MB). */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export function tail(text: string, max = 400): string {
  const t = text.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

/** The argv that runs `tool args` where `options` says (inside a netns or not). */
export function toolArgv(
  options: ToolOptions,
  tool: string,
  args: readonly string[],
): [string, ...string[]] {
  if (options.netns === undefined) return [tool, ...args];
  return [options.ipPath ?? 'ip', 'netns', 'exec', options.netns, tool, ...args];
}

/**
 * Runs a tool once and resolves with its exit status and output, whatever the status; rejects
 * with a coded LvsdError when it could not run at all, timed out, or the netns is missing.
 */
export async function runTool(
  options: ToolOptions,
  tool: string,
  args: readonly string[],
): Promise<ToolOutput> {
  const [file, ...rest] = toolArgv(options, tool, args);
  const shown = [file, ...rest].join(' ');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const r = await runExec({
    file,
    args: rest,
    timeoutMs,
    maxBufferBytes: MAX_OUTPUT_BYTES,
    env: { LC_ALL: 'C', LANG: 'C' },
  });
  const { stdout, stderr } = r;
  if (r.errno === 'ENOENT' || r.errno === 'EACCES') {
    throw new LvsdError(
      DRIVER_ERROR_CODES.toolMissing,
      `cannot run ${file}: ${r.errno}`,
      file === 'ip' ? 'apt-get install iproute2' : `install ${file}`,
      { cause: r },
    );
  }
  if (r.timedOut) {
    throw new LvsdError(
      DRIVER_ERROR_CODES.timeout,
      `${shown} timed out after ${timeoutMs} ms`,
      undefined,
      {
        cause: r,
      },
    );
  }
  if (r.overflow) {
    throw new LvsdError(DRIVER_ERROR_CODES.commandFailed, `${shown}: output over the limit`);
  }
  if (r.exitCode === undefined) {
    const why = r.signal === undefined ? (r.errno ?? 'no exit status') : `signal ${r.signal}`;
    throw new LvsdError(DRIVER_ERROR_CODES.commandFailed, `${shown} failed: ${why}`, undefined, {
      cause: r,
    });
  }
  if (options.netns !== undefined) {
    if (/^Cannot open network namespace/m.test(stderr)) {
      throw new LvsdError(
        DRIVER_ERROR_CODES.noNetns,
        `${shown}: ${tail(stderr)}`,
        `create it first: ip netns add ${options.netns}`,
      );
    }
    if (/^exec of ".*" failed: No such file or directory/m.test(stderr)) {
      throw new LvsdError(
        DRIVER_ERROR_CODES.toolMissing,
        `${shown}: ${tool} is not installed`,
        `install ${tool}`,
      );
    }
  }
  return { exitCode: r.exitCode, stdout, stderr, shown };
}

/** A failure with the command line and the tail of stderr in the message. */
export function commandFailed(out: ToolOutput, hint?: string): LvsdError {
  return new LvsdError(
    DRIVER_ERROR_CODES.commandFailed,
    `${out.shown} exited ${out.exitCode}: ${tail(out.stderr) || '(no message)'}`,
    hint,
  );
}

/** Runs `ip [-n NETNS] ARGS` (ip enters the namespace itself: no `ip netns exec` needed). */
export async function runIp(options: ToolOptions, args: readonly string[]): Promise<ToolOutput> {
  const ip = options.ipPath ?? 'ip';
  const full = options.netns === undefined ? args : ['-n', options.netns, ...args];
  const out = await runTool({ ...withoutNetns(options) }, ip, full);
  if (options.netns !== undefined && /^Cannot open network namespace/m.test(out.stderr)) {
    throw new LvsdError(
      DRIVER_ERROR_CODES.noNetns,
      `${out.shown}: ${tail(out.stderr)}`,
      `create it first: ip netns add ${options.netns}`,
    );
  }
  return out;
}

function withoutNetns(options: ToolOptions): ToolOptions {
  return {
    ...(options.ipPath === undefined ? {} : { ipPath: options.ipPath }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
}
