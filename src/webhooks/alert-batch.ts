/**
 * Grouping: events that arrive within `windowMs` of the first one go out as one alert, so an
 * incident that downs 50 real servers is one POST listing all 50, not 50 POSTs. The window is
 * fixed from its first event (not sliding), so a storm cannot postpone an alert forever; a
 * batch that reaches `maxEvents` goes at once. Pure: `now` is an argument.
 */
import type { AnyEvent, EventName } from '../lib/events.js';

export interface GroupingPolicy {
  readonly windowMs: number;
  readonly maxEvents: number;
  /** Full events listed in one alert; the groups still count every event. */
  readonly maxListedEvents: number;
  /** Subjects listed per group. */
  readonly maxListedSubjects: number;
}

export const DEFAULT_GROUPING_POLICY: GroupingPolicy = {
  windowMs: 2000,
  maxEvents: 5000,
  maxListedEvents: 200,
  maxListedSubjects: 1000,
};

export type FlapNotice =
  | {
      readonly subject: string;
      readonly state: 'flapping';
      readonly changes: number;
      readonly windowMs: number;
    }
  | {
      readonly subject: string;
      readonly state: 'stable';
      readonly suppressed: number;
      readonly lastState: string;
    };

export interface AlertGroup {
  readonly name: EventName;
  readonly count: number;
  readonly subjects: readonly string[];
  /** Subjects counted but not listed (over maxListedSubjects). */
  readonly more: number;
}

/** What one alert says, before the envelope (id, endpoint, time) is added by the sender. */
export interface AlertContent {
  readonly summary: string;
  readonly groups: readonly AlertGroup[];
  readonly flapping: readonly FlapNotice[];
  readonly events: readonly AnyEvent[];
  /** Events counted in the groups but not listed in full. */
  readonly omittedEvents: number;
  /** Sequence range covered, so a receiver can see gaps. */
  readonly firstSeq: number;
  readonly lastSeq: number;
}

interface GroupAcc {
  count: number;
  subjects: string[];
  seen: Set<string>;
  more: number;
}

export class AlertBatcher {
  private openedAt: number | undefined;
  private events: AnyEvent[] = [];
  private count = 0;
  private groups = new Map<EventName, GroupAcc>();
  private notices: FlapNotice[] = [];
  private firstSeq = 0;
  private lastSeq = 0;

  constructor(private readonly policy: GroupingPolicy = DEFAULT_GROUPING_POLICY) {}

  add(event: AnyEvent, now: number): void {
    this.open(now);
    if (this.count === 0 || event.seq < this.firstSeq) this.firstSeq = event.seq;
    this.lastSeq = Math.max(this.lastSeq, event.seq);
    this.count += 1;
    if (this.events.length < this.policy.maxListedEvents) this.events.push(event);
    let g = this.groups.get(event.name);
    if (g === undefined) {
      g = { count: 0, subjects: [], seen: new Set(), more: 0 };
      this.groups.set(event.name, g);
    }
    g.count += 1;
    if (!g.seen.has(event.subject)) {
      if (g.subjects.length < this.policy.maxListedSubjects) {
        g.subjects.push(event.subject);
        g.seen.add(event.subject);
      } else g.more += 1;
    }
  }

  notice(n: FlapNotice, now: number): void {
    this.open(now);
    // Bounded by the flap detector's subject cap, and one notice per subject per state.
    this.notices.push(n);
  }

  /** When the open batch is due, or undefined when nothing waits. */
  dueAt(): number | undefined {
    if (this.openedAt === undefined) return undefined;
    if (this.count >= this.policy.maxEvents) return this.openedAt;
    return this.openedAt + this.policy.windowMs;
  }

  /** The batch, if it is due at `now` (or `force`), and a fresh window. */
  take(now: number, force = false): AlertContent | undefined {
    const due = this.dueAt();
    if (due === undefined || (!force && now < due)) return undefined;
    const groups: AlertGroup[] = [...this.groups].map(([name, g]) => ({
      name,
      count: g.count,
      subjects: g.subjects,
      more: g.more,
    }));
    const content: AlertContent = {
      summary: summarise(groups, this.notices),
      groups,
      flapping: this.notices,
      events: this.events,
      omittedEvents: this.count - this.events.length,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
    };
    this.openedAt = undefined;
    this.events = [];
    this.count = 0;
    this.groups = new Map();
    this.notices = [];
    this.firstSeq = 0;
    this.lastSeq = 0;
    return content;
  }

  private open(now: number): void {
    this.openedAt ??= now;
  }
}

/** One line for chat and paging tools: the biggest groups first. */
export function summarise(groups: readonly AlertGroup[], notices: readonly FlapNotice[]): string {
  const parts = [...groups]
    .sort((a, b) => b.count - a.count)
    .slice(0, 5)
    .map((g) => {
      const listed = g.subjects.slice(0, 3).join(', ');
      const rest = g.subjects.length + g.more - Math.min(3, g.subjects.length);
      return `${g.count} × ${g.name} (${listed}${rest > 0 ? `, +${rest} more` : ''})`;
    });
  const flapping = notices.filter((n) => n.state === 'flapping').length;
  if (flapping > 0) parts.push(`${flapping} flapping`);
  const stable = notices.length - flapping;
  if (stable > 0) parts.push(`${stable} stable again`);
  return parts.join('; ');
}
