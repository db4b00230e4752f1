/**
 * The spawner's wire format: newline-delimited JSON over the child's stdin (requests) and
 * stdout (replies). Pure: encoding, decoding with full validation, and a bounded line splitter.
 *
 * Both directions are checked although both ends are lvsd: a reply is the only thing that can
 * put an exit status on a real server, so a truncated or corrupted line must become a clear
 * failure, never a guessed result. A line longer than the cap is dropped whole (its tail is
 * skipped up to the next newline), so a runaway writer cannot grow the reader's memory.
 */
import type { MiscCheckTarget } from '../health/checkers/misc.js';
import type { ExecOutcome, ExecRequest } from '../lib/exec.js';
import type { ProbeCode, ProbeDetail, ProbeResult } from '../health/result.js';

/**
 * A tool's output may be large (`ipvsadm -Sn` of 10,000 real servers is ~0.6 MB, the callers
 * cap a stream at 32 MiB), and a line holds both streams, escaped: the cap leaves room for that.
 */
export const MAX_TOOL_OUTPUT_BYTES = 32 * 1024 * 1024;
export const MAX_LINE_BYTES = 3 * MAX_TOOL_OUTPUT_BYTES;

/**
 * The wire's version, in the hello. A package upgrade replaces spawner.mjs under a running
 * daemon; a spawner restarted then may speak a newer wire, and the daemon must notice.
 */
export const WIRE_VERSION = 1;

export type SpawnerRequest =
  | { readonly id: number; readonly op: 'script'; readonly target: MiscCheckTarget }
  | { readonly id: number; readonly op: 'exec'; readonly exec: ExecRequest }
  | { readonly id: number; readonly op: 'cancel' };

export type SpawnerReply =
  /** The child is up and reading: requests sent from now on may have started when it dies. */
  | { readonly kind: 'hello'; readonly pid: number; readonly version: number }
  | { readonly kind: 'result'; readonly id: number; readonly result: ProbeResult }
  | { readonly kind: 'exec'; readonly id: number; readonly outcome: ExecOutcome };

export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly why: string; readonly id?: number };

/** The codes a script run can end with (misc.ts); anything else on the wire is corruption. */
const SCRIPT_CODES: ReadonlySet<ProbeCode> = new Set<ProbeCode>([
  'ok',
  'exit',
  'timeout',
  'spawn',
  'insecure',
  'killed',
  'aborted',
  'io',
]);

export function encodeRequest(r: SpawnerRequest): string {
  return `${JSON.stringify(r)}\n`;
}

