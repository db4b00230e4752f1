/**
 * The control client: undici over the unix socket, one typed helper per route. Transport
 * failures become ClientError with a stable code and a sentence an operator can act on; API
 * errors come back as ApiError with the catalogue's code.
 */
import { Client } from 'undici';
import { ApiError, isApiErrorCode, type ApiErrorBody } from './errors.js';
import { EVENTS_HEADERS, USER_HEADER } from './constants.js';
import { classifyLine, LineSplitter, type StreamLine } from './event-lines.js';
import type {
  DrainResponse,
  MaintAddResponse,
  MaintCancelResponse,
  MaintListResponse,
  ReloadResponse,
  ServerResponse,
  StatusSnapshot,
} from './types.js';

export type ClientErrorCode =
  | 'NOT_RUNNING'
  | 'PERMISSION_DENIED'
  | 'TIMEOUT'
  | 'PROTOCOL'
  /** An event stream broke off without lvsd's last line (the daemon died, the socket closed). */
  | 'STREAM_LOST';

/** An open event stream: where it starts (from the headers) and its lines. */
export interface OpenEventStream {
  readonly oldest: number | undefined;
  readonly newest: number;
  /** Asked-for events the daemon no longer holds. */
  readonly gap: { readonly from: number; readonly to: number } | undefined;
  /** `since` was beyond the newest event (the daemon restarted?): the stream starts now. */
  readonly ahead: boolean;
  /** The lines in order; throws ClientError STREAM_LOST or PROTOCOL when the stream breaks. */
  lines(): AsyncGenerator<StreamLine>;
}

/** The daemon could not be reached or answered something that is not the API. */
export class ClientError extends Error {
  readonly clientError = true as const;
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClientError';
  }
}

export interface ControlClientOptions {
  readonly socketPath: string;
  /** Declared in x-lvsd-user (informational, ruling 10). */
  readonly user?: string;
  /** Per request, connect to last byte (default 10 s; reload may take a moment). */
  readonly timeoutMs?: number;
}

export class ControlClient {
  private readonly client: Client;
  private readonly timeoutMs: number;

  constructor(private readonly opts: ControlClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.client = new Client('http://lvsd', {
      socketPath: opts.socketPath,
      connectTimeout: Math.min(this.timeoutMs, 5_000),
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      pipelining: 1,
    });
  }

  status(): Promise<StatusSnapshot> {
    return this.call('GET', '/v1/status');
  }

  server(vs: string, rs: string): Promise<ServerResponse> {
    return this.call('GET', serverPath(vs, rs));
  }

  drain(vs: string, rs: string, reason?: string): Promise<DrainResponse> {
    return this.call('POST', `${serverPath(vs, rs)}/drain`, reason === undefined ? {} : { reason });
  }

  undrain(vs: string, rs: string): Promise<DrainResponse> {
    return this.call('DELETE', `${serverPath(vs, rs)}/drain`);
  }

  maintList(): Promise<MaintListResponse> {
    return this.call('GET', '/v1/maint');
  }

  maintAdd(window: {
    vs: string;
    rs: string;
    cron: string;
    durationMs: number;
    timezone: string;
    reason?: string;
  }): Promise<MaintAddResponse> {
    return this.call('POST', '/v1/maint', window);
  }

  maintCancel(id: string): Promise<MaintCancelResponse> {
    return this.call('DELETE', `/v1/maint/${encodeURIComponent(id)}`);
  }

  reload(): Promise<ReloadResponse> {
    return this.call('POST', '/v1/reload');
  }

