/** `lvsd drain VS RS`: weight 0 as an admin state; `--wait` until its connections have ended. */
import type { ControlClient } from '../../control/client.js';
import {
  clientFor,
  controlExitCodes,
  exitStatusHelp,
  failure,
  formatDuration,
  parseDuration,
  socketFlag,
} from '../../control/cli-support.js';
import type { Connections } from '../../control/types.js';
import { flagHelp, helpFlag, jsonFlag, parseArgs, UsageError, type FlagSpec } from '../args.js';
import { exitCodes } from '../exit-codes.js';
import type { Command, Io } from '../io.js';
import { stringFlag } from '../common.js';

const flags: FlagSpec[] = [
  { name: 'reason', takesValue: true, valueName: 'TEXT', help: 'why (shown by lvsd status)' },
  {
    name: 'wait',
    takesValue: false,
    help: 'return when the server has no active connections left (IPVS ActiveConn = 0)',
  },
  {
    name: 'timeout',
    takesValue: true,
    valueName: 'D',
    help: `with --wait: give up after D (e.g. 90s, 10m; default: wait as long as it takes); exit ${controlExitCodes.waitTimeout}`,
  },
  {
    name: 'interval',
    takesValue: true,
    valueName: 'D',
    help: 'with --wait: time between connection counts (default 1s)',
  },
  socketFlag,
  jsonFlag,
  helpFlag,
];

const help = `Usage: lvsd drain VS RS [--reason TEXT] [--wait [--timeout D]] [--json] [--socket PATH]

Drains real server RS of virtual server VS: its weight goes to 0, so it gets no new
connections, while existing ones continue. A drain is an admin state: health changes,
reloads, restarts and failover do not undo it; lvsd undrain does.

VS is [tcp:|udp:|sctp:]ADDR:PORT, fwm:N or group:NAME (IPv6 as [ADDR]:PORT); without a
protocol it matches any, and an ambiguous name is refused with the candidates. RS is
ADDR:PORT. A server that does not exist is refused and nothing changes.

With --wait, lvsd drain then waits until IPVS counts no active connection to RS (progress on
a terminal). The drain stays in force whatever the wait's outcome.

Options:
${flagHelp(flags)}

${exitStatusHelp}
With --wait: ${controlExitCodes.waitTimeout} the timeout passed with connections still active.
`;

export const drainCommand: Command = {
  name: 'drain',
  summary: 'drain a real server (weight 0, kept across health changes and restarts)',
  help,
  async run(argv, io) {
    const args = parseArgs(argv, flags);
    if (args.flags.has('help')) {
      io.out(help);
      return exitCodes.ok;
    }
    const [vs, rs, extra] = args.positionals;
    if (vs === undefined || rs === undefined)
      throw new UsageError(
        'lvsd drain needs VS and RS',
        'e.g. lvsd drain tcp:198.18.0.10:80 198.18.1.11:80',
      );
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const wait = args.flags.has('wait');
    const timeoutText = stringFlag(args, 'timeout');
    const intervalText = stringFlag(args, 'interval');
    if (!wait && (timeoutText || intervalText))
      throw new UsageError('--timeout and --interval go with --wait');
    const timeoutMs = timeoutText ? parseDuration(timeoutText, 'timeout') : undefined;
    const intervalMs = intervalText ? parseDuration(intervalText, 'interval') : 1000;
    const json = args.flags.has('json');
    const client = clientFor(args, io, 'admin');
    try {
      const r = await client.drain(vs, rs, stringFlag(args, 'reason'));
      if (!json) {
        io.out(
          r.changed
            ? `drained ${r.rs} of ${r.vs} (weight 0)${r.previous.state === 'drain' ? `; it was already drained by ${r.previous.by}` : ''}\n`
            : `${r.rs} of ${r.vs} was already drained by ${r.admin.state === 'drain' ? r.admin.by : '?'}; nothing changed\n`,
        );
      }
      if (!wait) {
        if (json) io.out(`${JSON.stringify(r, null, 2)}\n`);
        return exitCodes.ok;
      }
      const w = await waitForZero(client, r.vs, r.rs, io, json, intervalMs, timeoutMs);
      if (json) io.out(`${JSON.stringify({ ...r, wait: w }, null, 2)}\n`);
      else if (w.drained)
        io.out(`no active connections left on ${r.rs} (waited ${formatDuration(w.waitedMs)})\n`);
      else
        io.err(
          `lvsd drain: timed out after ${formatDuration(w.waitedMs)}: ${w.active} active connection(s) left on ${r.rs}\n  hint: the drain stays in force; wait longer or look at the clients still connected\n`,
        );
      return w.drained ? exitCodes.ok : controlExitCodes.waitTimeout;
    } catch (err) {
      return failure(err, io, 'drain', json);
    } finally {
      await client.close();
    }
  },
};

interface WaitOutcome {
  drained: boolean;
  active: number;
  inactive: number;
  waitedMs: number;
  /** false: IPVS has no counters for the server (not in the table): nothing to wait for. */
  counted: boolean;
}

async function waitForZero(
  client: ControlClient,
  vs: string,
  rs: string,
  io: Io,
  json: boolean,
  intervalMs: number,
  timeoutMs: number | undefined,
): Promise<WaitOutcome> {
  const t0 = performance.now();
  const progress = io.tty && !json;
  for (;;) {
    const s = await client.server(vs, rs);
    const c: Connections = s.connections ?? { active: 0, inactive: 0 };
    const waitedMs = Math.round(performance.now() - t0);
    const base = {
      active: c.active,
      inactive: c.inactive,
      waitedMs,
      counted: s.connections !== null,
    };
    if (c.active === 0) {
      if (progress) io.err('\r\u001b[K');
      return { drained: true, ...base };
    }
    if (timeoutMs !== undefined && waitedMs >= timeoutMs) {
      if (progress) io.err('\n');
      return { drained: false, ...base };
    }
    if (progress)
      io.err(
        `\r\u001b[Kwaiting: ${c.active} active, ${c.inactive} inactive connections on ${rs} (${formatDuration(waitedMs)})`,
      );
    const left =
      timeoutMs === undefined
        ? intervalMs
        : Math.min(intervalMs, Math.max(0, timeoutMs - waitedMs));
    await new Promise((r) => setTimeout(r, left));
  }
}
