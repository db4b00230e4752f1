/**
 * Admin-state replication, the shell: an HTTP listener for the peer's state and a sender that
 * pushes ours after every operator change and every 10 s (the resend heals whatever a restart
 * or a lost message missed). The message and its checks are pure (src/admin/replication.ts).
 * Failures are reported when the link's health changes, not on every attempt.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import { request } from 'undici';
import type { AdminService } from '../admin/service.js';
import {
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  MAX_REPLICATION_BYTES,
  REPLICATION_PATH,
  receiveReplication,
  replicationKey,
  replicationMessage,
} from '../admin/replication.js';
import type { DaemonSettings } from '../config/index.js';
import type { TimerHandle, TimerPort } from '../health/timer-port.js';
import type { Clock } from '../lib/clock.js';
import { LvsdError } from '../lib/errors.js';
import type { EventBus } from '../lib/events.js';
import { inSubnet } from '../vrrp/drivers/links.js';

export const RESEND_MS = 10_000;
const SEND_TIMEOUT_MS = 2_000;
/** A burst of drains (a script draining 50 servers) goes out as one message. */
const DEBOUNCE_MS = 50;

export interface ReplicatorOptions {
  readonly settings: NonNullable<DaemonSettings['replication']>;
  /** The key_file's bytes; the replication key is derived from them. */
  readonly keyBytes: Uint8Array;
  readonly director: string;
  readonly admin: AdminService;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly timers: TimerPort;
}

/** The local address on the peer's subnet (where the peer reaches us), else any. */
export function listenAddress(peer: string | undefined): string {
  if (peer !== undefined)
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? [])
        if (a.cidr !== null && !a.internal && inSubnet(peer, a.cidr)) return a.address;
  return peer?.includes(':') ? '::' : '0.0.0.0';
}

/** The signature headers of a request or an answer (a repeated header counts as missing). */
function signedBy(h: Readonly<Record<string, string | string[] | undefined>>): {
  timestamp: string | undefined;
  signature: string | undefined;
} {
  const ts = h[HEADER_TIMESTAMP];
  const sig = h[HEADER_SIGNATURE];
  return {
    timestamp: typeof ts === 'string' ? ts : undefined,
    signature: typeof sig === 'string' ? sig : undefined,
  };
}

