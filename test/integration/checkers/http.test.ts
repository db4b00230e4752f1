import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { pendingDeadlines } from '../../../src/health/checkers/deadline.js';
import {
  probeHttp,
  type HttpCheckTarget,
  type HttpUrl,
} from '../../../src/health/checkers/http.js';
import { idleProbeSockets } from '../../../src/health/checkers/probe-socket.js';
import {
  chunked,
  closeWithoutAnswer,
  closedPort,
  eventually,
  garbage,
  hang,
  huge,
  readToClose,
  resetOnAccept,
  respond,
  silent,
  startBackend,
  type Backend,
  type Behaviour,
  type Loopback,
} from '../../helpers/backends.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

const backends: Backend[] = [];
async function backend(b: Behaviour, host: Loopback = '127.0.0.1'): Promise<Backend> {
  const s = await startBackend(b, { host });
  backends.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
  // Every probe cancelled its deadline (a leak would keep the sweeper alive forever).
  expect(pendingDeadlines()).toBe(0);
});

function target(
  b: { host: string; port: number },
  urls: HttpUrl[] = [{ path: '/health' }],
  extra: Partial<HttpCheckTarget> = {},
): HttpCheckTarget {
  return { kind: 'http', address: b.host, port: b.port, connectTimeoutMs: 1000, urls, ...extra };
}

describe.each(['127.0.0.1', '::1'] as const)('HTTP_GET over %s', (host) => {
  it('passes on 200 and sends keepalived-style request with Host address:port', async () => {
    const b = await backend(respond(200, 'ok'), host);
    const r = await probeHttp(target(b));
    expect(r).toMatchObject({
      ok: true,
      code: 'ok',
      reason: 'status 200',
      detail: { status: 200, path: '/health', bodyBytes: 2 },
    });
    expect(r.latencyMs).toBeGreaterThan(0);
    expect(r.latencyMs).toBeLessThan(1000);
    const hostHeader = host === '::1' ? `[::1]:${b.port}` : `127.0.0.1:${b.port}`;
    expect(b.requests).toEqual([
      `GET /health HTTP/1.0\r\nUser-Agent: lvsd\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`,
    ]);
  });

  it('fails on 500 and 503 with code status', async () => {
    for (const status of [500, 503]) {
      const b = await backend(respond(status, 'down'), host);
      const r = await probeHttp(target(b));
      expect(r).toMatchObject({
        ok: false,
        code: 'status',
        reason: `status ${status}`,
        detail: { status },
      });
    }
  });

  it('reports connection refused on a closed port', async () => {
    const port = await closedPort(host);
    const r = await probeHttp(target({ host, port }));
    expect(r).toMatchObject({
      ok: false,
      code: 'refused',
      reason: 'connection refused',
      detail: { errno: 'ECONNREFUSED' },
    });
  });
});

describe('HTTP_GET status codes', () => {
  it.each([
    { status: 503, ranges: [[500, 599]], ok: true },
    { status: 200, ranges: [[201, 204]], ok: false },
    {
      status: 204,
      ranges: [
        [200, 200],
        [204, 204],
      ],
      ok: true,
    },
    { status: 301, ranges: [[301, 301]], ok: true },
    { status: 302, ranges: undefined, ok: false },
    { status: 299, ranges: undefined, ok: true },
  ] as const)('status $status against $ranges → ok=$ok', async ({ status, ranges, ok }) => {
    const b = await backend(respond(status, '', { Location: 'http://198.18.0.99/elsewhere' }));
    const url: HttpUrl = ranges === undefined ? { path: '/' } : { path: '/', statusRanges: ranges };
    const r = await probeHttp(target(b, [url]));
    expect(r.ok).toBe(ok);
    expect(r.code).toBe(ok ? 'ok' : 'status');
    expect(r.detail?.status).toBe(status);
    expect(b.connections).toBe(1); // redirects are not followed
  });
});

describe('HTTP_GET digest', () => {
  it('passes with the right digest (case-insensitive) and fails with a wrong one', async () => {
    const b = await backend(respond(200, 'hello world\n'));
    const good = await probeHttp(
      target(b, [{ path: '/', digest: md5('hello world\n').toUpperCase() }]),
    );
    expect(good).toMatchObject({ ok: true, code: 'ok', detail: { digest: md5('hello world\n') } });
    const bad = await probeHttp(target(b, [{ path: '/', digest: md5('something else') }]));
    expect(bad).toMatchObject({
      ok: false,
      code: 'digest',
      reason: 'digest mismatch',
      detail: { digest: md5('hello world\n') },
    });
  });

  it('hashes an HTTP/1.0 read-to-close body', async () => {
    const body = 'x'.repeat(10_000) + 'end';
    const b = await backend(readToClose(body));
    const r = await probeHttp(target(b, [{ path: '/', digest: md5(body) }]));
    expect(r).toMatchObject({
      ok: true,
      code: 'ok',
      detail: { bodyBytes: body.length, digest: md5(body) },
    });
  });

  it('de-chunks a chunked body (with trailers) before hashing', async () => {
    const parts = ['hello ', 'chunked ', 'world'];
    const b = await backend(chunked(parts, 'X-Trailer: 1\r\n'));
    const r = await probeHttp(
      target(b, [{ path: '/', digest: md5(parts.join('')) }], { httpVersion: '1.1' }),
    );
    expect(r).toMatchObject({ ok: true, code: 'ok', detail: { bodyBytes: 19 } });
    expect(b.requests[0]).toMatch(/^GET \/ HTTP\/1\.1\r\n/);
  });
});

