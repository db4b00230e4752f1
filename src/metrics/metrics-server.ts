/**
 * Serves /metrics on metrics_address (loopback by default; `off` serves nothing), and beside
 * it the read-only status page: /status (the page), /status/fragment (what it refreshes
 * itself with), /status.json (the same data for machines). GET and HEAD only, no request body
 * read, one short timeout: a scraper or a browser can never hold the daemon.
 */
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ObserverLog } from '../hooks/log-port.js';
import type { LvsdMetrics } from './lvsd-metrics.js';
import type { ObserverSnapshot } from './snapshot.js';
import { STATUS_PAGE_CSP, statusDocument, statusPageData } from './status-page.js';
import { renderStatusFragment } from './status-view.js';

/** `ADDR:PORT`, `[ADDR]:PORT` for IPv6, or `off`. */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  if (text === 'off') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  if (!m || host === undefined || port > 65535) throw new Error(`bad metrics address '${text}'`);
  return { host, port };
}

type PageKind = 'page' | 'fragment' | 'json';
const PAGES: Readonly<Record<string, PageKind>> = {
  '/status': 'page',
  '/status/': 'page',
  '/status/fragment': 'fragment',
  '/status.json': 'json',
};

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': STATUS_PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

async function servePage(
  kind: PageKind,
  snapshot: ObserverSnapshot,
  head: boolean,
  res: ServerResponse,
): Promise<void> {
  const data = await statusPageData(snapshot);
  const [headers, body] =
    kind === 'json'
      ? [
          { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
          `${JSON.stringify({ status: data.status ?? null, events: data.events, ...(data.error ? { error: data.error } : {}) })}\n`,
        ]
      : [HTML_HEADERS, kind === 'page' ? statusDocument(data) : renderStatusFragment(data)];
  res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
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
    /** What the status page shows; without status() it says "not available". */
    snapshot: ObserverSnapshot = {
      virtualServers: () => [],
      vrrpInstances: () => [],
    },
  ): Promise<MetricsServer | undefined> {
    const at = parseListenAddress(address);
    if (!at) return undefined;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const page = PAGES[path];
      if (path !== '/metrics' && !page) {
        res
          .writeHead(404, { 'content-type': 'text/plain' })
          .end('not found: try /metrics or /status\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (page) {
        void servePage(page, snapshot, req.method === 'HEAD', res);
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
