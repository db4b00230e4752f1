/**
 * The control API's handlers: request in, response out, no socket (fastify's inject() idea),
 * so they are tested with a fake ControlPort. The server shell only parses HTTP around them.
 *
 *   GET    /v1/status                    status snapshot
 *   GET    /v1/servers/{vs}/{rs}         one real server's admin state and connections
 *   POST   /v1/servers/{vs}/{rs}/drain   drain       body { reason? }          (admin socket)
 *   DELETE /v1/servers/{vs}/{rs}/drain   undrain                               (admin socket)
 *   GET    /v1/maint                     maintenance windows
 *   POST   /v1/maint                     add one: { vs, rs, cron, durationMs, timezone, reason? }
 *   DELETE /v1/maint/{id}                cancel one                            (admin socket)
 *   POST   /v1/reload                    validate and reload the configuration (admin socket)
 *   GET    /v1/events?since=N&follow=1   recent events as NDJSON, then new ones (follow)
 *
 * Path segments are percent-encoded (`tcp%3A%5B2001%3Adb8%3A%3A1%5D%3A80`).
 */
import { resolveServer } from '../admin/resolve.js';
import type { AdminResult } from '../admin/state.js';
import { ApiError, apiError, type ApiErrorBody } from './errors.js';
import { parseSince } from './event-stream-policy.js';
import { timezoneProblem } from '../admin/zone.js';
import {
  adminView,
  type ControlPort,
  type DrainResponse,
  type EventStreamSpec,
  type MaintAddResponse,
  type MaintCancelResponse,
  type MaintListResponse,
  type ReloadResponse,
  type ServerResponse,
  type SocketKind,
} from './types.js';

export interface ControlRequest {
  readonly method: string;
  /** The request target (path, maybe with a query string). */
  readonly path: string;
  /** The parsed JSON body; undefined when there was none. */
  readonly body: unknown;
  readonly socket: SocketKind;
  /** The user name the client declared (informational: ruling 10). */
  readonly user: string;
}

export interface ControlResponse {
  readonly status: number;
  readonly body: unknown;
  /** An event stream: the server shell sends NDJSON from the port's feed instead of `body`. */
  readonly stream?: EventStreamSpec;
}

export const MAX_REASON = 1024;

type Handler = (
  req: ControlRequest,
  params: readonly string[],
  port: ControlPort,
) => Promise<ControlResponse>;

interface Route {
  readonly pattern: readonly (string | null)[];
  readonly methods: Readonly<
    Record<string, { readonly change: boolean; readonly handler: Handler }>
  >;
}

const routes: readonly Route[] = [
  {
    pattern: ['v1', 'status'],
    methods: { GET: { change: false, handler: async (_r, _p, port) => ok(await port.status()) } },
  },
  {
    pattern: ['v1', 'servers', null, null],
    methods: { GET: { change: false, handler: server } },
  },
  {
    pattern: ['v1', 'servers', null, null, 'drain'],
    methods: { POST: { change: true, handler: drain }, DELETE: { change: true, handler: undrain } },
  },
  {
    pattern: ['v1', 'maint'],
    methods: {
      GET: {
        change: false,
        handler: (_r, _p, port) =>
          Promise.resolve(ok({ windows: port.maintList() } satisfies MaintListResponse)),
      },
      POST: { change: true, handler: maintAdd },
    },
  },
  { pattern: ['v1', 'maint', null], methods: { DELETE: { change: true, handler: maintCancel } } },
  { pattern: ['v1', 'reload'], methods: { POST: { change: true, handler: reload } } },
  { pattern: ['v1', 'events'], methods: { GET: { change: false, handler: events } } },
];

/** Answers one request. Never throws: every failure is a catalogue error body. */
export async function handle(req: ControlRequest, port: ControlPort): Promise<ControlResponse> {
  try {
    const segments = splitPath(req.path);
    const route = routes.find((r) => matches(r.pattern, segments));
    if (!route) throw apiError('UNKNOWN_ROUTE', `${req.method} ${pathOnly(req.path)}`);
    const method = route.methods[req.method];
    if (!method) {
      throw apiError(
        'METHOD_NOT_ALLOWED',
        `${pathOnly(req.path)} takes ${Object.keys(route.methods).join(', ')}, not ${req.method}`,
      );
    }
    if (method.change && req.socket === 'ro')
      throw apiError('READ_ONLY_SOCKET', `${req.method} ${pathOnly(req.path)}`);
    const params = route.pattern.flatMap((p, i) => (p === null ? [segments[i] ?? ''] : []));
    return await method.handler(req, params, port);
  } catch (err) {
    return errorResponse(err);
  }
}

export function errorResponse(err: unknown): ControlResponse {
  const e =
    err instanceof ApiError
      ? err
      : apiError('INTERNAL', err instanceof Error ? err.message : String(err));
  return { status: e.status, body: e.toBody() satisfies ApiErrorBody };
}

async function server(req: ControlRequest, params: readonly string[], port: ControlPort) {
  const { vs, rs } = target(port, params);
  const connections = (await port.connections(vs, rs)) ?? null;
  return ok({
    vs,
    rs,
    admin: adminView(port.adminOf(vs, rs)),
    connections,
  } satisfies ServerResponse);
}

async function drain(req: ControlRequest, params: readonly string[], port: ControlPort) {
  const body = objectBody(req.body, true);
  const reason = optString(body, 'reason', MAX_REASON);
  const { vs, rs } = target(port, params);
  const result = await port.drain(vs, rs, {
    by: req.user,
    ...(reason === undefined ? {} : { reason }),
  });
  return ok(drainBody(vs, rs, result));
}

