/** Control API constants the daemon, the client and the CLI share (no I/O here). */
export const DEFAULT_ADMIN_SOCKET = '/run/lvsd/lvsd.sock';
export const DEFAULT_RO_SOCKET = '/run/lvsd/lvsd-ro.sock';
export const MAX_BODY_BYTES = 64 * 1024;
/** The header a client declares its user name in (informational: ruling 10). */
export const USER_HEADER = 'x-lvsd-user';

/** GET /v1/events response headers: where the stream starts (the body holds events only). */
export const EVENTS_HEADERS = {
  oldest: 'x-lvsd-events-oldest',
  newest: 'x-lvsd-events-newest',
  /** `FROM-TO`: asked-for events the daemon no longer holds. */
  gap: 'x-lvsd-events-gap',
  /** `1`: since is beyond the newest event (the daemon restarted?); the stream starts now. */
  ahead: 'x-lvsd-events-ahead',
} as const;

export const NDJSON_TYPE = 'application/x-ndjson; charset=utf-8';
