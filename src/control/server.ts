/**
 * The control API served on two unix sockets (ruling 10): the admin socket (changes allowed;
 * mode 0660, group configurable, default root only) and the read-only socket (mode 0666, or
 * 0660 with a read group). Permissions are the socket file's: the kernel refuses `connect()`
 * to a user without write permission on it, so an unprivileged user cannot even reach the
 * admin API.
 *
 * Each socket is bound under a temporary name, given its mode and group, and then renamed over
 * the final path, so it is never reachable with the umask's permissions. A socket file left by
 * a crashed daemon is replaced only when nothing answers on it; a live one means another lvsd
 * runs there, and a path that is not a socket is never touched.
 *
 * "Who" is the user name the client declares in `x-lvsd-user` (Node cannot read peer
 * credentials) plus the socket it came through: informational, not authentication.
 */
import { readFileSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, rename, stat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { posix as path } from 'node:path';
import {
  DEFAULT_ADMIN_SOCKET,
  DEFAULT_RO_SOCKET,
  MAX_BODY_BYTES,
  USER_HEADER,
} from './constants.js';
import { apiError } from './errors.js';
import { EventStream } from './event-stream.js';
import type { StreamLimits } from './event-stream-policy.js';
import { errorResponse, handle, type ControlResponse } from './routes.js';
import type { ControlPort, SocketKind } from './types.js';

export { DEFAULT_ADMIN_SOCKET, DEFAULT_RO_SOCKET, MAX_BODY_BYTES, USER_HEADER };

export interface ControlServerOptions {
  readonly port: ControlPort;
  readonly adminPath?: string;
  readonly roPath?: string;
  /** Group name or gid that may use the admin socket (default: none: root only). */
  readonly adminGroup?: string | number;
  /** Group name or gid that may read (default: none: the read-only socket is 0666). */
  readonly readGroup?: string | number;
  readonly maxBodyBytes?: number;
  /** Where /etc/group is read from (tests). */
  readonly groupFile?: string;
  readonly onError?: (err: unknown) => void;
  /** Event stream limits (tests make them small). */
  readonly streamLimits?: StreamLimits;
}

/** Why the control sockets could not be set up; `code` is stable. */
export class ControlSetupError extends Error {
  constructor(
    readonly code: 'SOCKET_IN_USE' | 'SOCKET_PATH_TAKEN' | 'SOCKET_GROUP_UNKNOWN' | 'SOCKET_SETUP',
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ControlSetupError';
  }
}

interface Listening {
  readonly kind: SocketKind;
  readonly path: string;
  readonly server: Server;
  readonly ino: number;
}

/** The event streams open on a server's sockets: ended with a final line on close. */
type Streams = Set<EventStream>;

export class ControlServer {
  private constructor(
    private readonly listening: readonly Listening[],
    private readonly streams: Streams,
  ) {}

  static async start(opts: ControlServerOptions): Promise<ControlServer> {
    const adminPath = opts.adminPath ?? DEFAULT_ADMIN_SOCKET;
    const roPath = opts.roPath ?? DEFAULT_RO_SOCKET;
    const adminGid = groupId(opts.adminGroup, opts.groupFile);
    const readGid = groupId(opts.readGroup, opts.groupFile);
    const streams: Streams = new Set();
    const admin = await listen('admin', adminPath, 0o660, adminGid, opts, streams);
    try {
      const ro = await listen(
        'ro',
        roPath,
        readGid === undefined ? 0o666 : 0o660,
        readGid,
        opts,
        streams,
      );
      return new ControlServer([admin, ro], streams);
    } catch (err) {
      await closeOne(admin);
      throw err;
    }
  }

  get paths(): { admin: string; ro: string } {
    return {
      admin: this.listening.find((l) => l.kind === 'admin')?.path ?? '',
      ro: this.listening.find((l) => l.kind === 'ro')?.path ?? '',
    };
  }

  /** How many event streams are open (tests, status). */
  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * Stops listening, ends open connections and removes the socket files (if still ours). Open
   * event streams first get their final "lvsd is stopping" line.
   */
  async close(): Promise<void> {
    for (const s of [...this.streams]) s.stop();
    // Readers that keep up get their last events and the final line (bounded: 40 × 25 ms);
    // the others get the final line after what they already have.
    for (let i = 0; i < 40 && this.streams.size > 0; i++)
      await new Promise((r) => setTimeout(r, 25));
    for (const s of [...this.streams]) s.stop(true);
    await new Promise((r) => setImmediate(r));
    await Promise.all(this.listening.map(closeOne));
  }
}

async function listen(
  kind: SocketKind,
  file: string,
  mode: number,
  gid: number | undefined,
  opts: ControlServerOptions,
  streams: Streams,
): Promise<Listening> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  await checkExisting(file);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await unlink(tmp).catch(() => undefined);
  const server = createServer({ requestTimeout: 15_000, headersTimeout: 5_000 }, (req, res) => {
    serve(kind, req, res, opts, streams).catch((err: unknown) => opts.onError?.(err));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(tmp, () => {
      server.off('error', reject);
      resolve();
    });
  });
  try {
    await chmod(tmp, mode);
    if (gid !== undefined) await chown(tmp, process.getuid?.() ?? 0, gid);
    await rename(tmp, file);
    const ino = (await stat(file)).ino;
    server.on('error', (err) => opts.onError?.(err));
    return { kind, path: file, server, ino };
  } catch (err) {
    server.close();
    await unlink(tmp).catch(() => undefined);
    throw new ControlSetupError('SOCKET_SETUP', `cannot set up ${file}: ${(err as Error).message}`);
  }
}

