/**
 * Pieces the TCP and HTTP checkers share: error classification, result construction and the
 * way a probe socket is closed.
 */
import type { Socket } from 'node:net';
import {
  codeForSocketError,
  reasonForSocketError,
  type ProbeCode,
  type ProbeDetail,
  type ProbeResult,
} from '../result.js';

/** Node's TLS / certificate error codes have no common prefix; these are the families. */
const TLS_ERRNO =
  /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_)/;

export function errnoOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function isTlsErrno(errno: string | undefined): boolean {
  return errno !== undefined && TLS_ERRNO.test(errno);
}

export function result(
  start: number,
  code: ProbeCode,
  reason: string,
  detail?: ProbeDetail,
  weight?: number,
): ProbeResult {
  const r: { -readonly [K in keyof ProbeResult]: ProbeResult[K] } = {
    ok: code === 'ok',
    code,
    reason,
    latencyMs: Math.round((performance.now() - start) * 1000) / 1000,
  };
  if (weight !== undefined) r.weight = weight;
  if (detail !== undefined) r.detail = detail;
  return r;
}

/** A socket error as a failed result (not for TLS errors: the caller decides those). */
export function socketFailure(start: number, err: unknown, extra?: ProbeDetail): ProbeResult {
  const errno = errnoOf(err);
  const code = codeForSocketError(errno);
  const detail: ProbeDetail = errno === undefined ? { ...extra } : { ...extra, errno };
  return result(start, code, reasonForSocketError(code, errno), detail);
}

/**
 * Close a probe socket. Once connected, close with RST (SO_LINGER 0), as HAProxy does: one
 * syscall fewer than a FIN handshake and no TIME_WAIT left behind per check. A socket that never
 * connected is just destroyed (resetAndDestroy would wait for the connect to finish).
 * Errors after this point are ignored by the listener the caller left attached.
 */
export function closeProbeSocket(socket: Socket, connected: boolean): void {
  if (socket.destroyed) return;
  if (connected) {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // Not a TCP handle (cannot happen for our sockets); fall through to a plain destroy.
    }
  }
  socket.destroy();
}

export function timeoutReason(ms: number, phase: string): string {
  return `timeout after ${ms} ms (${phase})`;
}

export function abortedResult(start: number): ProbeResult {
  return result(start, 'aborted', 'aborted');
}
