/**
 * TCP_CHECK: up if the TCP connect succeeds within connect_timeout (keepalived check_tcp.c).
 *
 * lvsd extension, off unless configured: `send` is written once connected; with `expect`, the
 * answer is read (at most `maxReadBytes`) until the expected text appears. The reading phase has
 * its own connect_timeout, counted in total, as the HTTP checker's response phase.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { CancelSignal } from '../cancel.js';
import type { ProbeResult } from '../result.js';
import { armDeadline, cancelDeadline, type Deadline } from './deadline.js';
import {
  abortedResult,
  closeProbeSocket,
  result,
  socketFailure,
  timeoutReason,
} from './socket-common.js';

export interface TcpCheckTarget {
  readonly address: string;
  readonly port: number;
  readonly bindto?: string;
  readonly bindPort?: number;
  readonly connectTimeoutMs: number;
  /** lvsd extension: bytes (UTF-8) written once connected. */
  readonly send?: string;
  /** lvsd extension: text (UTF-8) that must appear in the answer. */
  readonly expect?: string;
  /** Read cap while looking for `expect`. Default 16 KiB. */
  readonly maxReadBytes?: number;
}

export const DEFAULT_MAX_READ_BYTES = 16 * 1024;

/** Never throws. */
export function probeTcp(target: TcpCheckTarget, signal?: CancelSignal): Promise<ProbeResult> {
  const start = performance.now();
  if (signal?.aborted === true) return Promise.resolve(abortedResult(start));
  return new TcpExchange(target, start, signal).run();
}

export { probeTcp as probe };

class TcpExchange {
  private socket: Socket | undefined;
  private connected = false;
  private deadline: Deadline | undefined;
  private finished = false;
  private settle: ((r: ProbeResult) => void) | undefined;
  private readonly expect: Buffer | undefined;
  private seen: Buffer = Buffer.alloc(0);

  constructor(
    private readonly target: TcpCheckTarget,
    private readonly start: number,
    private readonly signal: CancelSignal | undefined,
  ) {
    this.expect =
      target.expect === undefined || target.expect === '' ? undefined : Buffer.from(target.expect);
  }

  run(): Promise<ProbeResult> {
    return new Promise<ProbeResult>((resolve) => {
      this.settle = resolve;
      const t = this.target;
      this.deadline = armDeadline(t.connectTimeoutMs, this.onTimeout);
      this.signal?.addEventListener('abort', this.onAbort, { once: true });
      try {
        this.socket = netConnect({
          host: t.address,
          port: t.port,
          ...(t.bindto === undefined ? {} : { localAddress: t.bindto }),
          ...(t.bindPort === undefined ? {} : { localPort: t.bindPort }),
        });
      } catch (err) {
        this.finish(socketFailure(this.start, err));
        return;
      }
      const s = this.socket;
      s.on('error', this.onError); // stays attached after finish: see closeProbeSocket
      s.once('connect', this.onConnect);
      if (this.expect !== undefined) {
        s.on('data', this.onData);
        s.once('end', this.onEnd);
      }
      s.once('close', () => {
        if (!this.finished) this.finish(result(this.start, 'reset', 'connection closed'));
      });
      if (t.send !== undefined && t.send !== '') {
        s.write(t.send, (err) => {
          // On a write error the 'error' event reports it.
          if (err == null && this.expect === undefined)
            this.finish(result(this.start, 'ok', 'connected, request sent'));
        });
      }
    });
  }

  private readonly onConnect = (): void => {
    this.connected = true;
    cancelDeadline(this.deadline);
    if (this.finished) return;
    if (this.expect !== undefined) {
      this.deadline = armDeadline(this.target.connectTimeoutMs, this.onTimeout);
    } else if (this.target.send === undefined || this.target.send === '') {
      this.finish(result(this.start, 'ok', 'connected'));
    }
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.finished || this.expect === undefined) return;
    const cap = this.target.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
    const before = this.seen.length;
    const room = Math.max(0, cap - before);
    this.seen = Buffer.concat([this.seen, chunk.subarray(0, room)]);
    // Search only where a match can newly start: it may straddle the previous read.
    const from = Math.max(0, before - this.expect.length + 1);
    if (this.seen.indexOf(this.expect, from) >= 0) {
      this.finish(
        result(this.start, 'ok', 'expected answer seen', { bodyBytes: this.seen.length }),
      );
    } else if (this.seen.length >= cap) {
      this.finish(
        result(this.start, 'expect', `expected text not in the first ${cap} bytes`, {
          bodyBytes: this.seen.length,
        }),
      );
    }
  };

  private readonly onEnd = (): void => {
    if (this.finished) return;
    this.finish(
      result(
        this.start,
        'expect',
        `connection closed before the expected text (${this.seen.length} bytes read)`,
        {
          bodyBytes: this.seen.length,
        },
      ),
    );
  };

  private readonly onError = (err: Error): void => {
    if (!this.finished) this.finish(socketFailure(this.start, err));
  };

  private readonly onTimeout = (): void => {
    if (this.finished) return;
    this.deadline = undefined;
    const phase = this.connected ? 'response' : 'connect';
    this.finish(
      result(
        this.start,
        this.connected ? 'timeout_response' : 'timeout_connect',
        timeoutReason(this.target.connectTimeoutMs, phase),
        this.connected ? { bodyBytes: this.seen.length } : undefined,
      ),
    );
  };

  private readonly onAbort = (): void => {
    if (!this.finished) this.finish(abortedResult(this.start));
  };

  private finish(r: ProbeResult): void {
    if (this.finished) return;
    this.finished = true;
    cancelDeadline(this.deadline);
    this.signal?.removeEventListener('abort', this.onAbort);
    if (this.socket !== undefined) closeProbeSocket(this.socket, this.connected);
    this.settle?.(r);
  }
}
