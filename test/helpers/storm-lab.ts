/**
 * A hook storm on one host, for test/integration/storm and bench/hooks-storm.mjs: N flapping
 * HTTP real servers on loopback (bench/lib/storm-backends.mjs, in their own process), a
 * webhook receiver on loopback that reads every alert and never answers, a keepalived config
 * for them (notify_up / notify_down scripts when `hooks`, webhooks when given), and lvsd in-process
 * (Daemon.start with the memory IPVS driver and `observe`, so the notify scripts, FIFOs,
 * webhooks and metrics run as under `lvsd run`).
 */
import type { ScriptRun } from '../../src/health/checkers/misc.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { describedHost } from '../../src/config/index.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { systemTimers } from '../../src/health/timer-port.js';
import type { ObserverLog } from '../../src/hooks/log-port.js';
import { MemoryIpvsDriver } from '../../src/ipvs/drivers/memory.js';
import { nodeSource } from '../../src/keepalived-config/index.js';
import { systemClock } from '../../src/lib/clock.js';
import { EventBus } from '../../src/lib/events.js';
import { REPO } from './director-lab.js';

export const STORM_BACKENDS = join(REPO, 'bench', 'lib', 'storm-backends.mjs');

export interface StormBackends {
  readonly ports: readonly number[];
  /** Stops flipping and brings every server up; the flips made. */
  stop(): Promise<number>;
  stats(): Promise<{ requests: number; flips: number }>;
  close(): Promise<void>;
}

