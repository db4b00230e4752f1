/**
 * Telling the segment that the VIPs moved: gratuitous ARP for IPv4, unsolicited neighbour
 * advertisements for IPv6, on each transition to MASTER.
 *
 * keepalived's semantics (vrrp.c `vrrp_state_become_master` and `vrrp_state_master_tx`, 2.2.x):
 * the new master sends its first advert, adds the VIPs, then at once sends `garp_master_repeat`
 * (default 5, at least 1) GARP/NA messages for every address; if `garp_master_delay` (default
 * 5 s; 0 = no second set) is set it schedules one more identical burst that much later.
 * `vrrp_garp_interval` / `vrrp_gna_interval` (default 0) space the messages of a burst. lvsd
 * spaces *rounds* (one message per address each) by the interval; with one VIP per interface,
 * the usual case, that is the same thing. A director that leaves MASTER before the second burst
 * cancels it: it no longer holds the addresses.
 *
 * `garpSchedule` is the pure part; `startAnnouncements` owns the timers; an Announcer port sends
 * one round (garp-arping.ts: arping + an NA helper; `RecordingAnnouncer` below: the twin).
 */

export const GARP_DEFAULTS = { delayMs: 5_000, repeat: 5, intervalMs: 0 } as const;

/**
 * Offsets in ms from the transition at which a round of GARP/NA goes out: `repeat` rounds from
 * 0, `intervalMs` apart, and if `delayMs > 0` another `repeat` rounds from `delayMs`. Sorted.
 * `repeat` below 1 is 1 (keepalived clamps it the same way).
 */
export function garpSchedule(delayMs: number, repeat: number, intervalMs = 0): number[] {
  const n = Math.max(1, Math.floor(Number.isFinite(repeat) ? repeat : 1));
  const step = Math.max(0, Number.isFinite(intervalMs) ? intervalMs : 0);
  const burst = (start: number): number[] => Array.from({ length: n }, (_, i) => start + i * step);
  const offsets = burst(0);
  if (Number.isFinite(delayMs) && delayMs > 0) offsets.push(...burst(delayMs));
  return offsets.sort((a, b) => a - b);
}

/** The addresses of one interface to announce. */
export interface AnnounceTarget {
  readonly dev: string;
  /** IPv4 and/or IPv6 addresses (canonical text); the announcer picks GARP or NA per family. */
  readonly addresses: readonly string[];
}

export interface RoundResult {
  readonly dev: string;
  readonly sent: readonly string[];
  /** Addresses whose message could not be sent, with why (never thrown: the takeover goes on). */
  readonly failed: readonly { address: string; reason: string }[];
}

/** Sends one GARP (IPv4) or one unsolicited NA (IPv6) for each address of `target`. */
export interface Announcer {
  announce(target: AnnounceTarget): Promise<RoundResult>;
}

/** The two timer calls the runner needs (a fake in tests). */
export interface AnnounceTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemAnnounceTimers: AnnounceTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => {
    clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};

export interface AnnouncementRun {
  /** Drops the rounds not yet sent (leaving MASTER); idempotent. */
  cancel(): void;
  /** Resolves with every round's results once the last round has run or the run was cancelled. */
  readonly done: Promise<RoundResult[]>;
}

/**
 * Runs the schedule: round k at `offsets[k]` ms sends every target once. Round 0 starts
 * synchronously (no timer), so the first GARP leaves as soon as the VIP is up.
 */
export function startAnnouncements(
  announcer: Announcer,
  targets: readonly AnnounceTarget[],
  offsets: readonly number[],
  timers: AnnounceTimers = systemAnnounceTimers,
): AnnouncementRun {
  const results: RoundResult[] = [];
  const pending = new Set<unknown>();
  const inFlight = new Set<Promise<void>>();
  let cancelled = false;
  let remaining = offsets.length;
  let finish: (r: RoundResult[]) => void = () => undefined;
  const done = new Promise<RoundResult[]>((resolve) => {
    finish = resolve;
  });
  const settleIfDone = (): void => {
    if ((remaining === 0 || cancelled) && inFlight.size === 0) finish(results);
  };
  const round = (): void => {
    remaining -= 1;
    if (cancelled) return;
    const p = Promise.all(
      targets.map((t) =>
        announcer.announce(t).catch((e: unknown): RoundResult => ({
          dev: t.dev,
          sent: [],
          failed: t.addresses.map((address) => ({
            address,
            reason: e instanceof Error ? e.message : String(e),
          })),
        })),
      ),
    ).then((rs) => {
      results.push(...rs);
    });
    inFlight.add(p);
    void p.finally(() => {
      inFlight.delete(p);
      settleIfDone();
    });
  };
  for (const at of offsets) {
    if (at <= 0) {
      round();
      continue;
    }
    const handle = timers.setTimeout(() => {
      pending.delete(handle);
      round();
      settleIfDone();
    }, at);
    pending.add(handle);
  }
  settleIfDone();
  return {
    cancel: () => {
      if (cancelled) return;
      cancelled = true;
      for (const h of pending) timers.clearTimeout(h);
      pending.clear();
      settleIfDone();
    },
    done,
  };
}

/** One recorded round of the twin. */
export interface RecordedRound {
  readonly atMs: number;
  readonly dev: string;
  readonly addresses: readonly string[];
}

/** The twin: records what would have been sent, and when (from the clock it is given). */
export class RecordingAnnouncer implements Announcer {
  readonly rounds: RecordedRound[] = [];
  constructor(private readonly now: () => number = () => 0) {}
  announce(target: AnnounceTarget): Promise<RoundResult> {
    this.rounds.push({ atMs: this.now(), dev: target.dev, addresses: [...target.addresses] });
    return Promise.resolve({ dev: target.dev, sent: [...target.addresses], failed: [] });
  }
}