describe('HTTP_GET virtualhost and urls', () => {
  it('sends the url virtualhost over the checker one as Host', async () => {
    const b = await backend(respond(200));
    await probeHttp(
      target(b, [{ path: '/a', virtualhost: 'url.example' }, { path: '/b' }], {
        virtualhost: 'chk.example',
      }),
    );
    expect(b.requests.map((r) => /Host: (.*)\r\n/.exec(r)?.[1])).toEqual([
      'url.example',
      'chk.example',
    ]);
  });

  it('needs every url to pass and returns the first failure', async () => {
    const b = await backend({
      onRequest(socket, head) {
        const status = head.startsWith('GET /bad') ? 404 : 200;
        socket.end(`HTTP/1.1 ${status} X\r\nContent-Length: 0\r\n\r\n`);
      },
    });
    const r = await probeHttp(target(b, [{ path: '/ok' }, { path: '/bad' }, { path: '/never' }]));
    expect(r).toMatchObject({
      ok: false,
      code: 'status',
      reason: 'status 404',
      detail: { path: '/bad' },
    });
    expect(b.connections).toBe(2); // one fresh connection per url; stops at the first failure
  });

  it('refuses a path that would inject into the request line', async () => {
    const r = await probeHttp(
      target({ host: '127.0.0.1', port: 9 }, [{ path: '/x HTTP/1.1\r\nEvil: 1' }]),
    );
    expect(r).toMatchObject({ ok: false, code: 'protocol' });
  });

  it('binds to bindto / bindPort', async () => {
    const b = await backend(respond(200));
    const bindPort = await closedPort();
    const r = await probeHttp(target(b, undefined, { bindto: '127.0.0.1', bindPort }));
    expect(r.ok).toBe(true);
    expect(b.remotePorts).toEqual([bindPort]);
  });

  it('reports a bindto address that is not local as code bind', async () => {
    const b = await backend(respond(200));
    // 198.18.0.0/15 is a lab range: no such local address, no packet leaves (bind fails first).
    const r = await probeHttp(target(b, undefined, { bindto: '198.18.0.77' }));
    expect(r).toMatchObject({ ok: false, code: 'bind', detail: { errno: 'EADDRNOTAVAIL' } });
  });
});

