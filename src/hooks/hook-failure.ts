/**
 * A failed hook run as an event on the stream (`hook.failed`). Pure. The payload is bounded
 * whatever the script did: argv[0] only (later words may hold anything an operator typed),
 * the reason capped, no output (that stays in the runner's log line, capped there).
 */
import type { Cause, EventPayloads } from '../lib/events.js';
import type { HookOutcome } from './script-runner.js';

export const HOOK_REASON_CHARS = 200;

export function hookFailed(o: HookOutcome): {
  subject: string;
  cause: Cause;
  data: EventPayloads['hook.failed'];
} {
  const reason =
    o.reason.length > HOOK_REASON_CHARS ? `${o.reason.slice(0, HOOK_REASON_CHARS - 1)}…` : o.reason;
  return {
    subject: o.queue,
    cause: { kind: 'hook', detail: o.code },
    data: {
      hook: o.hook,
      subject: o.queue,
      argv0: o.argv[0] ?? '',
      code: o.code,
      reason,
      durationMs: Math.max(0, Math.round(o.durationMs)),
    },
  };
}
