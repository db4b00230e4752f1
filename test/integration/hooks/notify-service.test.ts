/**
 * Notify scripts and FIFOs for real: fixture scripts record their argv, one hangs, one fails;
 * a FIFO reader sees keepalived's lines, and after a reload every state again.
 */
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describedHost, loadConfig, type Config } from '../../../src/config/index.js';
import type { HookOutcome } from '../../../src/hooks/script-runner.js';
import { NotifyService } from '../../../src/hooks/notify-service.js';
import { silentLog } from '../../../src/hooks/log-port.js';
import { MemorySource } from '../../../src/keepalived-config/index.js';
import { systemClock } from '../../../src/lib/clock.js';
import { EventBus } from '../../../src/lib/events.js';
import { instanceText } from '../../unit/hooks/fixtures.js';

let dir: string;
let record: string;
let hang: string;
let fail: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lvsd-hooks-'));
  record = join(dir, 'record.sh');
  hang = join(dir, 'hang.sh');
  fail = join(dir, 'fail.sh');
  // The first word is the output file; the rest is what keepalived would pass.
  await writeFile(record, '#!/bin/sh\nout="$1"; shift\nprintf "%s\\n" "$*" >> "$out"\n');
  await writeFile(hang, '#!/bin/sh\necho hanging\nexec sleep 30\n');
  await writeFile(fail, '#!/bin/sh\necho "broken: $*" >&2\nexit 3\n');
  for (const f of [record, hang, fail]) await chmod(f, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function config(): Config {
  const out = join(dir, 'argv.txt');
  const text = `${instanceText('VI_1', 51, 100, `    notify_master "${record} ${out} master"\n    notify "${record} ${out}"`)}
${instanceText('VI_2', 52, 100, `    notify_master ${hang}\n    notify_backup "${fail} x"`)}
virtual_server 198.18.0.10 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 1
        notify_down "${record} ${out} rs-down"
        notify_up "${record} ${out} rs-up"
        TCP_CHECK { connect_timeout 1 }
    }
}
`;
  const r = loadConfig('/etc/keepalived/keepalived.conf', {
    source: new MemorySource({ '/etc/keepalived/keepalived.conf': text }),
    host: describedHost({ interfaces: ['eth0'], executables: [record, hang, fail] }),
    configId: 'test',
    hostname: 'test',
  });
  if (!r.config) throw new Error('fixture does not load');
  return r.config;
}

const VS = 'tcp:198.18.0.10:80';
const RS = '198.18.1.11:80';

describe('notify scripts', () => {
  it('run with keepalived’s argv, in event order per instance; a hanging one is killed and delays nothing else', async () => {
    const bus = new EventBus(systemClock);
    const outcomes: HookOutcome[] = [];
    const svc = await NotifyService.start({
      bus,
      config: config(),
      log: silentLog,
      timeoutMs: 1500,
      onOutcome: (o) => outcomes.push(o),
    });
    const t = (instance: string, to: string, priority = 100) =>
      bus.publish(
        'vrrp.transition',
        instance,
        { kind: 'vrrp' },
        { instance, from: 'x', to, cause: 't', priority },
      );

    const start = performance.now();
    t('VI_2', 'master'); // hangs until killed at 1.5 s
    t('VI_2', 'backup'); // waits behind it: same instance
    t('VI_1', 'backup', 100);
    t('VI_1', 'master', 110);
    bus.publish(
      'rs.down',
      `${VS}/${RS}`,
      { kind: 'check' },
      { vs: VS, rs: RS, checker: 'tcp', code: 'refused', reason: 'refused', removed: false },
    );
    bus.publish(
      'rs.up',
      `${VS}/${RS}`,
      { kind: 'check' },
      { vs: VS, rs: RS, weight: 1, checker: 'tcp', code: 'ok', reason: 'ok' },
    );

    // VI_1's and the real server's scripts finish long before the hanging one is killed.
    const unrelated = () => outcomes.filter((o) => o.queue !== 'instance:VI_2').length;
    for (let i = 0; i < 100 && unrelated() < 5; i++) await new Promise((r) => setTimeout(r, 20));
    expect(unrelated()).toBe(5);
    expect(performance.now() - start).toBeLessThan(1400);

    expect(await svc.runner.idle(10_000)).toBe(true);
    const argv = await readFile(join(dir, 'argv.txt'), 'utf8');
    const lines = argv.trim().split('\n');
    // One instance's scripts in event order; the real server's in its own order.
    expect(lines.filter((l) => !l.startsWith('rs-'))).toEqual([
      'INSTANCE VI_1 BACKUP 100',
      'master',
      'INSTANCE VI_1 MASTER 110',
    ]);
    expect(lines.filter((l) => l.startsWith('rs-'))).toEqual(['rs-down', 'rs-up']);

    const vi2 = outcomes.filter((o) => o.queue === 'instance:VI_2');
    expect(vi2.map((o) => [o.hook, o.code])).toEqual([
      ['notify_master', 'timeout'],
      ['notify_backup', 'exit'],
    ]);
    expect(vi2[0]?.durationMs).toBeGreaterThanOrEqual(1400);
    await svc.stop();
  });
});

describe('script security', () => {
  it('refuses, at run time, a notify script a non-root user could change', async () => {
    // /tmp is writable by everyone, which alone makes every script under it insecure: use a
    // root-owned directory (the test runs as root, as lvsd does).
    const secure = await mkdtemp('/run/lvsd-hooks-sec-');
    const script = join(secure, 'fail.sh');
    await writeFile(script, '#!/bin/sh\nexit 3\n');
    await chmod(script, 0o755);
    const text = `global_defs {
    enable_script_security
    script_user root
}
${instanceText('VI_2', 52, 100, `    notify ${script}`)}`;
    const r = loadConfig('/k.conf', {
      source: new MemorySource({ '/k.conf': text }),
      host: describedHost({ interfaces: ['eth0'], executables: [script] }),
      configId: 'test',
      hostname: 'test',
    });
    expect(r.config?.scriptSecurity).toBe(true);
    const bus = new EventBus(systemClock);
    const outcomes: HookOutcome[] = [];
    const svc = await NotifyService.start({
      bus,
      config: r.config as Config,
      log: silentLog,
      onOutcome: (o) => outcomes.push(o),
    });
    const t = (to: string) =>
      bus.publish(
        'vrrp.transition',
        'VI_2',
        { kind: 'vrrp' },
        { instance: 'VI_2', from: 'x', to, cause: 't', priority: 100 },
      );
    try {
      t('backup');
      expect(await svc.runner.idle(10_000)).toBe(true);
      await chmod(script, 0o757);
      t('master');
      expect(await svc.runner.idle(10_000)).toBe(true);
    } finally {
      await svc.stop();
      await rm(secure, { recursive: true, force: true });
    }
    expect(outcomes.map((o) => [o.hook, o.code])).toEqual([
      ['notify', 'exit'],
      ['notify', 'insecure'],
    ]);
  });
});

describe('notify FIFO', () => {
  it('a reader gets keepalived’s lines; a reload reports every state again; no reader never blocks', async () => {
    const bus = new EventBus(systemClock);
    const path = join(dir, 'notify.fifo');
    const svc = await NotifyService.start({
      bus,
      config: config(),
      log: silentLog,
      fifos: { all: { path } },
    });
    // Nobody reads yet: writes must not block and must not be lost (lvsd holds a read end).
    bus.publish(
      'vrrp.transition',
      'VI_1',
      { kind: 'vrrp' },
      { instance: 'VI_1', from: 'init', to: 'backup', cause: 't', priority: 100 },
    );
    bus.publish(
      'rs.down',
      `${VS}/${RS}`,
      { kind: 'check' },
      { vs: VS, rs: RS, checker: 'tcp', code: 'refused', reason: 'refused', removed: false },
    );

    const reader = createReadStream(path, { encoding: 'utf8' });
    let text = '';
    reader.on('data', (c) => (text += String(c)));
    const waitFor = async (n: number) => {
      for (let i = 0; i < 100 && text.split('\n').length - 1 < n; i++)
        await new Promise((r) => setTimeout(r, 20));
    };
    await waitFor(2);
    bus.publish(
      'vrrp.transition',
      'VI_2',
      { kind: 'vrrp' },
      { instance: 'VI_2', from: 'init', to: 'master', cause: 't', priority: 100 },
    );
    await svc.reload(config(), { all: { path } });
    await waitFor(5);
    expect(text.split('\n').slice(0, -1)).toEqual([
      'INSTANCE "VI_1" BACKUP 100',
      'RS [198.18.1.11]:tcp:80 [198.18.0.10]:tcp:80 DOWN',
      'INSTANCE "VI_2" MASTER 100',
      'INSTANCE "VI_1" BACKUP 100',
      'INSTANCE "VI_2" MASTER 100',
    ]);
    reader.destroy();
    await svc.stop();
  });
});