describe('HTTP_GET misbehaving servers', () => {
  it('times out a slow answer in the response phase', async () => {
    const b = await backend(respond(200, 'late', {}, 1500));
    const r = await probeHttp(target(b, undefined, { connectTimeoutMs: 300 }));
    expect(r).toMatchObject({
      ok: false,
      code: 'timeout_response',
      reason: 'timeout after 300 ms (response)',
    });
    expect(r.latencyMs).toBeGreaterThanOrEqual(295);
    expect(r.latencyMs).toBeLessThan(900);
  });

  it('times out a server that accepts and never writes', async () => {
    const b = await backend(silent);
    const r = await probeHttp(target(b, undefined, { connectTimeoutMs: 250 }));
    expect(r).toMatchObject({
      code: 'timeout_response',
      reason: 'timeout after 250 ms (response)',
    });
  });

  it('reports a reset right after accept', async () => {
    const b = await backend(resetOnAccept);
    const r = await probeHttp(target(b));
    expect(r).toMatchObject({ ok: false, code: 'reset', reason: 'connection reset by peer' });
  });

  it('reports a clean close without an answer', async () => {
    const b = await backend(closeWithoutAnswer);
    const r = await probeHttp(target(b));
    expect(r).toMatchObject({
      ok: false,
      code: 'reset',
      reason: 'connection closed before a response',
    });
  });

  it('recognises garbage at once', async () => {
    const b = await backend(garbage);
    const r = await probeHttp(target(b));
    expect(r).toMatchObject({ ok: false, code: 'protocol' });
    expect(r.reason).toBe('not an HTTP response (starts with "SSH-2.0-OpenSSH_9.2p1 De")');
  });

  it('fails a declared Content-Length over the cap without reading the body', async () => {
    const b = await backend(huge(1024 ** 3, 'length'));
    const r = await probeHttp(target(b, undefined, { connectTimeoutMs: 5000 }));
    expect(r).toMatchObject({
      code: 'body_too_large',
      reason: 'body larger than 1048576 bytes (Content-Length 1073741824)',
    });
    expect(r.latencyMs).toBeLessThan(1000);
  });

  it.each(['close', 'chunked'] as const)(
    'stops a 1 GiB %s-framed body at the cap, quickly, in bounded memory',
    async (framing) => {
      const b = await backend(huge(1024 ** 3, framing));
      const rssBefore = process.memoryUsage().rss;
      const r = await probeHttp(
        target(b, [{ path: '/', digest: md5('') }], { connectTimeoutMs: 10_000 }),
      );
      const rssGrowth = process.memoryUsage().rss - rssBefore;
      expect(r).toMatchObject({
        ok: false,
        code: 'body_too_large',
        reason: 'body larger than 1048576 bytes',
      });
      expect(r.detail?.bodyBytes).toBeLessThanOrEqual(1024 * 1024);
      expect(r.latencyMs).toBeLessThan(2000);
      expect(rssGrowth).toBeLessThan(64 * 1024 * 1024);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // The backend is flow-controlled: it could only push what the socket buffers held.
      expect(b.sentBytes).toBeLessThan(64 * 1024 * 1024);
    },
  );

  it('honours a smaller maxBodyBytes', async () => {
    const b = await backend(respond(200, 'x'.repeat(2000)));
    const r = await probeHttp(target(b, undefined, { maxBodyBytes: 1000 }));
    expect(r).toMatchObject({
      code: 'body_too_large',
      reason: 'body larger than 1000 bytes (Content-Length 2000)',
    });
  });

  it('caps the headers', async () => {
    const b = await backend(respond(200, '', { 'X-Big': 'y'.repeat(40_000) }));
    const r = await probeHttp(target(b));
    expect(r).toMatchObject({ code: 'body_too_large', reason: 'headers larger than 16384 bytes' });
  });

  it('cancels on abort and cleans up', async () => {
    const b = await backend(silent);
    const ac = new AbortController();
    setTimeout(() => {
      ac.abort();
    }, 50);
    const r = await probeHttp(target(b, undefined, { connectTimeoutMs: 5000 }), ac.signal);
    expect(r).toMatchObject({ ok: false, code: 'aborted', reason: 'aborted' });
    expect(r.latencyMs).toBeLessThan(1000);
    const again = await probeHttp(target(b), ac.signal);
    expect(again.code).toBe('aborted');
  });

  it('never leaves a connection behind a hanging server after the timeout', async () => {
    const b = await backend(hang);
    const r = await probeHttp(target(b, undefined, { connectTimeoutMs: 200 }));
    expect(r.code).toBe('timeout_response');
    // Closed (with RST) by the checker: the backend sees its socket go away.
    expect(await eventually(() => b.open === 0)).toBe(true);
    expect(b.connections).toBe(1);
  });
});

describe('HTTP_GET reuses socket objects, never connections', () => {
  it('runs each check on a new connection of a reused socket, after successes and failures', async () => {
    const ok = await backend(respond(200, 'ok'));
    const reset = await backend(resetOnAccept);
    const junk = await backend(garbage);
    const hung = await backend(hang);
    const refused = { host: '127.0.0.1', port: await closedPort() };
    await probeHttp(target(ok)); // so the idle list is not empty
    const codes: string[] = [];
    for (const b of [reset, ok, refused, ok, junk, ok, hung, ok]) {
      expect(await eventually(() => idleProbeSockets() > 0)).toBe(true);
      const before = idleProbeSockets();
      const run = probeHttp(target(b, undefined, { connectTimeoutMs: 200 }));
      // Taken from the idle list, not constructed...
      expect(idleProbeSockets()).toBe(before - 1);
      codes.push((await run).code);
      // ...and back on it once closed.
      expect(await eventually(() => idleProbeSockets() === before)).toBe(true);
    }
    expect(codes).toEqual([
      'reset',
      'ok',
      'refused',
      'ok',
      'protocol',
      'ok',
      'timeout_response',
      'ok',
    ]);
    // A fresh TCP connection (own source port) per check, the warm-up one included.
    expect(ok.connections).toBe(5);
    expect(new Set(ok.remotePorts).size).toBe(5);
    expect(await eventually(() => hung.open === 0)).toBe(true);
  });

  it('discards a socket whose connect threw, and the next check still runs', async () => {
    const ok = await backend(respond(200, 'ok'));
    const r = await probeHttp(target(ok, undefined, { bindto: 'not-an-address' }));
    expect(r.ok).toBe(false);
    expect((await probeHttp(target(ok))).code).toBe('ok');
  });

  it('serves concurrent checks with one socket each', async () => {
    const ok = await backend(respond(200, 'ok'));
    const rs = await Promise.all(Array.from({ length: 20 }, () => probeHttp(target(ok))));
    expect(rs.every((r) => r.ok)).toBe(true);
    expect(ok.connections).toBe(20);
    expect(new Set(ok.remotePorts).size).toBe(20);
  });
});
