/**
 * HTTP_GET / SSL_GET on plain node:net / node:tls (ruling 8: a fresh undici Client per check costs
 * about 5× HAProxy's CPU; this path writes the request with the connect, reads into one shared
 * buffer, parses with a bounded parser and closes with RST).
 *
 * Semantics, as keepalived (check_http.c) where it has them:
 * - a new connection per url per check; no redirects (a 301 is just a status);
 * - request `GET path HTTP/1.0` (http_protocol 1.0 is keepalived's default) with
 *   `Connection: close`; `Host:` is the virtualhost if one is set (url's, then the checker's),
 *   else `address:port` (`[v6]:port`);
 * - status accepted if inside any configured range, default 200-299;
 * - digest = MD5 hex of the body; several urls must all pass, the first failure is returned.
 *
 * Timing, where lvsd is deliberately stricter: keepalived arms connect_timeout for the connect
 * (TCP + TLS handshake) and then again for the write and for every single read, so a backend
 * trickling one byte per second holds a check forever. lvsd gives the connect phase
 * (TCP + TLS handshake) connect_timeout, and the response phase (request written until the
 * last body byte) one more connect_timeout in total, not per read. A url thus takes at most
 * 2 × connect_timeout, and the code says which phase ran out.
 */
import { createHash, type Hash } from 'node:crypto';
import { isIP, type Socket, type TcpNetConnectOpts } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { CancelSignal } from '../cancel.js';
import { codeForSocketError, type ProbeResult } from '../result.js';
import { armDeadline, cancelDeadline, restartDeadline, type Deadline } from './deadline.js';
import { HttpResponseParser } from './http-response.js';
import { openProbeSocket, releaseProbeSocket, type ProbeSocketOwner } from './probe-socket.js';
import {
  abortedResult,
  closeProbeSocket,
  errnoOf,
  isTlsErrno,
  result,
  socketFailure,
  timeoutReason,
} from './socket-common.js';

export type StatusRange = readonly [lo: number, hi: number];

export interface HttpUrl {
  readonly path: string;
  /** Accepted statuses, inclusive ranges; a single code is [n, n]. Default [[200, 299]]. */
  readonly statusRanges?: readonly StatusRange[];
  /** keepalived `digest`: 32 hex digits, MD5 of the body. */
  readonly digest?: string;
  readonly virtualhost?: string;
}