export function encodeReply(r: SpawnerReply): string {
  return `${JSON.stringify(r)}\n`;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parse(line: string): Json | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  return isObject(v) ? v : 'not a JSON object';
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isCount(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= max;
}

const DAY_MS = 86_400_000;
const MAX_ARGS = 4096;

function isUser(v: unknown): v is string | number {
  return (typeof v === 'string' && v.length > 0 && v.length <= 256) || isId(v);
}

function isEnv(v: unknown): v is Record<string, string> {
  return isObject(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** Rebuilds the target from known fields only: nothing unchecked reaches execa. */
function target(v: unknown): MiscCheckTarget | string {
  if (!isObject(v)) return 'target is not an object';
  const argv = v.argv;
  if (!Array.isArray(argv) || argv.length === 0 || argv.length > MAX_ARGS)
    return 'argv must be a non-empty list';
  if (!argv.every((a): a is string => typeof a === 'string')) return 'argv must be strings';
  if (!isCount(v.timeoutMs, DAY_MS) || v.timeoutMs === 0) return 'timeoutMs out of range';
  if (typeof v.dynamic !== 'boolean') return 'dynamic must be a boolean';
  const t: { -readonly [K in keyof MiscCheckTarget]: MiscCheckTarget[K] } = {
    argv,
    timeoutMs: v.timeoutMs,
    dynamic: v.dynamic,
  };
  if (v.user !== undefined) {
    if (!isUser(v.user)) return 'bad user';
    t.user = v.user;
  }
  if (v.group !== undefined) {
    if (!isUser(v.group)) return 'bad group';
    t.group = v.group;
  }
  if (v.maxOutputBytes !== undefined) {
    if (!isCount(v.maxOutputBytes, MAX_LINE_BYTES / 8)) return 'maxOutputBytes out of range';
    t.maxOutputBytes = v.maxOutputBytes;
  }
  if (v.scriptSecurity !== undefined) {
    if (typeof v.scriptSecurity !== 'boolean') return 'scriptSecurity must be a boolean';
    t.scriptSecurity = v.scriptSecurity;
  }
  if (v.killGraceMs !== undefined) {
    if (!isCount(v.killGraceMs, 60_000)) return 'killGraceMs out of range';
    t.killGraceMs = v.killGraceMs;
  }
  if (v.cwd !== undefined) {
    if (typeof v.cwd !== 'string' || v.cwd === '') return 'bad cwd';
    t.cwd = v.cwd;
  }
  if (v.env !== undefined) {
    if (!isEnv(v.env)) return 'env must map names to strings';
    t.env = v.env;
  }
  return t;
}

function execRequest(v: unknown): ExecRequest | string {
  if (!isObject(v)) return 'exec is not an object';
  if (typeof v.file !== 'string' || v.file === '') return 'exec needs a file';
  const args = v.args;
  if (!Array.isArray(args) || args.length > MAX_ARGS) return 'args must be a list';
  if (!args.every((a): a is string => typeof a === 'string')) return 'args must be strings';
  if (!isCount(v.timeoutMs, DAY_MS) || v.timeoutMs === 0) return 'timeoutMs out of range';
  if (!isCount(v.maxBufferBytes, MAX_TOOL_OUTPUT_BYTES) || v.maxBufferBytes === 0)
    return 'maxBufferBytes out of range';
  const q: { -readonly [K in keyof ExecRequest]: ExecRequest[K] } = {
    file: v.file,
    args,
    timeoutMs: v.timeoutMs,
    maxBufferBytes: v.maxBufferBytes,
  };
  if (v.input !== undefined) {
    if (typeof v.input !== 'string') return 'input must be a string';
    q.input = v.input;
  }
  if (v.env !== undefined) {
    if (!isEnv(v.env)) return 'env must map names to strings';
    q.env = v.env;
  }
  if (v.stripFinalNewline !== undefined) {
    if (typeof v.stripFinalNewline !== 'boolean') return 'stripFinalNewline must be a boolean';
    q.stripFinalNewline = v.stripFinalNewline;
  }
  return q;
}

export function decodeRequest(line: string): Decoded<SpawnerRequest> {
  const o = parse(line);
  if (typeof o === 'string') return { ok: false, why: o };
  if (!isId(o.id)) return { ok: false, why: 'missing id' };
  const id = o.id;
  if (o.op === 'cancel') return { ok: true, value: { id, op: 'cancel' } };
  if (o.op === 'exec') {
    const q = execRequest(o.exec);
    if (typeof q === 'string') return { ok: false, why: q, id };
    return { ok: true, value: { id, op: 'exec', exec: q } };
  }
  if (o.op !== 'script') return { ok: false, why: `unknown op ${String(o.op)}`, id };
  const t = target(o.target);
  if (typeof t === 'string') return { ok: false, why: t, id };
  return { ok: true, value: { id, op: 'script', target: t } };
}

function detail(v: unknown): ProbeDetail | string {
  if (!isObject(v)) return 'detail is not an object';
  const d: { -readonly [K in keyof ProbeDetail]: ProbeDetail[K] } = {};
  if (v.exitCode !== undefined) {
    if (!isCount(v.exitCode, 255) || !Number.isInteger(v.exitCode)) return 'bad exitCode';
    d.exitCode = v.exitCode;
  }
  for (const k of ['signal', 'errno', 'output'] as const) {
    const x = v[k];
    if (x === undefined) continue;
    if (typeof x !== 'string') return `bad ${k}`;
    d[k] = x;
  }
  for (const k of ['capturedBytes', 'totalOutputBytes'] as const) {
    const x = v[k];
    if (x === undefined) continue;
    if (!isCount(x, Number.MAX_SAFE_INTEGER)) return `bad ${k}`;
    d[k] = x;
  }
  return d;
}

function probeResult(v: unknown): ProbeResult | string {
  if (!isObject(v)) return 'result is not an object';
  const code = v.code as ProbeCode;
  if (typeof v.code !== 'string' || !SCRIPT_CODES.has(code)) return 'unknown result code';
  if (v.ok !== (code === 'ok')) return 'ok does not match code';
  if (typeof v.reason !== 'string') return 'missing reason';
  if (!isCount(v.latencyMs, DAY_MS * 2)) return 'bad latencyMs';
  const r: { -readonly [K in keyof ProbeResult]: ProbeResult[K] } = {
    ok: code === 'ok',
    code,
    reason: v.reason,
    latencyMs: v.latencyMs,
  };
  if (v.weight !== undefined) {
    // misc_dynamic: exit status 2..255 → weight 0..253
    if (!isCount(v.weight, 253) || !Number.isInteger(v.weight)) return 'bad weight';
    r.weight = v.weight;
  }
  if (v.detail !== undefined) {
    const d = detail(v.detail);
    if (typeof d === 'string') return d;
    r.detail = d;
  }
  return r;
}

function execOutcome(v: unknown): ExecOutcome | string {
  if (!isObject(v)) return 'outcome is not an object';
  if (typeof v.stdout !== 'string' || typeof v.stderr !== 'string') return 'missing output';
  if (typeof v.timedOut !== 'boolean' || typeof v.overflow !== 'boolean') return 'missing flags';
  const o: { -readonly [K in keyof ExecOutcome]: ExecOutcome[K] } = {
    stdout: v.stdout,
    stderr: v.stderr,
    timedOut: v.timedOut,
    overflow: v.overflow,
  };
  if (v.exitCode !== undefined) {
    if (!isCount(v.exitCode, 255) || !Number.isInteger(v.exitCode)) return 'bad exitCode';
    o.exitCode = v.exitCode;
  }
  for (const k of ['signal', 'errno'] as const) {
    const x = v[k];
    if (x === undefined) continue;
    if (typeof x !== 'string') return `bad ${k}`;
    o[k] = x;
  }
  return o;
}

export function decodeReply(line: string): Decoded<SpawnerReply> {
  const o = parse(line);
  if (typeof o === 'string') return { ok: false, why: o };
  if (o.kind === 'hello') {
    if (!isId(o.pid)) return { ok: false, why: 'hello without pid' };
    if (!isId(o.version)) return { ok: false, why: 'hello without version' };
    return { ok: true, value: { kind: 'hello', pid: o.pid, version: o.version } };
  }
  if (o.kind !== 'result' && o.kind !== 'exec')
    return { ok: false, why: `unknown reply kind ${String(o.kind)}` };
  if (!isId(o.id)) return { ok: false, why: 'missing id' };
  if (o.kind === 'exec') {
    const x = execOutcome(o.outcome);
    if (typeof x === 'string') return { ok: false, why: x, id: o.id };
    return { ok: true, value: { kind: 'exec', id: o.id, outcome: x } };
  }
  const r = probeResult(o.result);
  if (typeof r === 'string') return { ok: false, why: r, id: o.id };
  return { ok: true, value: { kind: 'result', id: o.id, result: r } };
}

/**
 * Splits a byte stream into lines of at most `maxBytes` (newline excluded). An over-long line
 * is counted in `overflows` and skipped up to its newline; empty lines are skipped; partial
 * input waits for more.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private skipping = false;
  overflows = 0;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      const end = nl < 0 ? chunk.length : nl;
      if (!this.skipping) {
        const piece = chunk.subarray(from, end);
        if (this.size + piece.length > this.maxBytes) {
          this.overflows++;
          this.skipping = true;
          this.parts = [];
          this.size = 0;
        } else if (piece.length > 0) {
          this.parts.push(piece);
          this.size += piece.length;
        }
      }
      if (nl < 0) break;
      if (!this.skipping && this.size > 0) {
        lines.push(Buffer.concat(this.parts, this.size).toString('utf8'));
      }
      this.parts = [];
      this.size = 0;
      this.skipping = false;
      from = nl + 1;
    }
    // Keep our own copy of a partial line: the stream may reuse its buffer.
    if (this.parts.length > 0) this.parts = [Buffer.from(Buffer.concat(this.parts, this.size))];
    return lines;
  }
}
