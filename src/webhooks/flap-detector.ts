/**
 * Flap suppression. A subject (a real server, a VRRP instance) that changes state `threshold`
 * times within `windowMs` is reported once as flapping; its further changes are held back
 * until it has been quiet for `windowMs`, and then one "stable" notice says where it ended.
 * Pure: `now` is an argument. Bounded: at most `threshold` timestamps per subject and at most
 * `maxSubjects` subjects (the least recently changed are forgotten first).
 */
export interface FlapPolicy {
  readonly threshold: number;
  readonly windowMs: number;
  readonly maxSubjects: number;
}

export const DEFAULT_FLAP_POLICY: FlapPolicy = {
  threshold: 5,
  windowMs: 60_000,
  maxSubjects: 20_000,
};

export type FlapVerdict =
  /** Report the change as usual. */
  | { readonly kind: 'pass' }
  /** This change made it a flapper: report one "flapping" notice instead of the change. */
  | { readonly kind: 'started'; readonly changes: number }
  /** Already flapping: hold the change back. */
  | { readonly kind: 'suppressed' };

export interface FlapEnded {
  readonly subject: string;
  /** Changes held back while it flapped. */
  readonly suppressed: number;
  /** The last state reported to the detector. */
  readonly lastState: string;
}

interface SubjectRecord {
  changes: number[];
  flapping: boolean;
  suppressed: number;
  lastState: string;
  lastAt: number;
}

export class FlapDetector {
  private readonly subjects = new Map<string, SubjectRecord>();

  constructor(private readonly policy: FlapPolicy = DEFAULT_FLAP_POLICY) {}

  /** One state change of `subject` at `now`. */
  change(subject: string, state: string, now: number): FlapVerdict {
    let rec = this.subjects.get(subject);
    if (rec === undefined) {
      rec = { changes: [], flapping: false, suppressed: 0, lastState: state, lastAt: now };
      if (this.subjects.size >= this.policy.maxSubjects) {
        const oldest = this.subjects.keys().next().value;
        if (oldest !== undefined) this.subjects.delete(oldest);
      }
    } else this.subjects.delete(subject); // re-insert: the map is kept in last-change order
    this.subjects.set(subject, rec);
    rec.lastState = state;
    rec.lastAt = now;
    const since = now - this.policy.windowMs;
    rec.changes = rec.changes.filter((t) => t > since);
    rec.changes.push(now);
    if (rec.changes.length > this.policy.threshold) rec.changes.shift();
    if (rec.flapping) {
      rec.suppressed += 1;
      return { kind: 'suppressed' };
    }
    if (rec.changes.length >= this.policy.threshold) {
      rec.flapping = true;
      return { kind: 'started', changes: rec.changes.length };
    }
    return { kind: 'pass' };
  }

  /** Flappers quiet for a whole window at `now`: they are reported stable and forgotten. */
  settle(now: number): FlapEnded[] {
    const ended: FlapEnded[] = [];
    for (const [subject, rec] of this.subjects) {
      // Kept in last-change order: the first one still too recent ends the scan.
      if (now - rec.lastAt < this.policy.windowMs) break;
      this.subjects.delete(subject);
      if (rec.flapping)
        ended.push({ subject, suppressed: rec.suppressed, lastState: rec.lastState });
    }
    return ended;
  }

  /** When `settle` next has something to do, if anything. */
  nextSettleAt(): number | undefined {
    for (const rec of this.subjects.values()) return rec.lastAt + this.policy.windowMs;
    return undefined;
  }

  get tracked(): number {
    return this.subjects.size;
  }
}