export interface HttpCheckTarget {
  readonly kind: 'http' | 'https';
  readonly address: string;
  readonly port: number;
  readonly bindto?: string;
  readonly bindPort?: number;
  readonly connectTimeoutMs: number;
  readonly urls: readonly HttpUrl[];
  /** Checker-level virtualhost (keepalived: checker, then real server, then virtual server). */
  readonly virtualhost?: string;
  /** keepalived http_protocol; default '1.0'. Connection: close is sent either way. */
  readonly httpVersion?: '1.0' | '1.1';
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Status line + headers (and chunked trailers). Default 16 KiB. */
  readonly maxHeaderBytes?: number;
  /** Verify the server certificate (and its name). Default false, like keepalived. */
  readonly tlsVerify?: boolean;
  /** Trust anchors for tlsVerify (PEM); default Node's bundled roots. */
  readonly ca?: string | Buffer;
  /** SNI name; default the virtualhost when it is a host name; false sends none. */
  readonly sni?: string | false;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
const DEFAULT_STATUS: readonly StatusRange[] = [[200, 299]];

/** Rendered requests, per url object (config objects are long-lived and frozen). */
const requestCache = new WeakMap<HttpUrl, { target: HttpCheckTarget; bytes: Buffer }>();

function requestFor(target: HttpCheckTarget, url: HttpUrl): Buffer {
  const hit = requestCache.get(url);
  if (hit?.target === target) return hit.bytes;
  const vhost = url.virtualhost ?? target.virtualhost;
  const host =
    vhost ??
    (isIP(target.address) === 6
      ? `[${target.address}]:${target.port}`
      : `${target.address}:${target.port}`);
  const bytes = Buffer.from(
    `GET ${url.path} HTTP/${target.httpVersion ?? '1.0'}\r\nUser-Agent: lvsd\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    'latin1',
  );
  requestCache.set(url, { target, bytes });
  return bytes;
}

function statusAccepted(status: number, ranges: readonly StatusRange[]): boolean {
  for (const [lo, hi] of ranges) if (status >= lo && status <= hi) return true;
  return false;
}

/** Request-line injection guard: the path goes on the wire verbatim (no CTLs, no spaces). */
function validPath(path: string): boolean {
  if (!path.startsWith('/')) return false;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
  }
  return true;
}

/** Check every url in turn; all must pass. Never throws, never rejects. */
export function probeHttp(target: HttpCheckTarget, signal?: CancelSignal): Promise<ProbeResult> {
  const start = performance.now();
  const urls = target.urls;
  if (urls.length === 0) return Promise.resolve(result(start, 'ok', 'no url configured'));
  if (signal?.aborted === true) return Promise.resolve(abortedResult(start));
  if (urls.length > 1) return probeUrls(target, start, signal);
  // One url (the common case): the exchange's own promise, no async frame around it.
  try {
    return new UrlExchange(target, urls[0] as HttpUrl, start, signal).run();
  } catch (err) {
    return Promise.resolve(internalError(start, err));
  }
}

/** Unreachable by design; a bug must still not take the scheduler down. */
function internalError(start: number, err: unknown): ProbeResult {
  return result(start, 'io', `internal error: ${String(err)}`);
}

async function probeUrls(
  target: HttpCheckTarget,
  start: number,
  signal: CancelSignal | undefined,
): Promise<ProbeResult> {
  let last: ProbeResult | undefined;
  for (const url of target.urls) {
    if (signal?.aborted === true) return abortedResult(start);
    try {
      last = await new UrlExchange(target, url, start, signal).run();
    } catch (err) {
      last = internalError(start, err);
    }
    if (!last.ok) return last;
  }
  return last ?? result(start, 'ok', 'ok');
}

export { probeHttp as probe };

class UrlExchange implements ProbeSocketOwner {
  private socket: Socket | undefined;
  private tcpConnected = false;
  private phase: 'connect' | 'response' = 'connect';
  private deadline: Deadline | undefined;
  private readonly parser: HttpResponseParser;
  private readonly hash: Hash | undefined;
  private statusChecked = false;
  private settle: ((r: ProbeResult) => void) | undefined;
  private finished = false;

  constructor(
    private readonly target: HttpCheckTarget,
    private readonly url: HttpUrl,
    private readonly start: number,
    private readonly signal: CancelSignal | undefined,
  ) {
    this.hash = url.digest === undefined ? undefined : createHash('md5');
    const hash = this.hash;
    this.parser = new HttpResponseParser(
      {
        maxBodyBytes: target.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        maxHeaderBytes: target.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
      },
      hash === undefined ? undefined : (chunk) => hash.update(chunk),
    );
  }

  run(): Promise<ProbeResult> {
    if (!validPath(this.url.path)) {
      return Promise.resolve(
        result(this.start, 'protocol', `invalid url path ${JSON.stringify(this.url.path)}`, {
          path: this.url.path,
        }),
      );
    }
    return new Promise<ProbeResult>((resolve) => {
      this.settle = resolve;
      this.deadline = armDeadline(this.target.connectTimeoutMs, this.onTimeout);
      this.signal?.addEventListener('abort', this.onAbort, { once: true });
      try {
        this.socket = this.open();
      } catch (err) {
        // Synchronous failures: bad localAddress, invalid options.
        this.finish(socketFailure(this.start, err, { path: this.url.path }));
        return;
      }
      // TLS queues it and sends it once the handshake is done; plain HTTP writes it itself on
      // 'connect' (onConnected): the same moment, without net's pending-write wrappers.
      if (this.target.kind === 'https') this.write();
    });
  }

  private open(): Socket {
    const t = this.target;
    if (t.kind === 'http') {
      // Built field by field (no spreads): this runs for every check. A reused socket object,
      // a new connection (probe-socket.ts); its listeners forward to this exchange.
      const opts: TcpNetConnectOpts = { host: t.address, port: t.port };
      if (t.bindto !== undefined) opts.localAddress = t.bindto;
      if (t.bindPort !== undefined) opts.localPort = t.bindPort;
      return openProbeSocket(this, opts);
    }
    const base = {
      host: t.address,
      port: t.port,
      ...(t.bindto === undefined ? {} : { localAddress: t.bindto }),
      ...(t.bindPort === undefined ? {} : { localPort: t.bindPort }),
    };
    const vhost = this.url.virtualhost ?? t.virtualhost;
    const sni = t.sni === false ? undefined : (t.sni ?? vhost);
    const opts: ConnectionOptions = {
      ...base,
      rejectUnauthorized: t.tlsVerify === true,
      ...(t.ca === undefined ? {} : { ca: t.ca }),
      // RFC 6066: SNI carries host names only, never address literals.
      ...(sni !== undefined && isIP(sni) === 0 ? { servername: sni } : {}),
    };
    const s = tlsConnect(opts);
    s.on('connect', () => {
      this.tcpConnected = true;
    });
    s.on('secureConnect', this.onConnected);
    s.on('data', (chunk: Buffer) => {
      this.onBytes(chunk);
    });
    this.listen(s);
    return s;
  }

  /** TLS only: plain HTTP sockets come with their listeners (probe-socket.ts). */
  private listen(s: Socket): void {
    // The error listener stays after finish(): an unhandled 'error' would crash the daemon.
    s.on('error', this.onError);
    // `on`, not `once`: each fires at most once per socket, and once() allocates a wrapper.
    s.on('end', this.onEnd);
    s.on('close', this.onClose);
  }

  /** ProbeSocketOwner: the plain socket connected. */
  onConnect(): void {
    this.onConnected();
  }

  /** TCP connected (plain) or TLS handshake done (https): the response phase starts. */
  private readonly onConnected = (): void => {
    this.tcpConnected = true;
    this.phase = 'response';
    if (this.finished) return;
    if (this.deadline !== undefined) {
      this.deadline = restartDeadline(this.deadline, this.target.connectTimeoutMs);
    }
    if (this.target.kind === 'http') this.write();
  };

  private write(): void {
    try {
      this.socket?.write(requestFor(this.target, this.url));
    } catch (err) {
      this.finish(internalError(this.start, err)); // probeHttp never rejects
    }
  }

  onBytes(chunk: Buffer): void {
    if (this.finished) return;
    const r = this.parser.feed(chunk);
    if (r.kind === 'error') {
      this.finish(this.fail(r.code, r.reason));
      return;
    }
    // Judge the status as soon as the head is in: a 503 needs no body read.
    if (!this.statusChecked && this.parser.status !== 0) {
      this.statusChecked = true;
      const status = this.parser.status;
      if (!statusAccepted(status, this.url.statusRanges ?? DEFAULT_STATUS)) {
        this.finish(this.fail('status', `status ${status}`));
        return;
      }
    }
    if (r.kind === 'done') this.finish(this.complete());
  }

  readonly onEnd = (): void => {
    if (this.finished) return;
    const r = this.parser.end();
    this.finish(r.kind === 'error' ? this.fail(r.code, r.reason) : this.complete());
  };

  readonly onClose = (): void => {
    // Closed without 'end' or 'error' (should not happen); never leave the promise pending.
    if (!this.finished) this.finish(this.fail('reset', 'connection closed before a response'));
  };

  readonly onError = (err: Error): void => {
    if (this.finished) return;
    const errno = errnoOf(err);
    const detail = { path: this.url.path, ...(errno === undefined ? {} : { errno }) };
    // During the handshake anything but a plain socket error is a TLS failure.
    const handshake = this.target.kind === 'https' && this.tcpConnected && this.phase === 'connect';
    if (isTlsErrno(errno) || (handshake && codeForSocketError(errno) === 'io')) {
      this.finish(result(this.start, 'tls', `TLS: ${err.message}`, detail));
      return;
    }
    this.finish(socketFailure(this.start, err, this.statusDetail(detail)));
  };

  private readonly onTimeout = (): void => {
    if (this.finished) return;
    const what =
      this.phase === 'response' ? 'response' : this.tcpConnected ? 'TLS handshake' : 'connect';
    const code = this.phase === 'response' ? 'timeout_response' : 'timeout_connect';
    this.deadline = undefined;
    this.finish(this.fail(code, timeoutReason(this.target.connectTimeoutMs, what)));
  };

  private readonly onAbort = (): void => {
    if (!this.finished) this.finish(abortedResult(this.start));
  };

  private complete(): ProbeResult {
    const status = this.parser.status;
    if (!this.statusChecked && !statusAccepted(status, this.url.statusRanges ?? DEFAULT_STATUS)) {
      return this.fail('status', `status ${status}`);
    }
    if (this.hash !== undefined && this.url.digest !== undefined) {
      const got = this.hash.digest('hex');
      const detail = { ...this.statusDetail({ path: this.url.path }), digest: got };
      if (got !== this.url.digest.toLowerCase())
        return result(this.start, 'digest', 'digest mismatch', detail);
      return result(this.start, 'ok', `status ${status}, digest ok`, detail);
    }
    const p = this.parser;
    return result(this.start, 'ok', `status ${status}`, {
      path: this.url.path,
      status,
      bodyBytes: p.bodyBytes,
    });
  }

  private fail(code: Parameters<typeof result>[1], reason: string): ProbeResult {
    return result(this.start, code, reason, this.statusDetail({ path: this.url.path }));
  }

  private statusDetail<T extends object>(base: T): T & { status?: number; bodyBytes?: number } {
    const p = this.parser;
    return p.status === 0 ? base : { ...base, status: p.status, bodyBytes: p.bodyBytes };
  }

  private finish(r: ProbeResult): void {
    if (this.finished) return;
    this.finished = true;
    cancelDeadline(this.deadline);
    this.signal?.removeEventListener('abort', this.onAbort);
    if (this.socket !== undefined) {
      releaseProbeSocket(this.socket, this);
      closeProbeSocket(this.socket, this.tcpConnected);
    }
    this.settle?.(r);
  }
}
