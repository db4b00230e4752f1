/**
 * Serves /metrics on metrics_address (loopback by default; `off` serves nothing). GET and HEAD
 * only, no request body read, one short timeout: a scraper can never hold the daemon.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ObserverLog } from '../hooks/log-port.js';
import type { LvsdMetrics } from './lvsd-metrics.js';

/** `ADDR:PORT`, `[ADDR]:PORT` for IPv6, or `off`. */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  if (text === 'off') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  if (!m || host === undefined || port > 65535) throw new Error(`bad metrics address '${text}'`);
  return { host, port };
}

export class MetricsServer {
  private constructor(
    private readonly server: Server,
    readonly address: AddressInfo,
  ) {}

  static async listen(
    address: string,
    metrics: LvsdMetrics,
    log: ObserverLog,
  ): Promise<MetricsServer | undefined> {
    const at = parseListenAddress(address);
    if (!at) return undefined;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      metrics.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => {
          log.error({ metrics: { error: String(err) } }, 'metrics scrape failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
        },
      );
    });
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    server.listen(at.port, at.host);
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => {
        throw err instanceof Error ? err : new Error(String(err));
      }),
    ]);
    return new MetricsServer(server, server.address() as AddressInfo);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}
