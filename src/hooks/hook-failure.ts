/**
 * A failed hook run as an event on the stream (`hook.failed`). Pure. The payload is bounded
 * whatever the script did: argv[0] only (later words may hold anything an operator typed),
 * the reason capped, no output (that stays in the runner's log line, capped there).
 */
import { boundedReason, type Cause, type EventPayloads } from '../lib/events.js';
import type { HookOutcome } from './script-runner.js';

export function hookFailed(o: HookOutcome): {
  subject: string;
  cause: Cause;
  data: EventPayloads['hook.failed'];
} {
  return {
    subject: o.queue,
    cause: { kind: 'hook', detail: o.code },
    data: {
      hook: o.hook,
      subject: o.queue,
      argv0: o.argv[0] ?? '',
      code: o.code,
      reason: boundedReason(o.reason),
      durationMs: Math.max(0, Math.round(o.durationMs)),
    },
  };
}
