/**
 * systemd's service notifications (sd_notify(3)) and watchdog (sd_watchdog_enabled(3)) for
 * `lvsd run` under `Type=notify` + `WatchdogSec=`.
 *
 * Why a child process: the notification socket is a unix *datagram* socket and Node has none
 * (node:dgram is UDP only, node:net is stream only). So each notification is one run of
 * systemd's own `systemd-notify` binary, with the unit's `NotifyAccess=all` (the sender is a
 * child, not the main PID). systemd-notify (since systemd 246) waits on a BARRIER=1 until
 * systemd has processed the message, so it is still alive when systemd looks up which unit sent
 * it: the classic "systemd-notify exited too early and the message was dropped" race is gone.
 * A ping every WATCHDOG_USEC/2 (5 s with WatchdogSec=10) is one short process: negligible.
 *
 * What the watchdog proves: the ping is sent from Node's event loop, and only while a progress
 * predicate the daemon supplies holds (health-check results keep arriving, see ProgressMeter).
 * A blocked event loop sends nothing; a scheduler whose concurrency slots are all held by probes
 * that never settle delivers no results, the predicate fails and the pings stop. Either way
 * systemd kills and (Restart=on-failure) restarts lvsd after WatchdogSec.
 *
 * The decision part (what to send when) is pure and tested alone; the driver owns the timer
 * and the port. Without NOTIFY_SOCKET (not under systemd, or Type=simple) everything is a no-op.
 */
import { execFile } from 'node:child_process';
import type { Config } from '../config/index.js';
import type { TimerHandle, TimerPort } from '../health/timer-port.js';
import type { Clock } from '../lib/clock.js';
import { runTimeoutMs } from './probes.js';

/** What systemd told this process through the environment. */
export interface NotifySettings {
  /** NOTIFY_SOCKET: a path, or an abstract socket name starting with '@'. */
  readonly socket: string;
  /** How often to ping, or undefined when systemd asked for no watchdog (or for another PID). */
  readonly pingEveryMs: number | undefined;
}

/**
 * Reads NOTIFY_SOCKET / WATCHDOG_USEC / WATCHDOG_PID as sd_watchdog_enabled(3) does. The ping
 * period is half of WatchdogSec, the interval systemd's documentation recommends, so one late
 * ping (a GC pause, a slow fork) does not get lvsd killed.
 */
export function notifySettings(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): NotifySettings | undefined {
  const socket = env['NOTIFY_SOCKET'];
  if (socket === undefined || socket === '') return undefined;
  return { socket, pingEveryMs: pingPeriodMs(env, pid) };
}

function pingPeriodMs(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): number | undefined {
  const usecText = env['WATCHDOG_USEC'];
  if (usecText === undefined || !/^\d+$/.test(usecText)) return undefined;
  const usec = Number(usecText);
  if (!(usec > 0)) return undefined;
  // WATCHDOG_PID names the process the watchdog is for; a child that inherited it is not it.
  const forPid = env['WATCHDOG_PID'];
  if (forPid !== undefined && forPid !== '' && Number(forPid) !== pid) return undefined;
  // Never faster than every 50 ms: a WatchdogSec below 100 ms is a misconfiguration, not a
  // reason to fork continuously.
  return Math.max(50, Math.floor(usec / 2000));
}

/** The daemon's answer to "is it making progress?". */
export type Progress = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The state the decision function needs: what was sent last. */
export interface NotifyState {
  readonly readySent: boolean;
  readonly stoppingSent: boolean;
  /** The reason of the stall last reported in STATUS=, undefined when none is reported. */
  readonly stalledReason: string | undefined;
}

export const initialNotifyState: NotifyState = {
  readySent: false,
  stoppingSent: false,
  stalledReason: undefined,
};

export type NotifyEvent =
  | { readonly kind: 'ready'; readonly status: string }
  | { readonly kind: 'tick'; readonly progress: Progress }
  | { readonly kind: 'stopping' };

export interface NotifyDecision {
  /** The fields of one notification (VAR=VALUE), empty: send nothing. */
  readonly fields: readonly string[];
  readonly state: NotifyState;
}

/**
 * What to send for an event (pure). READY=1 once; WATCHDOG=1 on a tick only after READY and
 * only while progress holds; STATUS= says why pings stopped (visible in `systemctl status`
 * before systemd's kill) and is cleared when progress returns; after STOPPING=1 nothing more,
 * so a slow stop is bounded by TimeoutStopSec, not kept alive by pings.
 */
