/**
 * The control API's error catalogue: every error the API answers, with its code, HTTP status
 * and message template, in one place (fastify's lib/errors.js is the model). Codes are stable
 * and never reused; clients branch on `code`, never on message text.
 *
 * Error body: { "error": { "code", "message", "hint"?, "candidates"?, "diagnostics"?, "lastSeq"? } }
 * An event stream (GET /v1/events) that the daemon ends early ends with one such body as its
 * last line instead of a status (the 200 went out with the first event).
 */

export interface ErrorSpec {
  readonly status: number;
  /** Default message; `%s` is replaced by the detail given when raising. */
  readonly message: string;
  readonly hint?: string;
}

export const apiErrors = {
  BAD_REQUEST: { status: 400, message: 'bad request: %s' },
  BAD_NAME: {
    status: 400,
    message: '%s',
    hint: 'a virtual server is [tcp:|udp:|sctp:]ADDR:PORT, fwm:N or group:NAME; a real server ADDR:PORT (IPv6 as [ADDR]:PORT)',
  },
  READ_ONLY_SOCKET: {
    status: 403,
    message: 'this is the read-only socket: %s needs the admin socket',
    hint: 'use the admin socket (default /run/lvsd/lvsd.sock, as root or the admin group)',
  },
  NOT_FOUND: { status: 404, message: '%s' },
  UNKNOWN_ROUTE: {
    status: 404,
    message: 'no such API path: %s',
    hint: 'the API paths start with /v1/',
  },
  METHOD_NOT_ALLOWED: { status: 405, message: '%s' },
  AMBIGUOUS: { status: 409, message: '%s', hint: 'add the protocol: tcp:, udp: or sctp:' },
  BODY_TOO_LARGE: { status: 413, message: 'request body larger than %s bytes' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'request bodies must be JSON (content-type: application/json), not %s',
  },
  INVALID_CONFIG: {
    status: 422,
    message: 'the new configuration was rejected; the running one stays: %s',
    hint: 'fix the file and check it with lvsd check-config before reloading',
  },
  /** Only as an event stream's last line: the client fell behind and was cut off. */
  SLOW_CONSUMER: {
    status: 429,
    message: 'cut off: %s',
    hint: 'read faster (do not pipe into something that blocks), or resume with lvsd events --since SEQ',
  },
  INTERNAL: { status: 500, message: 'internal error in lvsd: %s', hint: 'see the daemon log' },
  UNAVAILABLE: { status: 503, message: 'lvsd cannot do that now: %s' },
} as const satisfies Record<string, ErrorSpec>;

export type ApiErrorCode = keyof typeof apiErrors;

export interface ApiErrorBody {
  readonly error: {
    readonly code: ApiErrorCode;
    readonly message: string;
    readonly hint?: string;
    readonly candidates?: readonly string[];
    /** INVALID_CONFIG: the problems as FILE:LINE:COL: SEVERITY: MESSAGE lines. */
    readonly diagnostics?: readonly string[];
    /** An event stream's final line: the seq of the last event sent before the end. */
    readonly lastSeq?: number;
  };
}

export interface ApiErrorExtra {
  readonly hint?: string;
  readonly candidates?: readonly string[];
  readonly diagnostics?: readonly string[];
  readonly lastSeq?: number;
}

/** An API error as a value: the handlers return it; the client turns a body back into one. */
export class ApiError extends Error {
  readonly apiError = true as const;
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly extra: ApiErrorExtra = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = apiErrors[code].status;
  }

  get hint(): string | undefined {
    return this.extra.hint;
  }

  toBody(): ApiErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.extra.hint !== undefined ? { hint: this.extra.hint } : {}),
        ...(this.extra.candidates ? { candidates: this.extra.candidates } : {}),
        ...(this.extra.diagnostics ? { diagnostics: this.extra.diagnostics } : {}),
        ...(this.extra.lastSeq !== undefined ? { lastSeq: this.extra.lastSeq } : {}),
      },
    };
  }
}

/** Builds the catalogue's error for `code`, with `detail` in its message template. */
export function apiError(code: ApiErrorCode, detail: string, extra: ApiErrorExtra = {}): ApiError {
  const spec: ErrorSpec = apiErrors[code];
  const hint = extra.hint ?? spec.hint;
  return new ApiError(code, spec.message.replace('%s', detail), {
    ...extra,
    ...(hint !== undefined ? { hint } : {}),
  });
}

export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.hasOwn(apiErrors, code);
}