async function undrain(req: ControlRequest, params: readonly string[], port: ControlPort) {
  objectBody(req.body, true);
  const { vs, rs } = target(port, params);
  return ok(drainBody(vs, rs, await port.undrain(vs, rs, { by: req.user })));
}

async function maintAdd(req: ControlRequest, _params: readonly string[], port: ControlPort) {
  const body = objectBody(req.body, false);
  const vsIn = reqString(body, 'vs', 256);
  const rsIn = reqString(body, 'rs', 256);
  const cron = reqString(body, 'cron', 256);
  const timezone = reqString(body, 'timezone', 64);
  const reason = optString(body, 'reason', MAX_REASON) ?? '';
  const durationMs = body['durationMs'];
  if (typeof durationMs !== 'number' || !Number.isSafeInteger(durationMs) || durationMs <= 0)
    throw apiError('BAD_REQUEST', 'durationMs must be a positive integer (milliseconds)');
  const zone = timezoneProblem(timezone);
  if (zone) throw apiError('BAD_REQUEST', zone);
  const { vs, rs } = target(port, [vsIn, rsIn]);
  const result = expectOk(
    await port.maintAdd({ vs, rs, cron, durationMs, timezone, reason, by: req.user }),
  );
  if (!result.window) throw apiError('INTERNAL', 'the window was not created');
  const view = port.maintList().find((w) => w.id === result.window?.id) ?? result.window;
  return { status: 201, body: { window: view } satisfies MaintAddResponse };
}

async function maintCancel(req: ControlRequest, params: readonly string[], port: ControlPort) {
  objectBody(req.body, true);
  const result = expectOk(await port.maintCancel(params[0] ?? '', { by: req.user }));
  if (!result.window) throw apiError('INTERNAL', 'no window in the result');
  return ok({
    window: result.window,
    undrained: result.previous != null && result.override === null,
  } satisfies MaintCancelResponse);
}

async function reload(req: ControlRequest, _params: readonly string[], port: ControlPort) {
  objectBody(req.body, true);
  const r = await port.reload();
  if (!r.ok) {
    const n = r.problems.length;
    throw apiError('INVALID_CONFIG', `${n} problem${n === 1 ? '' : 's'}`, {
      diagnostics: r.problems,
    });
  }
  return ok({ added: r.added, removed: r.removed, changed: r.changed } satisfies ReloadResponse);
}

function events(req: ControlRequest, _params: readonly string[], port: ControlPort) {
  if (!port.events) throw apiError('UNAVAILABLE', 'this daemon keeps no event history');
  const query = new URLSearchParams(queryOf(req.path));
  let since: number | undefined;
  let follow = false;
  for (const [key, value] of query) {
    if (key === 'since') {
      since = parseSince(value);
      if (since === undefined)
        throw apiError(
          'BAD_REQUEST',
          `since must be an event seq (an integer ≥ 0), not '${value}'`,
        );
    } else if (key === 'follow') {
      if (!['', '1', 'true', '0', 'false'].includes(value))
        throw apiError('BAD_REQUEST', `follow is 1 or 0, not '${value}'`);
      follow = value === '' || value === '1' || value === 'true';
    } else throw apiError('BAD_REQUEST', `unknown parameter '${key}' (events take since, follow)`);
  }
  const stream: EventStreamSpec = { follow, ...(since === undefined ? {} : { since }) };
  return Promise.resolve({ status: 200, body: null, stream } satisfies ControlResponse);
}

function drainBody(vs: string, rs: string, result: AdminResult): DrainResponse {
  const r = expectOk(result);
  return {
    vs,
    rs,
    changed: r.changed,
    admin: adminView(r.override),
    previous: adminView(r.previous),
  };
}

function expectOk(result: AdminResult): Extract<AdminResult, { ok: true }> {
  if (!result.ok) throw apiError(result.code, result.message);
  return result;
}

function target(port: ControlPort, params: readonly string[]): { vs: string; rs: string } {
  const r = resolveServer(port.config(), params[0] ?? '', params[1] ?? '');
  if (!r.ok) {
    const { code, message, hint, candidates } = r.error;
    throw apiError(code, message, {
      ...(hint !== undefined ? { hint } : {}),
      ...(candidates ? { candidates } : {}),
    });
  }
  return { vs: r.value.vs.name, rs: r.value.rs.name };
}

function objectBody(body: unknown, optional: boolean): Record<string, unknown> {
  if (body === undefined && optional) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw apiError('BAD_REQUEST', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function optString(body: Record<string, unknown>, key: string, max: number): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw apiError('BAD_REQUEST', `${key} must be a string`);
  if (v.length > max) throw apiError('BAD_REQUEST', `${key} is longer than ${max} characters`);
  return v;
}

function reqString(body: Record<string, unknown>, key: string, max: number): string {
  const v = optString(body, key, max);
  if (v === undefined || v === '') throw apiError('BAD_REQUEST', `${key} is required`);
  return v;
}

function splitPath(target: string): string[] {
  const p = pathOnly(target);
  const parts = p.split('/').filter((s) => s !== '');
  try {
    return parts.map((s) => decodeURIComponent(s));
  } catch {
    throw apiError('BAD_REQUEST', `bad percent-encoding in ${p}`);
  }
}

function pathOnly(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

function queryOf(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? '' : target.slice(q + 1);
}

function matches(pattern: readonly (string | null)[], segments: readonly string[]): boolean {
  return (
    pattern.length === segments.length && pattern.every((p, i) => p === null || p === segments[i])
  );
}

function ok(body: unknown): ControlResponse {
  return { status: 200, body };
}
