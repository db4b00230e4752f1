/**
 * What the control commands (status, drain, undrain, maint, reload) share: the --socket flag,
 * the client, durations, and turning failures into a message, a hint and an exit status.
 */
import { userInfo } from 'node:os';
import type { FlagSpec, ParsedArgs } from '../cli/args.js';
import { UsageError } from '../cli/args.js';
import { exitCodes } from '../cli/exit-codes.js';
import type { Io } from '../cli/io.js';
import { ControlClient, ClientError } from './client.js';
import { DEFAULT_ADMIN_SOCKET, DEFAULT_RO_SOCKET } from './constants.js';
import { ApiError } from './errors.js';

/** Exit statuses of the control commands, on top of src/cli/exit-codes.ts. */
export const controlExitCodes = {
  /** drain --wait: the timeout passed with connections still active (the drain stays). */
  waitTimeout: exitCodes.drainTimeout,
  /** lvsd cannot be reached: no socket, nothing listening, no answer in time. */
  notRunning: exitCodes.notRunning,
  /** Not allowed: the read-only socket, or no permission on the socket. */
  denied: exitCodes.notAllowed,
  /** lvsd refused the request: unknown or ambiguous server, unknown window, bad value. */
  refused: exitCodes.refused,
  /** events: lvsd cut this reader off (SLOW_CONSUMER: it fell too far behind). */
  cutOff: exitCodes.cutOff,
} as const;

export const socketFlag: FlagSpec = {
  name: 'socket',
  takesValue: true,
  valueName: 'PATH',
  help: `control socket (default: $LVSD_SOCKET, else ${DEFAULT_ADMIN_SOCKET} for changes, ${DEFAULT_RO_SOCKET} for reads)`,
};

export const exitStatusHelp = `Exit status: 0 done; 2 bad command line; ${controlExitCodes.notRunning} lvsd not reachable (no socket,
nothing listening, no answer); ${controlExitCodes.denied} not allowed (read-only socket, permission denied);
${controlExitCodes.refused} refused (unknown or ambiguous server, unknown window, bad value); 1 internal error.`;

export function socketPath(args: ParsedArgs, io: Io, kind: 'admin' | 'ro'): string {
  const flag = args.flags.get('socket');
  if (typeof flag === 'string') return flag;
  const env = io.env['LVSD_SOCKET'];
  if (env) return env;
  return kind === 'admin' ? DEFAULT_ADMIN_SOCKET : DEFAULT_RO_SOCKET;
}

/** The user name the client declares (informational): the sudo caller when there is one. */
export function declaredUser(io: Io): string {
  const sudo = io.env['SUDO_USER'];
  let me = io.env['USER'] ?? io.env['LOGNAME'];
  if (!me) {
    try {
      me = userInfo().username;
    } catch {
      me = 'unknown';
    }
  }
  return sudo && sudo !== me ? `${sudo}(sudo)` : me;
}

export function clientFor(args: ParsedArgs, io: Io, kind: 'admin' | 'ro'): ControlClient {
  return new ControlClient({ socketPath: socketPath(args, io, kind), user: declaredUser(io) });
}

/** Prints a failure (on stdout as JSON with --json, else on stderr) and gives the exit status. */
export function failure(err: unknown, io: Io, command: string, json: boolean): number {
  if (!(err instanceof ApiError) && !(err instanceof ClientError)) throw err;
  const body =
    err instanceof ApiError
      ? err.toBody().error
      : { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  if (json) io.out(`${JSON.stringify({ error: body }, null, 2)}\n`);
  else {
    const lines = [`lvsd ${command}: ${body.message}`];
    if (err instanceof ApiError && err.extra.diagnostics)
      lines.push(...err.extra.diagnostics.map((d) => `  ${d}`));
    if (
      err instanceof ApiError &&
      err.extra.candidates &&
      !body.hint?.includes(err.extra.candidates[0] ?? '\u0000')
    )
      lines.push(`  candidates: ${err.extra.candidates.join(', ')}`);
    if (body.hint) lines.push(`  hint: ${body.hint}`);
    io.err(`${lines.join('\n')}\n`);
  }
  return exitFor(err);
}

export function exitFor(err: ApiError | ClientError): number {
  switch (err.code) {
    case 'NOT_RUNNING':
    case 'TIMEOUT':
      return controlExitCodes.notRunning;
    case 'PERMISSION_DENIED':
    case 'READ_ONLY_SOCKET':
      return controlExitCodes.denied;
    case 'INVALID_CONFIG':
      return exitCodes.cannotRun;
    case 'INTERNAL':
    case 'PROTOCOL':
      return exitCodes.internal;
    default:
      return controlExitCodes.refused;
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `2h`, `1h30m`, `500ms`, `1.5h`; a bare number is seconds. */
export function parseDuration(text: string, flag: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 0);
    end = re.lastIndex;
  }
  if (end === 0 || end !== t.length || total <= 0)
    throw new UsageError(
      `--${flag}: '${text}' is not a duration`,
      'write e.g. 90s, 30m, 2h, 1h30m',
    );
  return Math.round(total);
}

/** 3 ms, 42 s, 5m, 2h3m, 4d2h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  const d = Math.floor(h / 24);
  return `${d}d${h % 24 ? `${h % 24}h` : ''}`;
}

/** A wall-clock instant in a zone, `2026-03-29 03:00 CEST`. */
export function formatInstant(ms: number, timezone?: string): string {
  const f = new Intl.DateTimeFormat('en-CA', {
    ...(timezone ? { timeZone: timezone } : {}),
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p['year']}-${p['month']}-${p['day']} ${p['hour']}:${p['minute']} ${p['timeZoneName']}`;
}

/** Left-aligned columns. */
export function table(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) =>
      `${indent}${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd(),
    )
    .join('\n');
}

export function noPositionals(args: ParsedArgs, max: number, usage: string): void {
  if (args.positionals.length > max)
    throw new UsageError(`unexpected argument '${args.positionals[max] ?? ''}'`, usage);
}