/** Starts the backends' process; resolves once every server listens (≤ 20 s). */
export async function startBackends(o: {
  servers: number;
  flipsPerSec: number;
  seed?: number;
}): Promise<{ backends: StormBackends }> {
  const child: ChildProcess = spawn(process.execPath, [STORM_BACKENDS, JSON.stringify(o)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (!child.stdout || !child.stdin) throw new Error('storm backends: no pipes');
  const stdin = child.stdin;
  const lines = createInterface({ input: child.stdout });
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  lines.on('line', (l) => {
    const next = waiting.shift();
    if (next) next(JSON.parse(l) as Record<string, unknown>);
  });
  const answer = (cmd?: string): Promise<Record<string, unknown>> =>
    Promise.race([
      new Promise<Record<string, unknown>>((res) => {
        waiting.push(res);
        if (cmd !== undefined) stdin.write(`${cmd}\n`);
      }),
      sleep(20_000).then(() => {
        throw new Error(`storm backends did not answer ${cmd ?? 'with their ports'} in 20 s`);
      }),
    ]);
  const exited = once(child, 'exit');
  let first: Record<string, unknown>;
  try {
    first = await answer();
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const ports = first['ports'] as number[];
  return {
    backends: {
      ports,
      stop: async () => Number((await answer('stop'))['stopped']),
      stats: async () => {
        const s = await answer('stats');
        return { requests: Number(s['requests']), flips: Number(s['flips']) };
      },
      close: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await Promise.race([exited, sleep(3_000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
    },
  };
}

export interface AlertSummary {
  readonly bytes: number;
  /** Events the alert stands for (sum of its groups' counts). */
  readonly events: number;
  readonly groups: Readonly<Record<string, number>>;
  readonly flapping: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly delivery: string;
}

export interface HangingReceiver {
  readonly url: string;
  /** Every POST received (retries included), in arrival order. */
  readonly alerts: AlertSummary[];
  /** Connections open now (hung requests). */
  open(): number;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1 that reads each request whole and then never answers
 * (`hang`), or answers with `status`.
 */
export async function hangingReceiver(status: number | 'hang' = 'hang'): Promise<HangingReceiver> {
  const alerts: AlertSummary[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 8 * 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          groups?: { name: string; count: number }[];
          flapping?: unknown[];
          firstSeq?: number;
          lastSeq?: number;
        };
        const groups: Record<string, number> = {};
        for (const g of body.groups ?? []) groups[g.name] = (groups[g.name] ?? 0) + g.count;
        if (alerts.length < 100_000)
          alerts.push({
            bytes: size,
            events: Object.values(groups).reduce((a, b) => a + b, 0),
            groups,
            flapping: body.flapping?.length ?? 0,
            firstSeq: body.firstSeq ?? -1,
            lastSeq: body.lastSeq ?? -1,
            delivery: String(req.headers['x-lvsd-delivery'] ?? ''),
          });
      } catch {
        // not an alert: counted nowhere
      }
      // Hanging: never answered, the sender's timeout must end it.
    });
    if (status !== 'hang') req.on('end', () => res.writeHead(status).end());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    alerts,
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => {
        server.close(() => {
          r();
        });
      });
    },
  };
}

export interface StormConfigOptions {
  readonly ports: readonly number[];
  readonly dir: string;
  /** notify_up / notify_down on every real server. */
  readonly hooks: boolean;
  /** Webhook endpoints (name → URL), each with a 2 s timeout. */
  readonly webhooks?: Readonly<Record<string, string>>;
  readonly notifyScript?: string;
  readonly perVs?: number;
  /** delay_loop, seconds. */
  readonly delayLoop?: number;
  /** metrics_address (default off). */
  readonly metrics?: string;
}

/** 1 virtual server per `perVs` real servers (198.18.0.10:80, :81 …), HTTP_GET /health. */
export function stormConfig(o: StormConfigOptions): string {
  const perVs = o.perVs ?? 100;
  const script = o.notifyScript ?? '/bin/true';
  const out: string[] = ['global_defs {', '  router_id storm', '  script_user root', '}'];
  for (let v = 0; v * perVs < o.ports.length; v++) {
    out.push(
      `virtual_server 198.18.0.10 ${80 + v} {`,
      `  delay_loop ${o.delayLoop ?? 1}`,
      '  lb_algo wrr',
      '  lb_kind NAT',
      '  protocol TCP',
    );
    for (const p of o.ports.slice(v * perVs, (v + 1) * perVs)) {
      out.push(`  real_server 127.0.0.1 ${p} {`, '    weight 1');
      if (o.hooks)
        out.push(`    notify_up "${script} up ${p}"`, `    notify_down "${script} down ${p}"`);
      out.push(
        '    HTTP_GET {',
        '      url {',
        '        path /health',
        '        status_code 200',
        '      }',
        '      connect_timeout 1',
        '      retry 0',
        '    }',
        '  }',
      );
    }
    out.push('}');
  }
  out.push(
    'lvsd {',
    '  ipvs_driver memory',
    `  metrics_address ${o.metrics ?? 'off'}`,
    `  control_socket ${join(o.dir, 'lvsd.sock')}`,
    `  control_socket_ro ${join(o.dir, 'lvsd-ro.sock')}`,
    `  state_dir ${join(o.dir, 'state')}`,
  );
  for (const [name, url] of Object.entries(o.webhooks ?? {}))
    out.push(`  webhook ${name} {`, `    url ${url}`, '    timeout 2', '  }');
  out.push('}', '');
  return out.join('\n');
}

/** Starts the backends and writes the config for them to DIR/storm.conf. */
export async function stormSetup(
  o: { servers: number; flipsPerSec: number; seed: number } & Omit<StormConfigOptions, 'ports'>,
): Promise<{ backends: StormBackends; file: string }> {
  const { backends } = await startBackends({
    servers: o.servers,
    flipsPerSec: o.flipsPerSec,
    seed: o.seed,
  });
  const file = join(o.dir, 'storm.conf');
  writeFileSync(file, stormConfig({ ...o, ports: backends.ports }));
  return { backends, file };
}

/** Counts what the observers log, by level (the storm must not flood the log either). */
export function countingLog(): ObserverLog & { counts: Record<'info' | 'warn' | 'error', number> } {
  const counts = { info: 0, warn: 0, error: 0 };
  return {
    counts,
    info: () => {
      counts.info++;
    },
    warn: () => {
      counts.warn++;
    },
    error: () => {
      counts.error++;
    },
  };
}

/** lvsd in-process: the memory driver, observers on, control sockets in the config. */
export async function startStormDaemon(o: {
  file: string;
  dir: string;
  bus: EventBus;
  log: ObserverLog;
  control?: boolean;
  /** How scripts start (a SpawnerClient's run, as `lvsd run` does); default: directly. */
  runScript?: ScriptRun;
}): Promise<Daemon> {
  return Daemon.start({
    file: o.file,
    configId: 'storm',
    hostname: 'storm',
    source: nodeSource(),
    host: describedHost({ interfaces: ['lo'], executables: ['/bin/true'] }),
    driver: new MemoryIpvsDriver(),
    bus: o.bus,
    clock: systemClock,
    timers: systemTimers,
    stateDir: join(o.dir, 'state'),
    ...(o.control === false ? { control: false as const } : {}),
    observe: { log: o.log },
    ...(o.runScript ? { runScript: o.runScript } : {}),
  });
}

export function newBus(): EventBus {
  return new EventBus(systemClock);
}

/** Percentile (0–100) of unsorted samples; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const s = [...samples].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i] ?? Number.NaN;
}
