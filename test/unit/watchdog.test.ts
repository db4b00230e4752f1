// The systemd notify/watchdog module: the pure decisions, the progress predicate and the driver
// with a fake port and fake timers (no systemd, no child processes, no sleeping).
import { describe, expect, it } from 'vitest';
import {
  decideNotify,
  initialNotifyState,
  notifySettings,
  progressVerdict,
  progressWindowMs,
  ProgressMeter,
  PROGRESS_SLACK_MS,
  systemdNotifyPort,
  Watchdog,
  type NotifyPort,
  type NotifyState,
  type Progress,
} from '../../src/daemon/watchdog.js';
import { loadConfig, describedHost } from '../../src/config/index.js';
import { MemorySource } from '../../src/keepalived-config/index.js';
import { FakeClock } from '../../src/lib/clock.js';
import { ManualTimers } from '../integration/scheduler/manual-timers.js';

describe('notifySettings', () => {
  it('is undefined without NOTIFY_SOCKET (not under systemd): everything is a no-op', () => {
    expect(notifySettings({}, 10)).toBeUndefined();
    expect(notifySettings({ NOTIFY_SOCKET: '' }, 10)).toBeUndefined();
  });
  it('pings every WATCHDOG_USEC / 2', () => {
    expect(
      notifySettings({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '10000000' }, 10),
    ).toEqual({ socket: '/run/systemd/notify', pingEveryMs: 5000 });
  });
  it('has no watchdog without WATCHDOG_USEC, or when WATCHDOG_PID names another process', () => {
    expect(notifySettings({ NOTIFY_SOCKET: '@x' }, 10)?.pingEveryMs).toBeUndefined();
    expect(
      notifySettings({ NOTIFY_SOCKET: '@x', WATCHDOG_USEC: '10000000', WATCHDOG_PID: '11' }, 10)
        ?.pingEveryMs,
    ).toBeUndefined();
    expect(
      notifySettings({ NOTIFY_SOCKET: '@x', WATCHDOG_USEC: '10000000', WATCHDOG_PID: '10' }, 10)
        ?.pingEveryMs,
    ).toBe(5000);
    expect(
      notifySettings({ NOTIFY_SOCKET: '@x', WATCHDOG_USEC: 'soon' }, 10)?.pingEveryMs,
    ).toBeUndefined();
  });
  it('never pings faster than every 50 ms', () => {
    expect(notifySettings({ NOTIFY_SOCKET: '@x', WATCHDOG_USEC: '1000' }, 1)?.pingEveryMs).toBe(50);
  });
});

describe('decideNotify', () => {
  const ok: Progress = { ok: true };
  const stalled = (reason: string): Progress => ({ ok: false, reason });
  const run = (events: Parameters<typeof decideNotify>[1][]): string[][] => {
    let s: NotifyState = initialNotifyState;
    return events.map((e) => {
      const d = decideNotify(s, e);
      s = d.state;
      return [...d.fields];
    });
  };

  it('sends nothing before READY, READY=1 once, then WATCHDOG=1 while progress holds', () => {
    expect(
      run([
        { kind: 'tick', progress: ok },
        { kind: 'ready', status: 'running: 2 virtual servers' },
        { kind: 'ready', status: 'again' },
        { kind: 'tick', progress: ok },
        { kind: 'tick', progress: ok },
      ]),
    ).toEqual([
      [],
      ['READY=1', 'STATUS=running: 2 virtual servers'],
      [],
      ['WATCHDOG=1'],
      ['WATCHDOG=1'],
    ]);
  });

  it('withholds pings while progress fails, says why once, and says when it resumed', () => {
    expect(
      run([
        { kind: 'ready', status: 'running' },
        { kind: 'tick', progress: stalled('no result for 40 s') },
        { kind: 'tick', progress: stalled('no result for 40 s') },
        { kind: 'tick', progress: stalled('no result for 45 s') },
        { kind: 'tick', progress: ok },
        { kind: 'tick', progress: ok },
      ]),
    ).toEqual([
      ['READY=1', 'STATUS=running'],
      ['STATUS=stalled, watchdog pings withheld: no result for 40 s'],
      [],
      ['STATUS=stalled, watchdog pings withheld: no result for 45 s'],
      ['WATCHDOG=1', 'STATUS=running: progress resumed'],
      ['WATCHDOG=1'],
    ]);
  });

  it('sends STOPPING=1 and nothing after it', () => {
    expect(
      run([
        { kind: 'ready', status: 'running' },
        { kind: 'stopping' },
        { kind: 'tick', progress: ok },
        { kind: 'stopping' },
        { kind: 'ready', status: 'x' },
      ]),
    ).toEqual([['READY=1', 'STATUS=running'], ['STOPPING=1', 'STATUS=stopping'], [], [], []]);
  });

  it('keeps a STATUS= text on one line (a newline would start a new field)', () => {
    expect(run([{ kind: 'ready', status: 'a\nREADY=0' }])).toEqual([
      ['READY=1', 'STATUS=a READY=0'],
    ]);
  });
});

