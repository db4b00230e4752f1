/**
 * Real loopback backends for checker tests: raw TCP (so tests control every byte), optionally
 * TLS. Each records what it saw (request heads, SNI names, peer ports) so tests assert on the
 * wire, not on the checker's own account of it.
 */
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { execa } from 'execa';

export type Loopback = '127.0.0.1' | '::1';

export interface Seen {
  /** Request heads received (up to and including the blank line), latin1. */
  readonly requests: string[];
  /** SNI server names presented by TLS clients (undefined = none). */
  readonly sni: (string | undefined)[];
  /** Client source ports. */
  readonly remotePorts: number[];
  readonly remoteAddresses: string[];
  /** Bytes written by streaming behaviours. */
  sentBytes: number;
  connections: number;
  /** Connections currently open on the server side. */
  open: number;
}

export interface Backend extends Seen {
  readonly host: Loopback;
  readonly port: number;
  close(): Promise<void>;
}

export interface Behaviour {
  /** Runs at accept, before any byte is read. Return true when it took over the socket. */
  onAccept?(socket: Socket, seen: Seen): boolean;
  /** Runs once the request head has arrived. */
  onRequest?(socket: Socket, head: string, seen: Seen): void;
}

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
}

const MAX_HEAD = 64 * 1024;

export async function startBackend(
  behaviour: Behaviour,
  opts: { host?: Loopback; tls?: TlsMaterial } = {},
): Promise<Backend> {
  const host = opts.host ?? '127.0.0.1';
  const seen: Seen = {
    requests: [],
    sni: [],
    remotePorts: [],
    remoteAddresses: [],
    sentBytes: 0,
    connections: 0,
    open: 0,
  };
  const sockets = new Set<Socket>();
  const handle = (socket: Socket): void => {
    sockets.add(socket);
    seen.open++;
    socket.on('close', () => {
      seen.open--;
      sockets.delete(socket);
    });
    socket.on('error', () => undefined); // resets from the checker are expected
    seen.connections++;
    seen.remotePorts.push(socket.remotePort ?? 0);
    seen.remoteAddresses.push(socket.remoteAddress ?? '');
    if (behaviour.onAccept?.(socket, seen) === true) return;
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < MAX_HEAD) return;
      socket.off('data', onData);
      const text = head.toString('latin1', 0, end < 0 ? head.length : end + 4);
      seen.requests.push(text);
      behaviour.onRequest?.(socket, text, seen);
    };
    socket.on('data', onData);
  };
  const server: Server =
    opts.tls === undefined
      ? createNetServer(handle)
      : createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, (socket: TLSSocket) => {
          // Server side: the SNI name the client sent, or false.
          seen.sni.push(typeof socket.servername === 'string' ? socket.servername : undefined);
          handle(socket);
        });
  // Handshake failures (client refused our self-signed cert) are part of the tests.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return Object.assign(seen, {
    host,
    port,
    close: async (): Promise<void> => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  });
}

/** A port on which nothing listens (bound, then released). */
export async function closedPort(host: Loopback = '127.0.0.1'): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return port;
}

// ---- behaviours -----------------------------------------------------------------------------

export function respond(
  status: number,
  body: string | Buffer = '',
  extraHeaders: Record<string, string> = {},
  delayMs = 0,
): Behaviour {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return {
    onRequest(socket) {
      const write = (): void => {
        const headers = Object.entries({ 'Content-Length': String(bytes.length), ...extraHeaders })
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('');
        socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${status} X\r\n${headers}\r\n`), bytes]));
      };
      if (delayMs > 0) setTimeout(write, delayMs).unref();
      else write();
    },
  };
}

/** HTTP/1.0 without Content-Length: the body ends when the server closes. */
export function readToClose(body: string): Behaviour {
  return {
    onRequest(socket) {
      socket.write('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n');
      // Two writes, so the checker sees the body in more than one read.
      socket.write(body.slice(0, Math.floor(body.length / 2)));
      setTimeout(() => socket.end(body.slice(Math.floor(body.length / 2))), 20).unref();
    },
  };
}

export function chunked(parts: string[], trailer = ''): Behaviour {
  return {
    onRequest(socket) {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (const p of parts) socket.write(`${Buffer.byteLength(p).toString(16)};ext=1\r\n${p}\r\n`);
      socket.end(`0\r\n${trailer}\r\n`);
    },
  };
}

/**
 * Stream `total` bytes of body with backpressure (so the backend itself stays small), framed
 * as read-to-close, chunked or with a Content-Length. Stops when the client goes away.
 */
export function huge(total: number, framing: 'close' | 'chunked' | 'length'): Behaviour {
  const block = Buffer.alloc(64 * 1024, 0x61);
  return {
    onRequest(socket, _head, seen) {
      const te =
        framing === 'chunked'
          ? 'Transfer-Encoding: chunked\r\n'
          : framing === 'length'
            ? `Content-Length: ${total}\r\n`
            : '';
      socket.write(`HTTP/1.1 200 OK\r\n${te}\r\n`);
      let left = total;
      const pump = (): void => {
        while (left > 0 && !socket.destroyed) {
          const n = Math.min(left, block.length);
          const piece = framing === 'chunked' ? `${n.toString(16)}\r\n` : '';
          left -= n;
          seen.sentBytes += n;
          if (piece !== '') socket.write(piece);
          const ok = socket.write(n === block.length ? block : block.subarray(0, n));
          if (framing === 'chunked') socket.write('\r\n');
          if (!ok) {
            socket.once('drain', pump);
            return;
          }
        }
        if (!socket.destroyed) socket.end(framing === 'chunked' ? '0\r\n\r\n' : '');
      };
      pump();
    },
  };
}

/** Accept and never write (never read either). */
export const hang: Behaviour = { onAccept: () => true };

/** Read the request, never answer. */
export const silent: Behaviour = { onRequest: () => undefined };

/** Accept, then RST. */
export const resetOnAccept: Behaviour = {
  onAccept(socket) {
    socket.resetAndDestroy();
    return true;
  },
};

/** Read the request, then close cleanly (FIN) without answering. */
export const closeWithoutAnswer: Behaviour = {
  onRequest(socket) {
    socket.end();
  },
};

/** Not HTTP at all: an SSH banner. */
export const garbage: Behaviour = {
  onRequest(socket) {
    socket.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
  },
};

/** TCP_CHECK send/expect: answer "+PONG" split over two writes, 30 ms apart. */
export function pong(reply = '+PONG\r\n'): Behaviour {
  return {
    onAccept(socket) {
      socket.once('data', () => {
        socket.write(reply.slice(0, 3));
        setTimeout(() => socket.write(reply.slice(3)), 30).unref();
      });
      return true;
    },
  };
}

// ---- TLS material ---------------------------------------------------------------------------

/** A throw-away self-signed certificate for `name`, made with the machine's openssl. */
export async function selfSignedCert(name: string): Promise<TlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'lvsd-cert-'));
  try {
    await execa(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        `/CN=${name}`,
        '-addext',
        `subjectAltName=DNS:${name}`,
      ],
      { timeout: 20_000, stdin: 'ignore' },
    );
    return {
      key: await readFile(join(dir, 'key.pem'), 'utf8'),
      cert: await readFile(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Wait (bounded) until `cond` holds; returns whether it did. */
export async function eventually(cond: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
