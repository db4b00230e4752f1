/**
 * The event ring exists before the admin state is opened: a drain that expired while lvsd was
 * down is ended while the state file is opened, and that `admin.expired` is in
 * `GET /v1/events?since=0` (real control sockets, real state file, memory IPVS driver).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apply, emptyState } from '../../../src/admin/state.js';
import { AdminStore } from '../../../src/admin/store.js';
import { ControlClient } from '../../../src/control/client.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import type { AnyEvent } from '../../../src/lib/events.js';
import { controlSocketsIn, startTestDaemon } from '../../helpers/test-daemon.js';

const VS = 'tcp:198.18.0.10:80';
const RS = '198.18.1.11:80';
let dir: string;
let daemon: Daemon | undefined;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-ring-'));
});
afterEach(async () => {
  await daemon?.stop('test');
  daemon = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('the event ring at start', () => {
  it('holds the admin.expired published while the admin state is opened', async () => {
    const stateDir = path.join(dir, 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    // A drain that ended a minute ago, saved as a previous run would have left it.
    const t = apply(
      emptyState,
      {
        type: 'drain',
        vs: VS,
        rs: RS,
        by: 'alice',
        via: 'admin-socket',
        until: Date.now() - 60_000,
        director: 'lb1',
      },
      Date.now() - 120_000,
    );
    await new AdminStore({ dir: stateDir }).save(t.state);

    const file = path.join(dir, 'k.conf');
    writeFileSync(
      file,
      `virtual_server 198.18.0.10 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 198.18.1.11 80 {\n  weight 1\n }\n}\n`,
    );
    const control = controlSocketsIn(dir);
    daemon = await startTestDaemon(file, { stateDir, control });
    const client = new ControlClient({ socketPath: control.roPath });
    const stream = await client.events({ since: 0, follow: false });
    const held: AnyEvent[] = [];
    for await (const l of stream.lines()) if (l.kind === 'event') held.push(l.event);
    await client.close();

    const names = held.map((e) => e.name);
    expect(held[0]?.seq).toBe(1);
    expect(names).toContain('admin.expired');
    expect(names.indexOf('admin.expired')).toBeLessThan(names.indexOf('daemon.started'));
    expect(held.find((e) => e.name === 'admin.expired')?.data).toEqual({ vs: VS, rs: RS });
  });
});
