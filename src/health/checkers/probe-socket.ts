/**
 * Reused net.Socket objects for plain-TCP probes. Every check still opens a NEW TCP connection
 * (a new handle and file descriptor, as keepalived and HAProxy do); what is reused is the JS
 * object around it. Constructing a net.Socket (Duplex, both stream states, EventEmitter) and
 * collecting its object graph cost about 10 µs of the ~40 µs a check costs in all
 * (bench/probe-cpu, a fresh vs reused microbenchmark: user time 20 → 11 µs per check).
 *
 * Node documents `socket.connect()` on a socket whose 'close' has been emitted as the way to
 * reconnect it, so a socket goes back to the idle list only from its 'close' listener, never
 * earlier. Its listeners (and the `onread` buffer) are attached once, at construction, and
 * forward to whichever probe currently owns the socket; a probe gives up ownership before it
 * closes the socket, so late events of a finished probe reach nobody (the 'error' listener stays,
 * so a late error cannot crash the process).
 */
import {
  Socket,
  type ConnectOpts,
  type SocketConnectOpts,
  type SocketConstructorOpts,
} from 'node:net';

/** What a probe implements to own a socket. Each method is called at most once per connection,
 * except onBytes. */
export interface ProbeSocketOwner {
  onConnect(): void;
  /** `chunk` is a view of a shared buffer: consume it synchronously, keep no reference. */
  onBytes(chunk: Buffer): void;
  onEnd(): void;
  onError(err: Error): void;
  /** Closed without 'end' or 'error' having reached the owner first. */
  onClose(): void;
}

/**
 * One read buffer for every pooled probe socket in the process (net's `onread`): no allocation
 * per read. Safe because owners consume it synchronously (the contract of onBytes).
 */
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

/** Idle sockets kept for reuse; beyond this, a closed socket is left to the GC. */
export const MAX_IDLE_PROBE_SOCKETS = 1024;
const idle: ProbeSocket[] = [];

class ProbeSocket extends Socket {
  owner: ProbeSocketOwner | undefined = undefined;
  /** false after a connect() that threw: its state is unknown, it is not reused. */
  reusable = true;

  constructor() {
    // Node's Socket constructor takes `onread` (net.connect passes it through); the type of the
    // constructor's options just does not list it.
    const opts: SocketConstructorOpts & ConnectOpts = {
      onread: {
        buffer: sharedReadBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          this.owner?.onBytes((buf as Buffer).subarray(0, n));
          return true;
        },
      },
    };
    super(opts);
    this.on('connect', () => this.owner?.onConnect());
    this.on('end', () => this.owner?.onEnd());
    this.on('error', (err: Error) => this.owner?.onError(err));
    this.on('close', () => {
      const owner = this.owner;
      this.owner = undefined;
      owner?.onClose();
      if (this.reusable && idle.length < MAX_IDLE_PROBE_SOCKETS) idle.push(this);
    });
  }
}

/**
 * Connect a (reused or new) socket for `owner`. Throws what `socket.connect()` throws
 * synchronously (invalid localAddress, bad port); the socket is then discarded.
 */
export function openProbeSocket(owner: ProbeSocketOwner, opts: SocketConnectOpts): Socket {
  const s = idle.pop() ?? new ProbeSocket();
  s.owner = owner;
  try {
    s.connect(opts);
  } catch (err) {
    s.owner = undefined;
    s.reusable = false;
    s.destroy();
    throw err;
  }
  return s;
}

/**
 * The owner is done with `socket`: no further events reach it. Closes the connection with RST
 * once connected (see closeProbeSocket); the socket becomes idle on its 'close'.
 */
export function releaseProbeSocket(socket: Socket, owner: ProbeSocketOwner): void {
  if (socket instanceof ProbeSocket && socket.owner === owner) socket.owner = undefined;
}

/** For tests: sockets waiting for reuse. */
export function idleProbeSockets(): number {
  return idle.length;
}
