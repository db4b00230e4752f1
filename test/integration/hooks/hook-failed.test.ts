/**
 * `hook.failed` on the event stream, from real processes: a notify script that exits non-zero,
 * one that hangs past its timeout, runs dropped and refused by the queue bounds, and a notify
 * FIFO reader script that exits or is refused. Each failure is one event, after the event that
 * caused it in every listener's view, with a bounded payload that the published schema accepts.
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describedHost, loadConfig, type Config } from '../../../src/config/index.js';
import { hookFailed } from '../../../src/hooks/hook-failure.js';
import { silentLog } from '../../../src/hooks/log-port.js';
import { NotifyService } from '../../../src/hooks/notify-service.js';
import { MemorySource } from '../../../src/keepalived-config/index.js';
import { systemClock } from '../../../src/lib/clock.js';
import {
  EVENT_REASON_CHARS,
  EventBus,
  type AnyEvent,
  type LvsdEvent,
} from '../../../src/lib/events.js';
import { instanceText } from '../../unit/hooks/fixtures.js';
import { SchemaChecker } from '../../unit/webhooks/json-schema-check.js';

const checker = new SchemaChecker(
  JSON.parse(
    readFileSync(new URL('../../../docs/events.schema.json', import.meta.url), 'utf8'),
  ) as Record<string, never>,
);

let dir: string;
let fail: string;
let hang: string;

async function script(name: string, body: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lvsd-hookfail-'));
  fail = await script('fail.sh', 'echo "broken: $*" >&2\nexit 3');
  hang = await script('hang.sh', 'exec sleep 30');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const VS = 'tcp:198.18.0.10:80';
const RS = '198.18.1.11:80';

function load(text: string, executables: string[]): Config {
  const r = loadConfig('/k.conf', {
    source: new MemorySource({ '/k.conf': text }),
    host: describedHost({ interfaces: ['eth0'], executables }),
    configId: 'test',
    hostname: 'test',
  });
  if (!r.config) throw new Error('fixture does not load');
  return r.config;
}

function config(): Config {
  return load(
    `${instanceText('VI_1', 51, 100, `    notify_master ${hang}\n    notify_backup "${fail} one two"`)}
virtual_server 198.18.0.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 1
        notify_down "${fail} rs-down secret-word"
        TCP_CHECK { connect_timeout 1 }
    }
}
`,
    [fail, hang],
  );
}

/** Events as a listener subscribed after the notify service sees them. */
function recorder(bus: EventBus): AnyEvent[] {
  const seen: AnyEvent[] = [];
  bus.subscribe((e) => seen.push(e));
  return seen;
}