describe('progressVerdict', () => {
  it('holds when there are no checks, whatever the time', () => {
    expect(
      progressVerdict({ windowMs: undefined, lastBeatMs: undefined, sinceMs: 0 }, 1e9),
    ).toEqual({ ok: true });
  });
  it('counts from the start until the first result, then from the last result', () => {
    expect(
      progressVerdict({ windowMs: 10_000, lastBeatMs: undefined, sinceMs: 0 }, 10_000).ok,
    ).toBe(true);
    const late = progressVerdict({ windowMs: 10_000, lastBeatMs: undefined, sinceMs: 0 }, 10_001);
    expect(late).toEqual({ ok: false, reason: 'no health-check result for 10 s (bound 10 s)' });
    expect(progressVerdict({ windowMs: 10_000, lastBeatMs: 50_000, sinceMs: 0 }, 59_000).ok).toBe(
      true,
    );
    expect(progressVerdict({ windowMs: 10_000, lastBeatMs: 50_000, sinceMs: 0 }, 61_000).ok).toBe(
      false,
    );
  });
});

describe('ProgressMeter', () => {
  it('follows beats, and restarts its count when checks first appear (a reload)', () => {
    const clock = new FakeClock();
    const checks: { windowMs: number | undefined } = { windowMs: undefined };
    const meter = new ProgressMeter(clock, () => checks.windowMs);
    clock.advance(100_000);
    expect(meter.check().ok).toBe(true); // no checks: nothing to wait for
    checks.windowMs = 10_000;
    expect(meter.check().ok).toBe(true); // checks just appeared: counted from now
    clock.advance(10_001);
    expect(meter.check().ok).toBe(false);
    meter.beat();
    expect(meter.check().ok).toBe(true);
    clock.advance(9_000);
    expect(meter.check().ok).toBe(true);
  });
});

describe('progressWindowMs', () => {
  const files: Record<string, string> = {
    '/none.conf': 'global_defs { router_id a }\n',
    '/two.conf': `virtual_server 198.18.0.10 80 {
  delay_loop 6
  lb_algo wlc
  lb_kind NAT
  protocol TCP
  real_server 198.18.1.11 80 { TCP_CHECK { connect_timeout 3 } }
  real_server 198.18.1.12 80 {
    HTTP_GET {
      url { path / }
      connect_timeout 2
      delay_before_retry 20
    }
  }
}
`,
  };
  const source = new MemorySource(files);
  const load = (file: string) =>
    loadConfig(file, {
      source,
      host: describedHost({ interfaces: ['lo', 'eth0'], executables: [], users: ['root'] }),
      configId: 'a',
      hostname: 'a',
    }).config;

  it('is undefined without checks (the predicate then always holds)', () => {
    const c = load('/none.conf');
    expect(c).toBeDefined();
    if (c) expect(progressWindowMs(c)).toBeUndefined();
  });
  it('is the longest check cycle plus slack', () => {
    const c = load('/two.conf');
    expect(c).toBeDefined();
    if (!c) return;
    const w = progressWindowMs(c);
    // The HTTP check's 20 s retry delay is the longest wait, plus its run timeout.
    expect(w).toBeGreaterThanOrEqual(20_000 + PROGRESS_SLACK_MS);
    expect(w).toBeLessThan(20_000 + PROGRESS_SLACK_MS + 10_000);
  });
});

