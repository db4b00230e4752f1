/**
 * The webhook wire format (versioned; published as JSON Schema in docs/events.schema.json):
 * one JSON object per POST, holding one grouped alert. Adding a field is compatible;
 * renaming or removing one bumps `v`. Also: which events an endpoint wants, and which events
 * are state changes that flap suppression watches. Pure.
 */
import type { AnyEvent } from '../lib/events.js';
import type { AlertContent } from './alert-batch.js';

export const WEBHOOK_SCHEMA = 'lvsd.webhook';
export const WEBHOOK_SCHEMA_VERSION = 1;

export interface WebhookDelivery extends AlertContent {
  readonly schema: typeof WEBHOOK_SCHEMA;
  readonly v: typeof WEBHOOK_SCHEMA_VERSION;
  /** Unique per alert and kept across retries: receivers deduplicate on it. */
  readonly id: string;
  readonly endpoint: string;
  /** The director that sent it (router_id). */
  readonly source: string;
  /** When the alert was formed (ISO 8601); each attempt's own time is in X-Lvsd-Timestamp. */
  readonly time: string;
}

export function delivery(
  content: AlertContent,
  envelope: { id: string; endpoint: string; source: string; time: string },
): WebhookDelivery {
  return { schema: WEBHOOK_SCHEMA, v: WEBHOOK_SCHEMA_VERSION, ...envelope, ...content };
}

/**
 * An endpoint's `events` patterns: exact names (`rs.down`), a family (`rs.*`), or `*`; none
 * means every event.
 */
export function wants(patterns: readonly string[], name: string): boolean {
  if (patterns.length === 0) return true;
  for (const p of patterns) {
    if (p === '*' || p === name) return true;
    if (p.endsWith('.*') && name.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}

/** The state an event moves its subject into, for flap suppression; undefined if none. */
export function stateChange(event: AnyEvent): string | undefined {
  switch (event.name) {
    case 'rs.up':
      return 'up';
    case 'rs.down':
      return 'down';
    case 'vrrp.transition':
      return event.data.to;
    case 'vs.quorum_up':
      return 'quorum_up';
    case 'vs.quorum_down':
      return 'quorum_down';
    default:
      return undefined;
  }
}