/** The body, up to the replication cap (a peer that sends more is cut off). */
async function readCapped(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    size += c.length;
    if (size > MAX_REPLICATION_BYTES)
      throw new Error(`answer larger than ${MAX_REPLICATION_BYTES} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function url(peer: string, port: number): string {
  return `http://${peer.includes(':') ? `[${peer}]` : peer}:${port}${REPLICATION_PATH}`;
}

export class Replicator {
  private server: Server | undefined;
  private timer: TimerHandle;
  private debounce: TimerHandle;
  private stopped = false;
  private sending: Promise<void> = Promise.resolve();
  /** Per peer: the last outcome reported (undefined: none yet). */
  private readonly health = new Map<string, boolean>();
  private readonly key: Buffer;

  private constructor(private readonly opts: ReplicatorOptions) {
    this.key = replicationKey(opts.keyBytes);
  }

  /** Listens and starts the resend loop; rejects with REPLICATION_LISTEN if it cannot bind. */
  static async start(opts: ReplicatorOptions): Promise<Replicator> {
    const r = new Replicator(opts);
    const host = opts.settings.listen ?? listenAddress(opts.settings.peers[0]);
    const server = createServer({ requestTimeout: 5_000, headersTimeout: 5_000 }, (req, res) => {
      r.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => {
        reject(
          new LvsdError(
            'REPLICATION_LISTEN',
            `admin-state replication cannot listen on ${host} port ${opts.settings.port}: ${e.message}`,
            'set replication_listen to an address of this director, or another replication_port',
          ),
        );
      });
      server.listen(opts.settings.port, host, () => {
        resolve();
      });
    });
    server.maxHeadersCount = 32;
    r.server = server;
    r.schedule(0);
    return r;
  }

  /** The admin state changed here: send it soon. */
  changed(): void {
    if (this.stopped || this.debounce !== undefined) return;
    this.debounce = this.opts.timers.setTimeout(() => {
      this.debounce = undefined;
      this.push();
    }, DEBOUNCE_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.timers.clearTimeout(this.timer);
    this.opts.timers.clearTimeout(this.debounce);
    await this.sending;
    await new Promise<void>((resolve) => {
      if (!this.server) resolve();
      else
        this.server.close(() => {
          resolve();
        });
      this.server?.closeAllConnections();
    });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.opts.timers.setTimeout(() => {
      this.push();
      this.schedule(RESEND_MS);
    }, delayMs);
  }

  private push(): void {
    const { body, headers } = replicationMessage(
      this.key,
      this.opts.director,
      this.opts.admin.state,
      this.opts.clock.wallMs(),
    );
    this.sending = this.sending.then(() =>
      Promise.all(
        this.opts.settings.peers.map(async (peer) => {
          try {
            const res = await request(url(peer, this.opts.settings.port), {
              method: 'POST',
              headers,
              body,
              headersTimeout: SEND_TIMEOUT_MS,
              bodyTimeout: SEND_TIMEOUT_MS,
            });
            const text = await readCapped(res.body);
            if (res.statusCode !== 200) {
              this.report(
                peer,
                'sent',
                false,
                false,
                `HTTP ${res.statusCode}: ${text.slice(0, 300)}`,
              );
              return;
            }
            // The answer is the peer's own state, signed the same way (push-pull): a director
            // that just started catches up at once instead of at the next resend.
            const r = receiveReplication(
              this.key,
              signedBy(res.headers),
              text,
              this.opts.clock.wallMs(),
            );
            if (!r.ok) {
              this.report(peer, 'sent', false, false, `answer refused: ${r.reason}`);
              return;
            }
            const changed = await this.opts.admin.mergeRemote(r.state);
            this.report(peer, 'sent', true, changed, 'ok');
          } catch (err) {
            this.report(
              peer,
              'sent',
              false,
              false,
              err instanceof Error ? err.message : String(err),
            );
          }
        }),
      ).then(() => undefined),
    );
  }

  /** Sends are reported when the peer's health flips, or when they changed its state. */
  private report(
    peer: string,
    direction: 'sent' | 'received',
    ok: boolean,
    changed: boolean,
    detail: string,
  ): void {
    const key = `${direction} ${peer}`;
    const before = this.health.get(key);
    this.health.set(key, ok);
    if (before === ok && !changed) return;
    this.opts.bus.publish(
      'admin.replication',
      peer,
      { kind: 'network', detail },
      { peer, direction, ok, changed, detail },
    );
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const peer = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
    const answer = (status: number, value: object): void => {
      res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify(value));
    };
    if (req.method !== 'POST' || req.url !== REPLICATION_PATH) {
      answer(404, { error: 'not found' });
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > MAX_REPLICATION_BYTES) {
        refused = true;
        answer(413, { error: `larger than ${MAX_REPLICATION_BYTES} bytes` });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      const r = receiveReplication(
        this.key,
        signedBy(req.headers),
        Buffer.concat(chunks).toString('utf8'),
        this.opts.clock.wallMs(),
      );
      if (!r.ok) {
        this.report(peer, 'received', false, false, r.reason);
        answer(r.status, { error: r.reason });
        return;
      }
      this.opts.admin.mergeRemote(r.state).then(
        (changed) => {
          this.report(r.director, 'received', true, changed, 'ok');
          const mine = replicationMessage(
            this.key,
            this.opts.director,
            this.opts.admin.state,
            this.opts.clock.wallMs(),
          );
          res.writeHead(200, { ...mine.headers, connection: 'close' });
          res.end(mine.body);
        },
        (err: unknown) => {
          this.report(r.director, 'received', false, false, String(err));
          answer(500, { error: 'cannot save the merged state' });
        },
      );
    });
    req.on('error', () => undefined);
  }
}