class FakePort implements NotifyPort {
  readonly sent: string[][] = [];
  fail = false;
  hold: Promise<void> | undefined;
  send(fields: readonly string[]): Promise<void> {
    this.sent.push([...fields]);
    if (this.fail) return Promise.reject(new Error('ECONNREFUSED'));
    return this.hold ?? Promise.resolve();
  }
}

describe('Watchdog (driver)', () => {
  const env = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '2000000' };

  it('is a no-op without NOTIFY_SOCKET', async () => {
    const timers = new ManualTimers();
    const w = Watchdog.create({ env: {}, pid: 1, timers, progress: () => ({ ok: true }) });
    expect(w.enabled).toBe(false);
    await w.ready();
    await w.stopping();
    expect(timers.pending).toBe(0);
  });

  it('sends READY, pings every WATCHDOG_USEC/2 while progress holds, stops on STOPPING', async () => {
    const timers = new ManualTimers();
    const port = new FakePort();
    let progress: Progress = { ok: true };
    const w = Watchdog.create({ env, pid: 1, timers, port, progress: () => progress });
    expect(w.enabled).toBe(true);
    expect(w.pingEveryMs).toBe(1000);
    await w.ready('running');
    await timers.advance(3000);
    expect(port.sent).toEqual([
      ['READY=1', 'STATUS=running'],
      ['WATCHDOG=1'],
      ['WATCHDOG=1'],
      ['WATCHDOG=1'],
    ]);
    progress = { ok: false, reason: 'stuck' };
    await timers.advance(3000);
    expect(port.sent.slice(4)).toEqual([['STATUS=stalled, watchdog pings withheld: stuck']]);
    progress = { ok: true };
    await timers.advance(1000);
    expect(port.sent.slice(5)).toEqual([['WATCHDOG=1', 'STATUS=running: progress resumed']]);
    await w.stopping();
    await timers.advance(5000);
    expect(port.sent.slice(6)).toEqual([['STOPPING=1', 'STATUS=stopping']]);
    expect(timers.pending).toBe(0);
    await w.close();
  });

  it('reports a failed send and keeps going', async () => {
    const timers = new ManualTimers();
    const port = new FakePort();
    const errors: unknown[] = [];
    const w = Watchdog.create({
      env,
      pid: 1,
      timers,
      port,
      progress: () => ({ ok: true }),
      onError: (e) => errors.push(e),
    });
    port.fail = true;
    await w.ready();
    port.fail = false;
    await timers.advance(1000);
    expect(errors).toHaveLength(1);
    expect(port.sent).toHaveLength(2);
    await w.close();
    expect(timers.pending).toBe(0);
  });

  it('does not pile up pings behind one that hangs', async () => {
    const timers = new ManualTimers();
    const port = new FakePort();
    const w = Watchdog.create({ env, pid: 1, timers, port, progress: () => ({ ok: true }) });
    await w.ready();
    let release: () => void = () => undefined;
    port.hold = new Promise<void>((r) => {
      release = r;
    });
    await timers.advance(5000);
    // The first ping hangs: the four ticks after it are skipped, not queued.
    expect(port.sent).toEqual([['READY=1', 'STATUS=running'], ['WATCHDOG=1']]);
    port.hold = undefined;
    release();
    await timers.advance(1000);
    expect(port.sent).toHaveLength(3);
    await w.close();
  });
});

describe('systemdNotifyPort', () => {
  it('runs systemd-notify with the fields as arguments and NOTIFY_SOCKET for it alone', async () => {
    const calls: { file: string; args: readonly string[]; env: NodeJS.ProcessEnv }[] = [];
    const port = systemdNotifyPort('/run/systemd/notify', {
      exec: (file, args, options) => {
        calls.push({ file, args, env: options.env });
        return Promise.resolve();
      },
    });
    await port.send(['READY=1', 'STATUS=running']);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.file).toBe('systemd-notify');
    expect(calls[0]?.args).toEqual(['READY=1', 'STATUS=running']);
    expect(calls[0]?.env['NOTIFY_SOCKET']).toBe('/run/systemd/notify');
  });
});
