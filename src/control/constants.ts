/** Control API constants the daemon, the client and the CLI share (no I/O here). */
export const DEFAULT_ADMIN_SOCKET = '/run/lvsd/lvsd.sock';
export const DEFAULT_RO_SOCKET = '/run/lvsd/lvsd-ro.sock';
export const MAX_BODY_BYTES = 64 * 1024;
/** The header a client declares its user name in (informational: ruling 10). */
export const USER_HEADER = 'x-lvsd-user';
