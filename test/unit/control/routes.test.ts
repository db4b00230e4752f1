/** The API handlers without a socket: routes, read-only refusals, typed errors, bodies. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiErrors } from '../../../src/control/errors.js';
import { handle, type ControlRequest } from '../../../src/control/routes.js';
import { fakePort, type FakePort } from './fake-port.js';

let port: FakePort;
beforeEach(async () => {
  port = await fakePort();
});
afterEach(async () => {
  await port.admin.stop();
});

const VS = encodeURIComponent('tcp:198.18.0.10:80');
const RS = encodeURIComponent('198.18.1.11:80');

function req(
  method: string,
  path: string,
  body?: unknown,
  socket: 'admin' | 'ro' = 'admin',
): ControlRequest {
  return { method, path, body, socket, user: 'alice' };
}

describe('routes', () => {
  it('GET /v1/status answers on both sockets', async () => {
    for (const socket of ['admin', 'ro'] as const) {
      const r = await handle(req('GET', '/v1/status', undefined, socket), port);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        director: { id: 'd1' },
        vrrp: [{ name: 'VI_1', state: null }],
      });
    }
  });

  it('POST drain drains (who = declared user, via the admin socket); DELETE undrains', async () => {
    const r = await handle(
      req('POST', `/v1/servers/${VS}/${RS}/drain`, { reason: 'kernel' }),
      port,
    );
    expect(r).toMatchObject({
      status: 200,
      body: {
        vs: 'tcp:198.18.0.10:80',
        rs: '198.18.1.11:80',
        changed: true,
        admin: { state: 'drain', by: 'alice', via: 'admin-socket', reason: 'kernel' },
        previous: { state: 'active' },
      },
    });
    expect(port.admin.drained('tcp:198.18.0.10:80', '198.18.1.11:80')).toBe(true);
    const again = await handle(
      req('POST', `/v1/servers/${VS}/${RS}/drain`, { reason: 'kernel' }),
      port,
    );
    expect(again.body).toMatchObject({ changed: false });
    const u = await handle(req('DELETE', `/v1/servers/${VS}/${RS}/drain`), port);
    expect(u).toMatchObject({
      status: 200,
      body: { changed: true, admin: { state: 'active' }, previous: { by: 'alice' } },
    });
  });

  it('names are resolved (no prefix, IPv6 canonical) and answered with configured names', async () => {
    const r = await handle(
      req(
        'POST',
        `/v1/servers/${encodeURIComponent('[2001:DB8::10]:443')}/${encodeURIComponent('[2001:db8:1:0::11]:443')}/drain`,
      ),
      port,
    );
    expect(r.body).toMatchObject({ vs: 'tcp:[2001:db8::10]:443', rs: '[2001:db8:1::11]:443' });
  });

  it.each([
    ['POST', `/v1/servers/${VS}/${RS}/drain`],
    ['DELETE', `/v1/servers/${VS}/${RS}/drain`],
    ['POST', '/v1/maint'],
    ['DELETE', '/v1/maint/d1-1'],
    ['POST', '/v1/reload'],
  ])(
    'the read-only socket refuses %s %s with READ_ONLY_SOCKET and changes nothing',
    async (method, path) => {
      const r = await handle(req(method, path, { vs: 'x' }, 'ro'), port);
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({
        error: {
          code: 'READ_ONLY_SOCKET',
          hint: expect.stringContaining('admin socket') as string,
        },
      });
      expect(port.admin.drains()).toEqual([]);
      expect(port.reloads).toBe(0);
    },
  );

  it('unknown, ambiguous and malformed servers are typed errors that change nothing', async () => {
    const nf = await handle(
      req('POST', `/v1/servers/${VS}/${encodeURIComponent('198.18.1.99:80')}/drain`),
      port,
    );
    expect(nf).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND', candidates: ['198.18.1.11:80', '198.18.1.12:80'] } },
    });
    const amb = await handle(
      req(
        'POST',
        `/v1/servers/${encodeURIComponent('198.18.0.10:53')}/${encodeURIComponent('198.18.1.11:53')}/drain`,
      ),
      port,
    );
    expect(amb).toMatchObject({
      status: 409,
      body: {
        error: { code: 'AMBIGUOUS', candidates: ['tcp:198.18.0.10:53', 'udp:198.18.0.10:53'] },
      },
    });
    const bad = await handle(req('POST', `/v1/servers/web/${RS}/drain`), port);
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'BAD_NAME' } } });
    expect(port.admin.drains()).toEqual([]);
  });

  it('bodies are checked: an object, reason a bounded string', async () => {
    expect(
      (await handle(req('POST', `/v1/servers/${VS}/${RS}/drain`, [1]), port)).body,
    ).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect(
      (await handle(req('POST', `/v1/servers/${VS}/${RS}/drain`, { reason: 5 }), port)).body,
    ).toMatchObject({
      error: { code: 'BAD_REQUEST', message: 'bad request: reason must be a string' },
    });
    expect(
      (
        await handle(
          req('POST', `/v1/servers/${VS}/${RS}/drain`, { reason: 'x'.repeat(2000) }),
          port,
        )
      ).status,
    ).toBe(400);
  });

  it('GET /v1/servers/{vs}/{rs} gives admin state and connections', async () => {
    port.conns.set('tcp:198.18.0.10:80/198.18.1.11:80', { active: 3, inactive: 9 });
    const r = await handle(req('GET', `/v1/servers/${VS}/${RS}`, undefined, 'ro'), port);
    expect(r.body).toEqual({
      vs: 'tcp:198.18.0.10:80',
      rs: '198.18.1.11:80',
      admin: { state: 'active' },
      connections: { active: 3, inactive: 9 },
    });
  });

  it('maintenance windows: add (201), list, cancel; bad cron/zone/duration are BAD_REQUEST', async () => {
    const add = await handle(
      req('POST', '/v1/maint', {
        vs: '198.18.0.10:80',
        rs: '198.18.1.12:80',
        cron: '0 3 * * 0',
        durationMs: 3_600_000,
        timezone: 'Europe/Berlin',
        reason: 'patch',
      }),
      port,
    );
    expect(add).toMatchObject({
      status: 201,
      body: {
        window: {
          id: 'd1-1',
          vs: 'tcp:198.18.0.10:80',
          rs: '198.18.1.12:80',
          by: 'alice',
          timezone: 'Europe/Berlin',
        },
      },
    });
    expect((add.body as { window: { nextRun: number } }).window.nextRun).toBeGreaterThan(
      Date.now(),
    );
    const list = await handle(req('GET', '/v1/maint', undefined, 'ro'), port);
    expect(list.body).toMatchObject({ windows: [{ id: 'd1-1' }] });
    const del = await handle(req('DELETE', '/v1/maint/d1-1'), port);
    expect(del).toMatchObject({ status: 200, body: { window: { id: 'd1-1' }, undrained: false } });
    expect((await handle(req('DELETE', '/v1/maint/d1-1'), port)).body).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    const base = {
      vs: '198.18.0.10:80',
      rs: '198.18.1.12:80',
      cron: '0 3 * * 0',
      durationMs: 1000,
      timezone: 'UTC',
    };
    for (const bad of [
      { ...base, cron: '99 * * * *' },
      { ...base, timezone: 'Nowhere/City' },
      { ...base, durationMs: 0 },
      { ...base, durationMs: '1h' },
      { ...base, cron: undefined },
    ]) {
      expect((await handle(req('POST', '/v1/maint', bad), port)).body).toMatchObject({
        error: { code: 'BAD_REQUEST' },
      });
    }
    expect(port.admin.windows()).toEqual([]);
  });

  it('reload: success lists the changes; a rejected file is INVALID_CONFIG (422) with file:line diagnostics', async () => {
    port.reloadResult = { ok: true, added: ['tcp:198.18.0.11:80'], removed: [], changed: [] };
    expect(await handle(req('POST', '/v1/reload'), port)).toEqual({
      status: 200,
      body: { added: ['tcp:198.18.0.11:80'], removed: [], changed: [] },
    });
    port.reloadResult = {
      ok: false,
      problems: [
        '/etc/keepalived/keepalived.conf:3:5: error: unknown keyword lb_algoo [unknown-keyword]',
        '/etc/keepalived/keepalived.conf:9:1: error: x',
      ],
    };
    const r = await handle(req('POST', '/v1/reload'), port);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({
      error: {
        code: 'INVALID_CONFIG',
        message: 'the new configuration was rejected; the running one stays: 2 problems',
        diagnostics: port.reloadResult.problems,
      },
    });
  });

  it('unknown paths, wrong methods and port failures are catalogue errors', async () => {
    expect(await handle(req('GET', '/v2/status'), port)).toMatchObject({
      status: 404,
      body: { error: { code: 'UNKNOWN_ROUTE' } },
    });
    expect(await handle(req('PUT', '/v1/status'), port)).toMatchObject({
      status: 405,
      body: { error: { code: 'METHOD_NOT_ALLOWED', message: '/v1/status takes GET, not PUT' } },
    });
    expect(await handle(req('GET', '/v1/servers/%E0%A4%A/x'), port)).toMatchObject({ status: 400 });
    port.status = () => {
      throw new Error('boom');
    };
    expect(await handle(req('GET', '/v1/status?x=1'), port)).toMatchObject({
      status: 500,
      body: { error: { code: 'INTERNAL', message: 'internal error in lvsd: boom' } },
    });
  });

  it('every catalogue entry has a 4xx/5xx status and a message', () => {
    for (const [code, spec] of Object.entries(apiErrors)) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.message.length).toBeGreaterThan(0);
    }
  });
});