function failures(seen: AnyEvent[]): LvsdEvent<'hook.failed'>[] {
  return seen.filter((e): e is LvsdEvent<'hook.failed'> => e.name === 'hook.failed');
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function transition(bus: EventBus, to: string): void {
  bus.publish(
    'vrrp.transition',
    'VI_1',
    { kind: 'vrrp' },
    { instance: 'VI_1', from: 'x', to, cause: 't', priority: 100 },
  );
}

describe('hook.failed', () => {
  it('a script that exits non-zero and one killed at its timeout: one event each, bounded, valid', async () => {
    const bus = new EventBus(systemClock);
    const svc = await NotifyService.start({
      bus,
      config: config(),
      log: silentLog,
      timeoutMs: 400,
    });
    const seen = recorder(bus);
    bus.publish(
      'rs.down',
      `${VS}/${RS}`,
      { kind: 'check' },
      { vs: VS, rs: RS, checker: 'tcp', code: 'refused', reason: 'refused', removed: false },
    );
    transition(bus, 'master'); // hangs: killed at 400 ms
    await until(() => failures(seen).length === 2, 5000);
    await svc.stop();

    const [down, timeout] = failures(seen);
    expect(down?.subject).toBe(`rs:${VS}/${RS}`);
    expect(down?.cause).toEqual({ kind: 'hook', detail: 'exit' });
    expect(down?.data).toEqual({
      hook: 'notify_down',
      subject: `rs:${VS}/${RS}`,
      argv0: fail,
      code: 'exit',
      reason: expect.stringContaining('3') as string,
      durationMs: expect.any(Number) as number,
    });
    // Only argv[0]: the configured words after it never reach the stream.
    expect(JSON.stringify(down)).not.toContain('secret-word');
    expect(timeout?.data.hook).toBe('notify_master');
    expect(timeout?.data.code).toBe('timeout');
    expect(timeout?.data.durationMs).toBeGreaterThanOrEqual(350);
    for (const e of failures(seen)) expect(checker.check(e, '#/$defs/event')).toEqual([]);
    // Each failure comes after the event that caused it.
    expect(seen.map((e) => e.seq)).toEqual([...seen.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it('runs dropped or refused by the queue bounds are events too, in seq order for every listener', async () => {
    const bus = new EventBus(systemClock);
    const early = recorder(bus); // before the service: sees the causes first
    const svc = await NotifyService.start({
      bus,
      config: config(),
      log: silentLog,
      timeoutMs: 300,
      policy: { maxConcurrent: 1, maxPerSubject: 1, maxSubjects: 1 },
    });
    const late = recorder(bus);
    transition(bus, 'master'); // runs (hangs)
    transition(bus, 'backup'); // waits
    transition(bus, 'master'); // the waiting backup run is dropped for it
    bus.publish(
      'rs.down',
      `${VS}/${RS}`,
      { kind: 'check' },
      { vs: VS, rs: RS, checker: 'tcp', code: 'refused', reason: 'refused', removed: false },
    ); // a second subject waiting: refused
    await until(() => failures(late).some((e) => e.data.code === 'refused'), 2000);
    const codes = failures(late).map((e) => [e.data.hook, e.data.code]);
    expect(codes).toContainEqual(['notify_backup', 'dropped']);
    expect(codes).toContainEqual(['notify_down', 'refused']);
    await svc.stop(0);
    for (const view of [early, late]) {
      const seqs = view.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('a notify FIFO reader that exits, and one refused by script security', async () => {
    const bus = new EventBus(systemClock);
    const seen = recorder(bus);
    const quits = await script('quits.sh', 'exit 1');
    const svc = await NotifyService.start({
      bus,
      config: config(),
      log: silentLog,
      fifos: {
        all: { path: join(dir, 'all.fifo'), script: { argv: [quits], user: 'root', at: 'test' } },
      },
    });
    await until(() => failures(seen).length === 1, 5000);
    expect(failures(seen)[0]?.data).toMatchObject({
      hook: 'fifo_script',
      subject: `fifo:${join(dir, 'all.fifo')}`,
      argv0: quits,
      code: 'exit',
      reason: 'exited with status 1',
    });
    await svc.stop();

    // Under /tmp (writable by all) every script is insecure once script security is on.
    const secure = load(
      `global_defs {\n    enable_script_security\n    script_user root\n}\n${instanceText('VI_1', 51, 100, '')}`,
      [],
    );
    const refusedSvc = await NotifyService.start({
      bus,
      config: secure,
      log: silentLog,
      fifos: {
        vrrp: { path: join(dir, 'vrrp.fifo'), script: { argv: [quits], user: 'root', at: 'test' } },
      },
    });
    await until(() => failures(seen).length === 2, 2000);
    expect(failures(seen)[1]?.data).toMatchObject({ hook: 'fifo_script', code: 'refused' });
    await refusedSvc.stop();
    // Stopping kills a running reader: that is no failure.
    expect(failures(seen)).toHaveLength(2);
  });
});

describe('hookFailed (pure)', () => {
  it('caps the reason and keeps argv[0] only', () => {
    const f = hookFailed({
      hook: 'notify',
      queue: 'instance:VI_1',
      argv: ['/bin/x', 'INSTANCE', 'VI_1'],
      ok: false,
      code: 'exit',
      reason: 'x'.repeat(5000),
      durationMs: 12.6,
    });
    expect(f.data.reason).toHaveLength(EVENT_REASON_CHARS);
    expect(f.data.argv0).toBe('/bin/x');
    expect(f.data.durationMs).toBe(13);
    expect(f.subject).toBe('instance:VI_1');
  });
});