export function decideNotify(state: NotifyState, event: NotifyEvent): NotifyDecision {
  if (state.stoppingSent) return { fields: [], state };
  switch (event.kind) {
    case 'ready':
      if (state.readySent) return { fields: [], state };
      return {
        fields: ['READY=1', `STATUS=${oneLine(event.status)}`],
        state: { ...state, readySent: true },
      };
    case 'stopping':
      return {
        fields: ['STOPPING=1', 'STATUS=stopping'],
        state: { ...state, stoppingSent: true },
      };
    case 'tick': {
      if (!state.readySent) return { fields: [], state };
      const p = event.progress;
      if (p.ok) {
        const fields =
          state.stalledReason === undefined
            ? ['WATCHDOG=1']
            : ['WATCHDOG=1', 'STATUS=running: progress resumed'];
        return { fields, state: { ...state, stalledReason: undefined } };
      }
      if (state.stalledReason === p.reason) return { fields: [], state };
      return {
        fields: [`STATUS=stalled, watchdog pings withheld: ${oneLine(p.reason)}`],
        state: { ...state, stalledReason: p.reason },
      };
    }
  }
}

/** A STATUS= value is one line of the datagram: a newline would start a new field. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/**
 * Whether health checking is making progress (pure): true when no check is configured (there
 * is nothing to wait for; the ping itself proves the event loop runs), else when a check
 * result arrived within `windowMs` of now, counting from `sinceMs` (start, or the last reload
 * that brought the first checks) until the first result.
 */
export function progressVerdict(
  facts: {
    readonly windowMs: number | undefined;
    readonly lastBeatMs: number | undefined;
    readonly sinceMs: number;
  },
  nowMs: number,
): Progress {
  if (facts.windowMs === undefined) return { ok: true };
  const last = Math.max(facts.lastBeatMs ?? -Infinity, facts.sinceMs);
  const quietMs = nowMs - last;
  if (quietMs <= facts.windowMs) return { ok: true };
  return {
    ok: false,
    reason: `no health-check result for ${Math.round(quietMs / 1000)} s (bound ${Math.round(facts.windowMs / 1000)} s)`,
  };
}

/**
 * Slack added to the longest check cycle: scheduler ticks (≤ 100 ms), queueing behind
 * check_concurrency and timer jitter must never look like a stall.
 */
export const PROGRESS_SLACK_MS = 5000;

/**
 * The longest a healthy scheduler goes without delivering any result, or undefined when the
 * configuration has no checks. Every check delivers one result per cycle of at most
 * max(delay_loop, delay_before_retry, warmup) + its run timeout, so with at least one check the
 * gap between results is below the longest such cycle; the bound is deliberately the longest
 * (not the shortest) so that a slow but legal configuration is never killed.
 */
export function progressWindowMs(config: Config): number | undefined {
  let longest: number | undefined;
  for (const vs of config.virtualServers)
    for (const rs of vs.realServers)
      for (const c of rs.checks) {
        const cycle =
          Math.max(c.health.delayLoopMs, c.health.delayBeforeRetryMs, c.health.warmupMs) +
          runTimeoutMs(c);
        longest = Math.max(longest ?? 0, cycle);
      }
  return longest === undefined ? undefined : longest + PROGRESS_SLACK_MS;
}

/**
 * The daemon's progress predicate: `beat()` on every check result (the scheduler's onResult),
 * `check()` for the watchdog. `window` is asked each time, so a reload that adds the first
 * checks or lengthens an interval is seen at once.
 */
export class ProgressMeter {
  private lastBeatMs: number | undefined;
  private sinceMs: number;
  private hadWindow = false;

  constructor(
    private readonly clock: Clock,
    private readonly window: () => number | undefined,
  ) {
    this.sinceMs = clock.monotonicMs();
  }

  /** `nowMs`: the monotonic time of the result, when the caller has already read it. */
  beat(nowMs: number = this.clock.monotonicMs()): void {
    this.lastBeatMs = nowMs;
  }

  check(): Progress {
    const now = this.clock.monotonicMs();
    const windowMs = this.window();
    // Checks appearing (first start or a reload from none) restart the count: their first
    // results are up to one warmup away, and the quiet time before them was legitimate.
    if (windowMs !== undefined && !this.hadWindow) this.sinceMs = now;
    this.hadWindow = windowMs !== undefined;
    return progressVerdict({ windowMs, lastBeatMs: this.lastBeatMs, sinceMs: this.sinceMs }, now);
  }
}

/** Sends one notification; rejects when it could not be delivered. */
export interface NotifyPort {
  send(fields: readonly string[]): Promise<void>;
}

export type ExecFileFn = (
  file: string,
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly timeout: number },
) => Promise<void>;

