/**
 * Drives fixtures/transport-peer.ts inside a namespace: bundle it once (esbuild), spawn one per
 * director, send datagrams, wait (bounded) for what arrives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import type { NetnsLab } from '../../helpers/netns.js';
import type { UdpTransportOptions } from '../../../src/vrrp/drivers/transport-udp.js';
import type {
  TransportStats,
  SendResult,
  PeerAddress,
} from '../../../src/vrrp/drivers/transport.js';

export interface Bundle {
  readonly file: string;
  dispose(): void;
}

export async function bundlePeer(): Promise<Bundle> {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-peer-'));
  const file = join(dir, 'peer.mjs');
  await build({
    entryPoints: [new URL('./fixtures/transport-peer.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: file,
    logLevel: 'warning',
  });
  return {
    file,
    dispose: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Received {
  readonly data: string;
  readonly from: PeerAddress;
  readonly atMs: number;
}

type Line = {
  ready?: boolean;
  error?: string;
  code?: string;
  got?: string;
  from?: PeerAddress;
  atMs?: number;
  sent?: SendResult;
  stats?: TransportStats;
};

export class Peer {
  readonly received: Received[] = [];
  readonly sent: SendResult[] = [];
  readonly errors: string[] = [];
  private readonly waiters = new Set<() => void>();
  private stats: TransportStats | undefined;
  private ready = false;
  private readonly child;

  constructor(lab: NetnsLab, ns: string, bundle: Bundle, options: UdpTransportOptions) {
    this.child = lab.spawn(ns, process.execPath, [bundle.file, JSON.stringify(options)]);
    const rl = createInterface({ input: this.child.stdout });
    rl.on('line', (text) => {
      const line = JSON.parse(text) as Line;
      if (line.ready === true) this.ready = true;
      if (line.error !== undefined) this.errors.push(`${line.code ?? ''} ${line.error}`);
      if (line.got !== undefined && line.from !== undefined) {
        this.received.push({
          data: Buffer.from(line.got, 'base64').toString(),
          from: line.from,
          atMs: line.atMs ?? 0,
        });
      }
      if (line.sent !== undefined) this.sent.push(line.sent);
      if (line.stats !== undefined) this.stats = line.stats;
      for (const w of this.waiters) w();
    });
  }

  /** Waits (bounded) until `cond` holds; returns whether it did. */
  async until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    if (cond()) return true;
    return new Promise((resolve) => {
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(true);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(cond());
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  async start(timeoutMs = 10_000): Promise<void> {
    const ok = await this.until(() => this.ready || this.errors.length > 0, timeoutMs);
    if (!ok || !this.ready)
      throw new Error(`peer did not start: ${this.errors.join('; ') || 'timeout'}`);
  }

  send(data: string, to?: { address: string; port?: number }): void {
    this.child.stdin.write(
      `${JSON.stringify({ send: Buffer.from(data).toString('base64'), ...(to === undefined ? {} : { to }) })}\n`,
    );
  }

  async getStats(timeoutMs = 5_000): Promise<TransportStats> {
    this.stats = undefined;
    this.child.stdin.write(`${JSON.stringify({ stats: true })}\n`);
    await this.until(() => this.stats !== undefined, timeoutMs);
    if (this.stats === undefined) throw new Error('no stats from peer');
    return this.stats;
  }

  close(): void {
    this.child.stdin.end();
  }
}
