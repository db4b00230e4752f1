/**
 * `lvsd demo` (what `npm start` runs): lvsd on its embedded default configuration
 * (etc/demo.conf) with three real servers the demo serves itself on loopback, one of which
 * fails and recovers on a timer; the in-memory IPVS table; a compact live view. No root, no
 * IPVS needed.
 */
import { existsSync } from 'node:fs';
import { posix as path } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describedHost } from '../../config/index.js';
import { Daemon } from '../../daemon/daemon.js';
import { eventMessage } from '../../daemon/log.js';
import { startSwitchableBackend, type SwitchableBackend } from '../../demo/backend.js';
import { renderView } from '../../demo/view.js';
import { systemTimers } from '../../health/timer-port.js';
import { MemoryIpvsDriver } from '../../ipvs/drivers/memory.js';
import { nodeSource } from '../../keepalived-config/index.js';
import { systemClock } from '../../lib/clock.js';
import { EventBus, type AnyEvent } from '../../lib/events.js';
import { flagHelp, helpFlag, jsonFlag, parseArgs, UsageError, type FlagSpec } from '../args.js';
import { exitCodes } from '../exit-codes.js';
import type { Command } from '../io.js';
import { version } from '../version.js';

const flags: FlagSpec[] = [
  {
    name: 'duration',
    takesValue: true,
    valueName: 'SECONDS',
    help: 'stop after this long (default: until Ctrl-C)',
  },
  {
    name: 'fail-after',
    takesValue: true,
    valueName: 'SECONDS',
    help: 'when the second real server starts failing (default 5)',
  },
  {
    name: 'fail-for',
    takesValue: true,
    valueName: 'SECONDS',
    help: 'how long it fails before it recovers (default 5; then it repeats)',
  },
  jsonFlag,
  helpFlag,
];

const help = `Usage: lvsd demo [--duration S] [--fail-after S] [--fail-for S] [--json]

Runs lvsd on its embedded demo configuration (etc/demo.conf): one virtual server
(198.18.0.10:80) with three real servers that the demo serves itself on 127.0.0.1:18081-18083.
The second one answers 503 for a while, then recovers, on a timer: watch lvsd take it to
weight 0 and back. The IPVS table is lvsd's in-memory one: no root and no ip_vs module needed.

On a terminal the view redraws in place; otherwise (or with --json) every event is printed as
a line (JSON with --json).

Options:
${flagHelp(flags)}
`;

/** etc/demo.conf of the package: above the bundle's chunk (dist/chunks/) or the sources. */
export function demoConfigPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const rel of ['../etc/demo.conf', '../../etc/demo.conf', '../../../etc/demo.conf']) {
    const p = path.resolve(here, rel);
    if (existsSync(p)) return p;
  }
  return path.resolve(here, '../etc/demo.conf');
}

function seconds(v: string | true | undefined, fallback: number, name: string): number {
  if (v === undefined || v === true) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`--${name} needs a number of seconds (got '${v}')`);
  return n;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run lvsd on its embedded demo (no root, no IPVS)',
  help,
  async run(argv, io) {
    const args = parseArgs(argv, flags);
    if (args.flags.has('help')) {
      io.out(help);
      return exitCodes.ok;
    }
    const duration = seconds(args.flags.get('duration'), 0, 'duration');
    const failAfter = seconds(args.flags.get('fail-after'), 5, 'fail-after');
    const failFor = seconds(args.flags.get('fail-for'), 5, 'fail-for');
    const json = args.flags.has('json');
    const live = io.tty && !json;

    const backends: SwitchableBackend[] = [];
    try {
      for (const port of [18081, 18082, 18083])
        backends.push(await startSwitchableBackend('127.0.0.1', port));
    } catch (err) {
      for (const b of backends) await b.close();
      io.err(
        `lvsd demo: cannot serve the demo's real servers on 127.0.0.1:18081-18083: ${(err as Error).message}\n  hint: another program (or another demo) uses these ports; stop it and retry\n`,
      );
      return exitCodes.internal;
    }
    const events: AnyEvent[] = [];
    const bus = new EventBus(systemClock);
    bus.subscribe((e) => {
      events.push(e);
      if (events.length > 100) events.shift();
      if (!live && (json || e.name !== 'rs.checker'))
        io.out(json ? `${JSON.stringify(e)}\n` : `${e.time} ${eventMessage(e)}\n`);
    });
    const driver = new MemoryIpvsDriver();
    let daemon: Daemon;
    try {
      daemon = await Daemon.start({
        file: demoConfigPath(),
        configId: 'demo',
        hostname: 'lvsd-demo',
        source: nodeSource(),
        host: describedHost({ interfaces: ['lo'], executables: [] }),
        driver,
        bus,
        clock: systemClock,
        timers: systemTimers,
        tickMs: 20,
        version,
      });
    } catch (err) {
      for (const b of backends) await b.close();
      throw err;
    }

    // The second real server fails and recovers on a timer, over and over.
    const flaky = backends[1];
    let failTimer: NodeJS.Timeout | undefined;
    const cycle = (failing: boolean): void => {
      flaky?.setStatus(failing ? 503 : 200);
      failTimer = setTimeout(
        () => {
          cycle(!failing);
        },
        (failing ? failFor : failAfter) * 1000,
      );
    };
    failTimer = setTimeout(() => {
      cycle(true);
    }, failAfter * 1000);

    let viewTimer: NodeJS.Timeout | undefined;
    if (live) {
      const draw = async (): Promise<void> => {
        const observed = await daemon.ipvs().refresh();
        io.out(`\u001b[H\u001b[2J${renderView(daemon.health(), observed, events, true)}\n`);
      };
      viewTimer = setInterval(() => void draw(), 500);
      void draw();
    }

    await new Promise<void>((resolve) => {
      const done = (): void => {
        resolve();
      };
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (duration > 0) setTimeout(done, duration * 1000);
    });
    clearTimeout(failTimer);
    clearInterval(viewTimer);
    await daemon.stop('demo end');
    for (const b of backends) await b.close();
    if (!json) {
      const observed = await driver.read();
      io.out(
        `\nfinal IPVS table (memory driver):\n${[...observed.table.services.values()].map((e) => [...e.destinations.values()].map((d) => `  ${d.address}:${d.port} weight ${d.weight}`).join('\n')).join('\n')}\n`,
      );
    }
    return exitCodes.ok;
  },
};