  /**
   * GET /v1/events. Following, the body has no timeout (events may be minutes apart); the
   * caller ends it with `signal` or close().
   */
  async events(opts: {
    readonly since?: number;
    readonly follow: boolean;
    readonly signal?: AbortSignal;
  }): Promise<OpenEventStream> {
    const q = new URLSearchParams();
    if (opts.since !== undefined) q.set('since', String(opts.since));
    if (opts.follow) q.set('follow', '1');
    const query = q.toString();
    let res;
    try {
      res = await this.client.request({
        method: 'GET',
        path: `/v1/events${query ? `?${query}` : ''}`,
        headers: this.headers(false),
        headersTimeout: this.timeoutMs,
        bodyTimeout: opts.follow ? 0 : this.timeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      throw transportError(err, this.opts.socketPath, this.timeoutMs);
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      throw this.answerError(res.statusCode, text);
    }
    const header = (name: string): string | undefined => {
      const v = res.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const gap = /^(\d+)-(\d+)$/.exec(header(EVENTS_HEADERS.gap) ?? '');
    const oldest = header(EVENTS_HEADERS.oldest);
    const body = res.body;
    const socketPath = this.opts.socketPath;
    return {
      oldest: oldest === undefined ? undefined : Number(oldest),
      newest: Number(header(EVENTS_HEADERS.newest) ?? '0'),
      gap: gap ? { from: Number(gap[1]), to: Number(gap[2]) } : undefined,
      ahead: header(EVENTS_HEADERS.ahead) === '1',
      async *lines() {
        const split = new LineSplitter();
        const decoder = new TextDecoder();
        const parse = (line: string): StreamLine => {
          const l = classifyLine(line);
          if (!l)
            throw new ClientError('PROTOCOL', `${socketPath} sent a line that is not an event`);
          return l;
        };
        try {
          for await (const chunk of body as AsyncIterable<Buffer>)
            for (const line of split.push(decoder.decode(chunk, { stream: true })))
              yield parse(line);
        } catch (err) {
          if (err instanceof ClientError) throw err;
          if (opts.signal?.aborted) return;
          throw new ClientError(
            'STREAM_LOST',
            `the event stream from ${socketPath} broke off: ${err instanceof Error ? err.message : String(err)}`,
            'lvsd may have stopped or cut this client off; see its log',
            { cause: err },
          );
        }
        const tail = split.flush() ?? '';
        if (tail !== '') yield parse(tail + decoder.decode());
      },
    };
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** One request; the body of a 2xx as T, an ApiError for an API error, ClientError else. */
  async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const headers = this.headers(body !== undefined);
    let res;
    try {
      res = await this.client.request({
        method,
        path,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw transportError(err, this.opts.socketPath, this.timeoutMs);
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw transportError(err, this.opts.socketPath, this.timeoutMs);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw this.answerError(res.statusCode, text);
      }
    }
    throw this.answerError(res.statusCode, text);
  }

  private headers(json: boolean): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.user) headers[USER_HEADER] = this.opts.user;
    if (json) headers['content-type'] = 'application/json';
    return headers;
  }

  /** An answer that is not a success: the API's error, or a ClientError when it is not one. */
  private answerError(status: number, text: string): ApiError | ClientError {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return new ClientError(
        'PROTOCOL',
        `${this.opts.socketPath} answered ${status} with something that is not JSON`,
        'is this an lvsd control socket?',
      );
    }
    const e = (parsed as Partial<ApiErrorBody>).error;
    if (e && isApiErrorCode(e.code) && typeof e.message === 'string') {
      return new ApiError(e.code, e.message, {
        ...(e.hint !== undefined ? { hint: e.hint } : {}),
        ...(e.candidates ? { candidates: e.candidates } : {}),
        ...(e.diagnostics ? { diagnostics: e.diagnostics } : {}),
      });
    }
    return new ClientError('PROTOCOL', `unexpected answer ${status} from ${this.opts.socketPath}`);
  }
}

function serverPath(vs: string, rs: string): string {
  return `/v1/servers/${encodeURIComponent(vs)}/${encodeURIComponent(rs)}`;
}

function transportError(err: unknown, socketPath: string, timeoutMs: number): ClientError {
  const code = errnoOf(err);
  if (code === 'ENOENT')
    return new ClientError(
      'NOT_RUNNING',
      `lvsd is not running (no socket at ${socketPath})`,
      'start it (systemctl start lvsd), or name its socket with --socket PATH or LVSD_SOCKET',
      { cause: err },
    );
  if (code === 'ECONNREFUSED')
    return new ClientError(
      'NOT_RUNNING',
      `lvsd is not running (nothing listens on ${socketPath}: a stale socket?)`,
      'start it (systemctl start lvsd), or name its socket with --socket PATH or LVSD_SOCKET',
      { cause: err },
    );
  if (code === 'EACCES' || code === 'EPERM')
    return new ClientError(
      'PERMISSION_DENIED',
      `permission denied on ${socketPath}`,
      'changes need root or the admin group; to read, use the read-only socket (/run/lvsd/lvsd-ro.sock)',
      { cause: err },
    );
  const name = (err as { name?: string } | null)?.name ?? '';
  if (
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    /Timeout/.test(name) ||
    code === 'ETIMEDOUT'
  )
    return new ClientError(
      'TIMEOUT',
      `lvsd did not answer on ${socketPath} within ${timeoutMs} ms`,
      'the daemon may be overloaded or stuck; see its log',
      { cause: err },
    );
  return new ClientError(
    'PROTOCOL',
    `cannot talk to lvsd on ${socketPath}: ${err instanceof Error ? err.message : String(err)}`,
    undefined,
    { cause: err },
  );
}

function errnoOf(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && i < 4; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
