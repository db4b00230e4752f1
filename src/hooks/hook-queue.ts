/**
 * Which notify script runs next (pure policy; the runner does the I/O). keepalived starts a
 * transition's scripts at once and in any order (ruling 16); lvsd runs the scripts of one
 * subject — a VRRP instance, a sync group, a real server — one at a time in event order, so a
 * script never sees BACKUP after MASTER out of order. Subjects are independent and run side by
 * side up to a global cap, so one slow subject never delays another.
 *
 * Bounded: at most `maxPerSubject` waiting per subject (the oldest waiting run is dropped and
 * counted: the newest state is what matters to a notify script) and at most `maxSubjects`
 * subjects with waiting work (a new subject beyond it is refused and counted).
 */
export interface HookQueuePolicy {
  readonly maxConcurrent: number;
  readonly maxPerSubject: number;
  readonly maxSubjects: number;
}

export const DEFAULT_HOOK_QUEUE_POLICY: HookQueuePolicy = {
  maxConcurrent: 8,
  maxPerSubject: 32,
  maxSubjects: 4096,
};

export interface Queued<J> {
  readonly subject: string;
  readonly job: J;
}

export class HookQueue<J> {
  /** Subjects with waiting jobs, oldest turn first (round-robin across subjects). */
  private readonly waiting = new Map<string, J[]>();
  private readonly running = new Set<string>();
  dropped = 0;
  refused = 0;

  constructor(private readonly policy: HookQueuePolicy = DEFAULT_HOOK_QUEUE_POLICY) {}

  /** Adds a job; returns the job that was dropped to make room, if any. */
  push(subject: string, job: J): { dropped?: J; refused?: true } {
    let list = this.waiting.get(subject);
    if (list === undefined) {
      if (this.waiting.size >= this.policy.maxSubjects) {
        this.refused += 1;
        return { refused: true };
      }
      list = [];
      this.waiting.set(subject, list);
    }
    list.push(job);
    if (list.length > this.policy.maxPerSubject) {
      this.dropped += 1;
      const dropped = list.shift();
      return dropped === undefined ? {} : { dropped };
    }
    return {};
  }

  /** The jobs that may start now; each is marked running until `done(subject)`. */
  take(): Queued<J>[] {
    const out: Queued<J>[] = [];
    for (const [subject, list] of this.waiting) {
      if (this.running.size >= this.policy.maxConcurrent) break;
      if (this.running.has(subject)) continue;
      const job = list.shift();
      if (job === undefined) continue;
      // To the back of the line: a subject with a backlog must not starve the others.
      this.waiting.delete(subject);
      if (list.length > 0) this.waiting.set(subject, list);
      this.running.add(subject);
      out.push({ subject, job });
    }
    return out;
  }

  done(subject: string): void {
    this.running.delete(subject);
  }

  get runningCount(): number {
    return this.running.size;
  }

  get waitingCount(): number {
    let n = 0;
    for (const list of this.waiting.values()) n += list.length;
    return n;
  }
}
