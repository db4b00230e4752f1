/**
 * Tracking (keepalived vrrp_track.c semantics, pure): vrrp_script results through rise/fall,
 * and tracked interfaces, turned into an instance's effective priority or FAULT.
 *
 * For each tracked item with weight w (the track line's, else the script's), `reverse` flips
 * what counts as failing:
 *   w = 0  failing puts the instance in FAULT;
 *   w > 0  w is added while the item is fine;
 *   w < 0  w (negative) is added while the item is failing.
 * The result is clamped to 1..254; a priority-255 owner is never changed (the FSM enforces it).
 */

export interface ScriptCounter {
  /** OK or KO as keepalived reports it after rise/fall. */
  readonly ok: boolean;
  readonly successes: number;
  readonly failures: number;
}

/** A script starts OK unless `init_fail` (keepalived). */
export function initialScript(initFail: boolean): ScriptCounter {
  return { ok: !initFail, successes: 0, failures: 0 };
}

/** One run: KO after `fall` consecutive failures, OK after `rise` consecutive successes. */
export function stepScript(
  s: ScriptCounter,
  passed: boolean,
  rise: number,
  fall: number,
): ScriptCounter {
  if (passed) {
    const successes = Math.min(s.successes + 1, rise);
    return { ok: s.ok || successes >= rise, successes, failures: 0 };
  }
  const failures = Math.min(s.failures + 1, fall);
  return { ok: s.ok && failures < fall, successes: 0, failures };
}

export interface TrackedItem {
  readonly weight: number;
  readonly reverse: boolean;
  /** The script is OK / the interface is up. */
  readonly fine: boolean;
}

export function effectivePriority(
  base: number,
  items: readonly TrackedItem[],
): { priority: number; fault: boolean } {
  let priority = base;
  let fault = false;
  for (const it of items) {
    const failing = it.reverse ? it.fine : !it.fine;
    if (it.weight === 0) {
      if (failing) fault = true;
    } else if (it.weight > 0) {
      if (!failing) priority += it.weight;
    } else if (failing) priority += it.weight;
  }
  if (base === 255) return { priority: 255, fault };
  return { priority: Math.max(1, Math.min(254, priority)), fault };
}
