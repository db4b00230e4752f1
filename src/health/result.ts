/**
 * What one health probe found. Every checker returns this shape, success or failure, so the
 * scheduler, the rise/fall machine, logs and metrics never parse message text: they branch on
 * `code`, and show `reason` to people.
 */

/**
 * Stable outcome codes. Adding one is fine; renaming or reusing one breaks dashboards and alert
 * rules keyed on it, so don't.
 */
export type ProbeCode =
  /** The check passed. */
  | 'ok'
  /** HTTP status outside the accepted ranges. */
  | 'status'
  /** HTTP body's MD5 differs from the configured digest. */
  | 'digest'
  /** TCP connect (and, for TLS, the handshake) did not finish within connect_timeout. */
  | 'timeout_connect'
  /** Connected, but the whole answer did not arrive within connect_timeout. */
  | 'timeout_response'
  /** MISC_CHECK script still running at misc_timeout (its process group was killed). */
  | 'timeout'
  /** Nothing listens: RST in answer to SYN. */
  | 'refused'
  /** The peer reset an established connection (or closed it before answering). */
  | 'reset'
  /** No route / host or network unreachable. */
  | 'unreachable'
  /** bindto / bind_port could not be used (address not local, port in use). */
  | 'bind'
  /** The peer answered, but not with valid HTTP (garbage, truncated body, bad framing). */
  | 'protocol'
  /** Response headers or body over the configured byte cap. */
  | 'body_too_large'
  /** TLS handshake failed or the certificate was rejected. */
  | 'tls'
  /** TCP_CHECK `expect` text not seen in the answer. */
  | 'expect'
  /** MISC_CHECK script exited with a failing status. */
  | 'exit'
  /** MISC_CHECK script could not be started (missing, not executable, bad user). */
  | 'spawn'
  /** MISC_CHECK script refused by script security (a non-root user could modify it). */
  | 'insecure'
  /** MISC_CHECK script died from a signal lvsd did not send. */
  | 'killed'
  /** The caller's AbortSignal fired; the probe was cancelled and cleaned up. */
  | 'aborted'
  /** Any other local I/O error; `detail.errno` says which. */
  | 'io';

export interface ProbeDetail {
  /** HTTP status code received. */
  readonly status?: number;
  /** URL path the result refers to (the first failing one, or the last one checked). */
  readonly path?: string;
  /** MD5 hex of the body, when a digest was configured. */
  readonly digest?: string;
  /** Body bytes read (after de-chunking). */
  readonly bodyBytes?: number;
  /** Node/OS error code (ECONNREFUSED, ERR_SSL_..., DEPTH_ZERO_SELF_SIGNED_CERT, ...). */
  readonly errno?: string;
  /** MISC_CHECK exit status, when the script exited. */
  readonly exitCode?: number;
  /** MISC_CHECK terminating signal, when it died from one. */
  readonly signal?: string;
  /** MISC_CHECK combined stdout+stderr, first `captured` bytes of `totalOutputBytes`. */
  readonly output?: string;
  readonly capturedBytes?: number;
  readonly totalOutputBytes?: number;
}

export interface ProbeResult {
  readonly ok: boolean;
  readonly code: ProbeCode;
  /** Short, human: "status 503", "timeout after 3000 ms (connect)", "connection refused". */
  readonly reason: string;
  /** Wall time the probe took, monotonic clock, milliseconds. */
  readonly latencyMs: number;
  /** MISC_CHECK misc_dynamic: new weight (exit status - 2). Absent means "weight unchanged". */
  readonly weight?: number;
  readonly detail?: ProbeDetail;
}

/** Map of Node / libuv socket error codes to probe codes, shared by the network checkers. */
export function codeForSocketError(errno: string | undefined): ProbeCode {
  switch (errno) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return 'unreachable';
    case 'EADDRINUSE':
    case 'EADDRNOTAVAIL':
      return 'bind';
    default:
      return 'io';
  }
}

export function reasonForSocketError(code: ProbeCode, errno: string | undefined): string {
  switch (code) {
    case 'refused':
      return 'connection refused';
    case 'reset':
      return 'connection reset by peer';
    case 'unreachable':
      return `unreachable (${errno ?? 'unknown'})`;
    case 'bind':
      return `cannot bind local address (${errno ?? 'unknown'})`;
    default:
      return `socket error ${errno ?? 'unknown'}`;
  }
}
