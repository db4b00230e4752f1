/**
 * The lvsd command line. Every failure ends in a message and an exit status: usage errors
 * exit 2 with a hint; an unexpected exception is reported as an internal error, without a
 * stack trace unless LVSD_DEBUG is set.
 */
import { UsageError } from './args.js';
import { exitCodes } from './exit-codes.js';
import type { Command, Io } from './io.js';
import { version } from './version.js';

/**
 * Commands load on demand: `check-config` must not pay for the daemon's modules (pino,
 * the checkers, the drivers) at start-up (the parse benchmark counts Node's start).
 */
interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

const commands: readonly CommandEntry[] = [
  {
    name: 'run',
    summary: 'run the director daemon in the foreground',
    load: async () => (await import('./commands/run.js')).runCommand,
  },
  {
    name: 'check-config',
    summary: 'validate a configuration file (like keepalived -t)',
    load: async () => (await import('./commands/check-config.js')).checkConfigCommand,
  },
  {
    name: 'plan',
    summary: 'print the IPVS operations run would issue now',
    load: async () => (await import('./commands/plan.js')).planCommand,
  },
  {
    name: 'status',
    summary: 'show real servers, health, weights, drains and VRRP state',
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
  {
    name: 'events',
    summary: 'print the event stream (--follow to keep reading)',
    load: async () => (await import('./commands/events.js')).eventsCommand,
  },
  {
    name: 'drain',
    summary: 'take a real server out gracefully (weight 0, survives restarts)',
    load: async () => (await import('./commands/drain.js')).drainCommand,
  },
  {
    name: 'undrain',
    summary: 'put a drained real server back',
    load: async () => (await import('./commands/undrain.js')).undrainCommand,
  },
  {
    name: 'maint',
    summary: 'schedule, list or cancel maintenance windows',
    load: async () => (await import('./commands/maint.js')).maintCommand,
  },
  {
    name: 'reload',
    summary: 'reload the running daemon (validated first)',
    load: async () => (await import('./commands/reload.js')).reloadCommand,
  },
  {
    name: 'demo',
    summary: 'run lvsd on its embedded demo (no root, no IPVS)',
    load: async () => (await import('./commands/demo.js')).demoCommand,
  },
];

function topHelp(): string {
  const rows = commands.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`).join('\n');
  return `Usage: lvsd COMMAND [OPTIONS]

lvsd is a health-checking director for Linux Virtual Server (IPVS) that reads keepalived.conf.

Commands:
${rows}

Options:
  -h, --help       show help (also: lvsd COMMAND --help)
  -v, --version    print the version
      --json       machine-readable output (every command)

Exit status: 0 success, 1 internal error, 2 bad command line; check-config adds 4, 5, 6
(see lvsd check-config --help).
`;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const entry = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    io.out(entry ? (await entry.load()).help : topHelp());
    return name === undefined ? exitCodes.usage : exitCodes.ok;
  }
  if (name === '-v' || name === '--version' || name === 'version') {
    io.out(rest.includes('--json') ? `${JSON.stringify({ version })}\n` : `lvsd ${version}\n`);
    return exitCodes.ok;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    io.err(
      `lvsd: unknown command '${name}'\n  hint: commands are ${commands.map((c) => c.name).join(', ')}; see lvsd --help\n`,
    );
    return exitCodes.usage;
  }
  const command = await entry.load();
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`lvsd ${command.name}: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
      return exitCodes.usage;
    }
    const detail = io.env['LVSD_DEBUG'] && err instanceof Error ? `\n${err.stack ?? ''}` : '';
    io.err(
      `lvsd ${command.name}: internal error: ${err instanceof Error ? err.message : String(err)}${detail}\n  hint: this is a bug in lvsd; run with LVSD_DEBUG=1 for details and report it\n`,
    );
    return exitCodes.internal;
  }
}

/** The process entry point (bin/lvsd.js calls it). */
export function cli(): void {
  // A reader that goes away (`lvsd status | head`) is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const io: Io = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
    tty: process.stdout.isTTY,
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`lvsd: internal error: ${String(err)}\n`);
      process.exitCode = exitCodes.internal;
    },
  );
}