/** A leftover socket with nothing listening is stale; anything else stops the start. */
async function checkExisting(file: string): Promise<void> {
  let st;
  try {
    st = await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) {
    throw new ControlSetupError(
      'SOCKET_PATH_TAKEN',
      `${file} exists and is not a socket; lvsd does not remove it`,
      'choose another socket path (control_socket in the lvsd block, or lvsd run --socket)',
    );
  }
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(file);
    const done = (v: boolean): void => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => {
      done(true);
    });
    s.once('connect', () => {
      done(true);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT');
    });
  });
  if (live) {
    throw new ControlSetupError(
      'SOCKET_IN_USE',
      `another process (another lvsd?) is listening on ${file}`,
      'stop it first, or give this lvsd its own socket and state directory',
    );
  }
}

async function closeOne(l: Listening): Promise<void> {
  await new Promise<void>((resolve) => {
    l.server.close(() => {
      resolve();
    });
    l.server.closeAllConnections();
  });
  // Remove the file only if it is still the one we bound (a new daemon may have replaced it).
  try {
    if ((await stat(l.path)).ino === l.ino) await unlink(l.path);
  } catch {
    // already gone
  }
}

async function serve(
  kind: SocketKind,
  req: IncomingMessage,
  res: ServerResponse,
  opts: ControlServerOptions,
  streams: Streams,
): Promise<void> {
  const max = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const body = await readBody(req, max);
  let response: ControlResponse;
  if (body.kind === 'too-large') {
    response = errorResponse(apiError('BODY_TOO_LARGE', String(max)));
    res.setHeader('connection', 'close');
  } else {
    const parsed = parseBody(req, body.data);
    response = parsed.ok
      ? await handle(
          {
            method: req.method ?? 'GET',
            path: req.url ?? '/',
            body: parsed.value,
            socket: kind,
            user: declaredUser(req),
          },
          opts.port,
        )
      : parsed.response;
  }
  if (response.stream && opts.port.events) {
    const stream = new EventStream(res, opts.port.events, response.stream, opts.streamLimits, (s) =>
      streams.delete(s),
    );
    streams.add(stream);
    return;
  }
  const text = `${JSON.stringify(response.body)}\n`;
  res.writeHead(response.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text, () => {
    if (body.kind === 'too-large') req.destroy();
  });
}

type Body = { kind: 'ok'; data: Buffer } | { kind: 'too-large' };

function readBody(req: IncomingMessage, max: number): Promise<Body> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > max) {
    req.resume();
    return Promise.resolve({ kind: 'too-large' });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        over = true;
        resolve({ kind: 'too-large' });
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (!over) resolve({ kind: 'ok', data: Buffer.concat(chunks) });
    });
    req.once('error', reject);
  });
}

function parseBody(
  req: IncomingMessage,
  data: Buffer,
): { ok: true; value: unknown } | { ok: false; response: ControlResponse } {
  if (data.length === 0) return { ok: true, value: undefined };
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'application/json')
    return {
      ok: false,
      response: errorResponse(apiError('UNSUPPORTED_MEDIA_TYPE', type || 'no content-type')),
    };
  try {
    return { ok: true, value: JSON.parse(data.toString('utf8')) as unknown };
  } catch (err) {
    return {
      ok: false,
      response: errorResponse(
        apiError('BAD_REQUEST', `the body is not JSON: ${(err as Error).message}`),
      ),
    };
  }
}

/** The declared user: printable, at most 64 characters; `unknown` when absent. */
function declaredUser(req: IncomingMessage): string {
  const raw = req.headers[USER_HEADER];
  const v = (Array.isArray(raw) ? raw[0] : raw) ?? '';
  const clean = v.replace(/[^\x21-\x7e]/g, '').slice(0, 64);
  return clean === '' ? 'unknown' : clean;
}

/** A group name (from /etc/group) or a gid → gid. */
function groupId(group: string | number | undefined, groupFile = '/etc/group'): number | undefined {
  if (group === undefined) return undefined;
  if (typeof group === 'number') return group;
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    // fall through: unknown
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new ControlSetupError(
    'SOCKET_GROUP_UNKNOWN',
    `no group '${group}' on this host (${groupFile})`,
    'create the group, or give its numeric gid',
  );
}
