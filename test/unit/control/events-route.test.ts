/** GET /v1/events as a route: parameters checked, a stream described, both sockets. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handle, type ControlRequest } from '../../../src/control/routes.js';
import { EventRing } from '../../../src/observe/event-ring.js';
import { fakePort, type FakePort } from './fake-port.js';

let port: FakePort;
beforeEach(async () => {
  port = await fakePort();
});
afterEach(async () => {
  await port.admin.stop();
});

function req(path: string, socket: 'admin' | 'ro' = 'ro', method = 'GET'): ControlRequest {
  return { method, path, body: undefined, socket, user: 'alice' };
}

describe('GET /v1/events', () => {
  it('describes the stream: since and follow, on the read-only socket too', async () => {
    const p = { ...port, events: new EventRing() };
    expect(await handle(req('/v1/events'), p)).toMatchObject({
      status: 200,
      stream: { follow: false },
    });
    expect((await handle(req('/v1/events'), p)).stream).not.toHaveProperty('since');
    expect(await handle(req('/v1/events?since=42&follow=1', 'admin'), p)).toMatchObject({
      stream: { since: 42, follow: true },
    });
    expect((await handle(req('/v1/events?follow'), p)).stream).toEqual({ follow: true });
    expect((await handle(req('/v1/events?follow=0'), p)).stream).toEqual({ follow: false });
  });

  it.each([
    ['/v1/events?since=-1', /since must be an event seq/],
    ['/v1/events?since=abc', /since must be/],
    ['/v1/events?follow=yes', /follow is 1 or 0/],
    ['/v1/events?limit=3', /unknown parameter 'limit'/],
  ])('%s is a bad request', async (path, message) => {
    const r = await handle(req(path), { ...port, events: new EventRing() });
    expect(r.status).toBe(400);
    expect(r.stream).toBeUndefined();
    expect(JSON.stringify(r.body)).toMatch(message);
  });

  it('is UNAVAILABLE from a port without an event feed; other methods are not allowed', async () => {
    const r = await handle(req('/v1/events'), port);
    expect(r).toMatchObject({ status: 503, body: { error: { code: 'UNAVAILABLE' } } });
    const post = await handle(req('/v1/events', 'admin', 'POST'), {
      ...port,
      events: new EventRing(),
    });
    expect(post).toMatchObject({ status: 405 });
  });
});
