import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeHttp, type HttpCheckTarget } from '../../../src/health/checkers/http.js';
import {
  hang,
  respond,
  selfSignedCert,
  startBackend,
  type Backend,
  type TlsMaterial,
} from '../../helpers/backends.js';

const NAME = 'lvsd-test.example';
let tls: TlsMaterial;
const backends: Backend[] = [];

beforeAll(async () => {
  tls = await selfSignedCert(NAME);
});
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

async function tlsBackend(host: '127.0.0.1' | '::1' = '127.0.0.1'): Promise<Backend> {
  const b = await startBackend(respond(200, 'secure'), { host, tls });
  backends.push(b);
  return b;
}

function target(b: Backend, extra: Partial<HttpCheckTarget> = {}): HttpCheckTarget {
  return {
    kind: 'https',
    address: b.host,
    port: b.port,
    connectTimeoutMs: 2000,
    urls: [{ path: '/' }],
    ...extra,
  };
}

describe('SSL_GET', () => {
  it.each(['127.0.0.1', '::1'] as const)(
    'passes against a self-signed cert with verification off (%s)',
    async (host) => {
      const b = await tlsBackend(host);
      const r = await probeHttp(target(b));
      expect(r).toMatchObject({
        ok: true,
        code: 'ok',
        reason: 'status 200',
        detail: { status: 200, bodyBytes: 6 },
      });
      // No virtualhost: no SNI (an address literal is never sent as SNI).
      expect(b.sni).toEqual([undefined]);
    },
  );

  it('fails with code tls when verification is on and the cert is self-signed', async () => {
    const b = await tlsBackend();
    const r = await probeHttp(target(b, { tlsVerify: true, virtualhost: NAME }));
    expect(r).toMatchObject({
      ok: false,
      code: 'tls',
      detail: { errno: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
    });
    expect(r.reason).toMatch(/^TLS: self[- ]signed certificate/);
  });

  it('passes with verification on when the CA is given and the name matches', async () => {
    const b = await tlsBackend();
    const r = await probeHttp(target(b, { tlsVerify: true, ca: tls.cert, virtualhost: NAME }));
    expect(r).toMatchObject({ ok: true, code: 'ok' });
  });

  it('fails with verification on when the name does not match', async () => {
    const b = await tlsBackend();
    const r = await probeHttp(
      target(b, { tlsVerify: true, ca: tls.cert, virtualhost: 'other.example' }),
    );
    expect(r).toMatchObject({
      ok: false,
      code: 'tls',
      detail: { errno: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    });
  });

  it('sends the virtualhost as SNI and Host; sni overrides; sni false sends none', async () => {
    const b = await tlsBackend();
    await probeHttp(target(b, { virtualhost: NAME }));
    await probeHttp(target(b, { virtualhost: NAME, sni: 'sni.example' }));
    await probeHttp(target(b, { virtualhost: NAME, sni: false }));
    expect(b.sni).toEqual([NAME, 'sni.example', undefined]);
    expect(b.requests.map((r) => /Host: (.*)\r\n/.exec(r)?.[1])).toEqual([NAME, NAME, NAME]);
  });

  it('fails with code tls when the server speaks plain HTTP', async () => {
    // What a plain HTTP server does with a ClientHello: a 400 in clear text, then close.
    const plain = await startBackend({
      onAccept(socket) {
        socket.once('data', () =>
          socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'),
        );
        return true;
      },
    });
    backends.push(plain);
    const r = await probeHttp(target(plain));
    expect(r).toMatchObject({ ok: false, code: 'tls' });
    // OpenSSL reports it as EPROTO ("wrong version number"): still a TLS failure, not "io".
    expect(r.detail?.errno).toBe('EPROTO');
    expect(r.reason).toMatch(/^TLS: .*wrong version number/);
  });

  it('times out a handshake that never completes in the connect phase', async () => {
    const b = await startBackend(hang);
    backends.push(b);
    const r = await probeHttp(target(b, { connectTimeoutMs: 250 }));
    expect(r).toMatchObject({
      ok: false,
      code: 'timeout_connect',
      reason: 'timeout after 250 ms (TLS handshake)',
    });
  });
});
