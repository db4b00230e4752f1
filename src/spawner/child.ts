/**
 * The spawner process (dist/spawner.mjs): starts scripts and tools (ip, ipvsadm, arping) for
 * the daemon.
 *
 * Why a process of its own: starting a child copies the parent's page tables, and the daemon at
 * 1,000 real servers is a 200+ MiB process, so each spawn blocked its event loop ~5 ms
 * (bench/hooks-storm). This process holds nothing but the runner, so its forks are cheap and,
 * above all, happen off the daemon's event loop. The rules for running a script stay those of
 * MISC_CHECK's runner (probeMisc: no shell, own process group, timeout kill, capped output,
 * script_user, script security), which runs here unchanged.
 *
 * Life cycle: it lives exactly as long as its stdin. When the daemon exits or dies (even by
 * SIGKILL) the pipe closes, and the spawner cancels what runs (each script's process group is
 * killed by the runner) and exits. Signals sent to the whole terminal or service group are
 * ignored: whether scripts run on (notify_stop during a shutdown) is the daemon's decision.
 */
import { CancelToken } from '../health/cancel.js';
import { probeMisc } from '../health/checkers/misc.js';
import type { ProbeResult } from '../health/result.js';
import { execDirect } from '../lib/exec.js';
import {
  decodeRequest,
  encodeReply,
  LineSplitter,
  type SpawnerReply,
  type SpawnerRequest,
  WIRE_VERSION,
} from './wire.js';

/** After stdin closed, scripts get this long to be killed and reaped before we just exit. */
const SHUTDOWN_MS = 5000;

const running = new Map<number, CancelToken>();
let pendingTools = 0;
let closing = false;

function send(reply: SpawnerReply): void {
  if (!process.stdout.writable) return;
  process.stdout.write(encodeReply(reply));
}

function complain(message: string): void {
  process.stderr.write(`lvsd spawner: ${message.slice(0, 500)}\n`);
}

function refused(why: string): ProbeResult {
  return {
    ok: false,
    code: 'spawn',
    reason: `spawner refused the request: ${why}`,
    latencyMs: 0,
  };
}

function handle(req: SpawnerRequest): void {
  if (req.op === 'cancel') {
    running.get(req.id)?.abort('cancelled by the daemon');
    return;
  }
  if (closing) return;
  if (req.op === 'exec') {
    // Bounded by the request's own timeout; a tool run is not cancelled, only awaited.
    pendingTools++;
    void execDirect(req.exec).then((outcome) => {
      pendingTools--;
      send({ kind: 'exec', id: req.id, outcome });
      if (closing && running.size === 0 && pendingTools === 0) process.exit(0);
    });
    return;
  }
  const token = new CancelToken();
  running.set(req.id, token);
  void probeMisc(req.target, token).then((result) => {
    running.delete(req.id);
    send({ kind: 'result', id: req.id, result });
    if (closing && running.size === 0 && pendingTools === 0) process.exit(0);
  });
}

function shutdown(): void {
  if (closing) return;
  closing = true;
  if (running.size === 0 && pendingTools === 0) process.exit(0);
  for (const token of running.values()) token.abort('the daemon went away');
  setTimeout(() => process.exit(0), SHUTDOWN_MS).unref();
}

export function main(): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) {
    process.on(sig, () => undefined);
  }
  const lines = new LineSplitter();
  let overflows = 0;
  process.stdin.on('data', (chunk: Buffer) => {
    for (const line of lines.push(chunk)) {
      const d = decodeRequest(line);
      if (d.ok) handle(d.value);
      else if (d.id !== undefined) send({ kind: 'result', id: d.id, result: refused(d.why) });
      else complain(`dropped a request: ${d.why}`);
    }
    if (lines.overflows > overflows) {
      overflows = lines.overflows;
      complain('dropped an over-long request line');
    }
  });
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  // EPIPE: the daemon is gone; its end of stdin closes too, which ends us.
  process.stdout.on('error', shutdown);
  send({ kind: 'hello', pid: process.pid, version: WIRE_VERSION });
}

main();