const execFilePromise: ExecFileFn = (file, args, options) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { ...options, windowsHide: true }, (err) => {
      if (err) reject(err instanceof Error ? err : new Error(err.message));
      else resolve();
    });
  });

/**
 * The real port: `systemd-notify VAR=VALUE...` with NOTIFY_SOCKET set for it alone. The
 * timeout bounds a systemd that does not answer the barrier (it would otherwise pile up
 * children); PATH is passed so the binary is found where the unit's PATH says.
 */
export function systemdNotifyPort(
  socket: string,
  options: {
    readonly binary?: string;
    readonly timeoutMs?: number;
    readonly path?: string;
    readonly exec?: ExecFileFn;
  } = {},
): NotifyPort {
  const exec = options.exec ?? execFilePromise;
  const env: NodeJS.ProcessEnv = {
    NOTIFY_SOCKET: socket,
    PATH: options.path ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  };
  return {
    send: (fields) =>
      exec(options.binary ?? 'systemd-notify', fields, {
        env,
        timeout: options.timeoutMs ?? 3000,
      }),
  };
}

export interface WatchdogOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly pid: number;
  readonly timers: TimerPort;
  /** The daemon's progress predicate (ProgressMeter.check, or "ok" before the daemon is up). */
  readonly progress: () => Progress;
  /** Default: systemdNotifyPort(NOTIFY_SOCKET). */
  readonly port?: NotifyPort;
  /** A notification that could not be sent (logged by the caller; lvsd keeps running). */
  readonly onError?: (err: unknown) => void;
}

/**
 * The driver: applies decideNotify to ready/tick/stopping and sends what it returns, one
 * notification at a time and in order (a ping that is still being sent when the next tick comes
 * is not doubled: the tick is skipped, which is what a stalled sender deserves).
 */
export class Watchdog {
  private state: NotifyState = initialNotifyState;
  private timer: TimerHandle = undefined;
  private sending: Promise<void> = Promise.resolve();
  private inFlight = false;
  private closed = false;

  private constructor(
    private readonly opts: WatchdogOptions,
    private readonly port: NotifyPort | undefined,
    /** Undefined: no watchdog requested (notifications only, or nothing at all). */
    readonly pingEveryMs: number | undefined,
  ) {}

  /** A watchdog for this process's environment; a no-op without NOTIFY_SOCKET. */
  static create(opts: WatchdogOptions): Watchdog {
    const settings = notifySettings(opts.env, opts.pid);
    if (!settings) return new Watchdog(opts, undefined, undefined);
    return new Watchdog(
      opts,
      opts.port ?? systemdNotifyPort(settings.socket),
      settings.pingEveryMs,
    );
  }

  /** True when running under systemd's notify protocol. */
  get enabled(): boolean {
    return this.port !== undefined;
  }

  /** READY=1 (once the daemon has started), then pings every pingEveryMs while progress holds. */
  ready(status = 'running'): Promise<void> {
    const sent = this.apply({ kind: 'ready', status });
    this.arm();
    return sent;
  }

  /** STOPPING=1; no pings after it. */
  stopping(): Promise<void> {
    this.disarm();
    return this.apply({ kind: 'stopping' });
  }

  /** Stops the timer and waits for a notification still being sent. */
  async close(): Promise<void> {
    this.closed = true;
    this.disarm();
    await this.sending;
  }

  /** One tick, as the timer runs it (exported for tests that drive it by hand). */
  tick(): Promise<void> {
    if (this.inFlight) return this.sending;
    return this.apply({ kind: 'tick', progress: this.opts.progress() });
  }

  private arm(): void {
    if (this.port === undefined || this.pingEveryMs === undefined || this.closed) return;
    if (this.state.stoppingSent || this.timer !== undefined) return;
    this.timer = this.opts.timers.setTimeout(() => {
      this.timer = undefined;
      void this.tick();
      this.arm();
    }, this.pingEveryMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.opts.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private apply(event: NotifyEvent): Promise<void> {
    const port = this.port;
    if (port === undefined) return Promise.resolve();
    const decision = decideNotify(this.state, event);
    this.state = decision.state;
    if (decision.fields.length === 0) return this.sending;
    const fields = decision.fields;
    // Chained: READY must reach systemd before the first WATCHDOG, STOPPING after the last.
    this.sending = this.sending.then(async () => {
      this.inFlight = true;
      try {
        await port.send(fields);
      } catch (err) {
        this.opts.onError?.(err);
      } finally {
        this.inFlight = false;
      }
    });
    return this.sending;
  }
}
