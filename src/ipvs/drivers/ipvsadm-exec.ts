/**
 * Running ipvsadm (optionally inside a network namespace via `ip netns exec`), with execa and
 * no shell, bounded in time and output, and turning the ways it fails into coded LvsdErrors.
 */
import { runExec } from '../../lib/exec.js';
import { LvsdError } from '../../lib/errors.js';
import { IPVS_ERROR_CODES, ipvsadmNotFound, ipvsUnavailable } from '../driver.js';

export interface IpvsadmRunOptions {
  /** The ipvsadm binary (default `ipvsadm`, looked up in PATH). */
  readonly ipvsadmPath?: string;
  /** Run inside this network namespace: `ip netns exec NAME ipvsadm ...`. */
  readonly netns?: string;
  /** The `ip` binary, for netns (default `ip`). */
  readonly ipPath?: string;
  /** Per ipvsadm process (default 30 s). */
  readonly timeoutMs?: number;
  /** Per stream (default 32 MiB; 10,000 real servers print ~0.6 MB). */
  readonly maxOutputBytes?: number;
}

export interface RunOutput {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** ipvsadm's words for a kernel without IPVS; the modprobe line before them varies. */
const NO_IPVS = /Protocol not available/;

function tail(text: string, max = 500): string {
  const t = text.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

/** The command line, for messages. */
export function commandLine(options: IpvsadmRunOptions, args: readonly string[]): string[] {
  const ipvsadm = options.ipvsadmPath ?? 'ipvsadm';
  if (options.netns === undefined) return [ipvsadm, ...args];
  return [options.ipPath ?? 'ip', 'netns', 'exec', options.netns, ipvsadm, ...args];
}

/**
 * Runs ipvsadm once. Resolves with whatever exit status ipvsadm gave (callers decide what a
 * status means: for `-R` it means little); rejects with a coded LvsdError when ipvsadm could not
 * run, timed out, or says the kernel has no IPVS.
 */
export async function runIpvsadm(
  options: IpvsadmRunOptions,
  args: readonly string[],
  input?: string,
): Promise<RunOutput> {
  const [file = 'ipvsadm', ...rest] = commandLine(options, args);
  const shown = [file, ...rest].join(' ');
  const result = await runExec({
    file,
    args: rest,
    timeoutMs: options.timeoutMs ?? 30_000,
    maxBufferBytes: options.maxOutputBytes ?? 32 * 1024 * 1024,
    stripFinalNewline: false,
    // ipvsadm's messages are matched as text: keep them untranslated.
    env: { LC_ALL: 'C', LANG: 'C' },
    ...(input === undefined ? {} : { input }),
  });
  const { stdout, stderr } = result;
  if (result.errno === 'ENOENT' || result.errno === 'EACCES') {
    if (options.netns === undefined) throw ipvsadmNotFound(file, result);
    throw new LvsdError(
      IPVS_ERROR_CODES.commandFailed,
      `cannot run ${file} for netns ${options.netns}: ${result.errno}`,
      'apt-get install iproute2',
      { cause: result },
    );
  }
  if (
    options.netns !== undefined &&
    /^exec of ".*" failed: No such file or directory/m.test(stderr)
  ) {
    throw ipvsadmNotFound(options.ipvsadmPath ?? 'ipvsadm', result);
  }
  if (NO_IPVS.test(stderr)) {
    throw ipvsUnavailable(`${shown}: ${tail(stderr).split('\n').join(' / ')}`);
  }
  if (result.timedOut) {
    throw new LvsdError(
      IPVS_ERROR_CODES.commandFailed,
      `${shown} timed out after ${options.timeoutMs ?? 30_000} ms`,
      undefined,
      { cause: result },
    );
  }
  if (result.overflow) {
    throw new LvsdError(
      IPVS_ERROR_CODES.commandFailed,
      `${shown}: output over the limit`,
      undefined,
      {
        cause: result,
      },
    );
  }
  if (result.exitCode === undefined) {
    const why =
      result.signal === undefined ? (result.errno ?? 'no exit status') : `signal ${result.signal}`;
    throw new LvsdError(IPVS_ERROR_CODES.commandFailed, `${shown} failed: ${why}`, undefined, {
      cause: result,
    });
  }
  if (options.netns !== undefined && /^Cannot open network namespace/m.test(stderr)) {
    throw new LvsdError(
      IPVS_ERROR_CODES.commandFailed,
      `${shown}: ${tail(stderr)}`,
      `create it first: ip netns add ${options.netns}`,
    );
  }
  return { exitCode: result.exitCode, stdout, stderr };
}

/** A read command must exit 0 with no error text. */
export async function runRead(
  options: IpvsadmRunOptions,
  args: readonly string[],
): Promise<string> {
  const out = await runIpvsadm(options, args);
  if (out.exitCode !== 0 || out.stderr.trim() !== '') {
    throw new LvsdError(
      IPVS_ERROR_CODES.commandFailed,
      `${commandLine(options, args).join(' ')} exited ${out.exitCode}: ${tail(out.stderr)}`,
    );
  }
  return out.stdout;
}
