/** `lvsd maint`: scheduled drains (maintenance windows), listed and cancelled. */
import {
  clientFor,
  exitStatusHelp,
  failure,
  formatDuration,
  formatInstant,
  parseDuration,
  socketFlag,
  table,
} from '../../control/cli-support.js';
import type { MaintWindowView } from '../../control/types.js';
import { localTimezone } from '../../admin/zone.js';
import { flagHelp, helpFlag, jsonFlag, parseArgs, UsageError, type FlagSpec } from '../args.js';
import { exitCodes } from '../exit-codes.js';
import type { Command } from '../io.js';
import { stringFlag } from '../common.js';

const flags: FlagSpec[] = [
  {
    name: 'at',
    takesValue: true,
    valueName: 'CRON',
    help: 'when it starts: a cron expression (5 or 6 fields)',
  },
  {
    name: 'for',
    takesValue: true,
    valueName: 'D',
    help: 'how long the drain lasts (e.g. 30m, 2h)',
  },
  {
    name: 'tz',
    takesValue: true,
    valueName: 'ZONE',
    help: "the cron expression's time zone (IANA name; default: this host's zone, sent explicitly)",
  },
  { name: 'reason', takesValue: true, valueName: 'TEXT', help: 'why (shown by lvsd status)' },
  { name: 'list', short: 'l', takesValue: false, help: 'list the maintenance windows' },
  {
    name: 'cancel',
    takesValue: true,
    valueName: 'ID',
    help: 'cancel a window (a drain it made ends)',
  },
  socketFlag,
  jsonFlag,
  helpFlag,
];

const help = `Usage: lvsd maint VS RS --at CRON --for D [--tz ZONE] [--reason TEXT]
       lvsd maint --list
       lvsd maint --cancel ID

Schedules a drain of RS in VS (named as for lvsd drain): each time CRON matches, in ZONE,
the server is drained (via schedule) for D, then undrained -- unless someone drained it by
hand meanwhile, in which case that drain stays. A window whose start passes while lvsd is
down does not start late; one in force when lvsd restarts keeps its end time.

CRON is node-cron's: "MIN HOUR DOM MON DOW" or with seconds first; e.g. "0 3 * * 0" is every
Sunday at 03:00. Windows follow the local clock of ZONE across daylight-saving changes: a
local time the change skips (02:30 on the spring-forward night in Europe) does not occur, so
that day's window does not run; a time the change repeats runs once (the second time).

Options:
${flagHelp(flags)}

${exitStatusHelp}
`;

export const maintCommand: Command = {
  name: 'maint',
  summary: 'schedule, list and cancel maintenance windows (scheduled drains)',
  help,
  async run(argv, io) {
    const args = parseArgs(argv, flags);
    if (args.flags.has('help')) {
      io.out(help);
      return exitCodes.ok;
    }
    const json = args.flags.has('json');
    const list = args.flags.has('list');
    const cancel = stringFlag(args, 'cancel');
    const addFlags = ['at', 'for', 'tz', 'reason'].filter((f) => args.flags.has(f));
    if (list || cancel !== undefined) {
      if (list && cancel !== undefined) throw new UsageError('--list and --cancel go alone');
      if (addFlags.length > 0 || args.positionals.length > 0)
        throw new UsageError(
          `--${list ? 'list' : 'cancel'} takes no VS, RS or --${addFlags[0] ?? 'at'}`,
        );
    }
    const kind = list ? 'ro' : 'admin';
    let request: () => Promise<number>;
    const client = clientFor(args, io, kind);
    if (list) {
      request = async () => {
        const r = await client.maintList();
        if (json) io.out(`${JSON.stringify(r, null, 2)}\n`);
        else io.out(renderWindows(r.windows));
        return exitCodes.ok;
      };
    } else if (cancel !== undefined) {
      request = async () => {
        const r = await client.maintCancel(cancel);
        if (json) io.out(`${JSON.stringify(r, null, 2)}\n`);
        else
          io.out(
            `cancelled maintenance window ${r.window.id} (${r.window.rs} of ${r.window.vs})${r.undrained ? '; its drain ended' : ''}\n`,
          );
        return exitCodes.ok;
      };
    } else {
      const [vs, rs, extra] = args.positionals;
      if (vs === undefined || rs === undefined)
        throw new UsageError('lvsd maint needs VS RS --at CRON --for D (or --list, --cancel ID)');
      if (extra !== undefined)
        throw new UsageError(
          `unexpected argument '${extra}'`,
          'quote the cron expression: --at "0 3 * * 0"',
        );
      const cron = stringFlag(args, 'at');
      const forText = stringFlag(args, 'for');
      if (cron === undefined || forText === undefined)
        throw new UsageError('lvsd maint VS RS needs --at CRON and --for D');
      const durationMs = parseDuration(forText, 'for');
      const timezone = stringFlag(args, 'tz') ?? localTimezone();
      const reason = stringFlag(args, 'reason');
      request = async () => {
        const r = await client.maintAdd({
          vs,
          rs,
          cron,
          durationMs,
          timezone,
          ...(reason === undefined ? {} : { reason }),
        });
        if (json) io.out(`${JSON.stringify(r, null, 2)}\n`);
        else {
          const w = r.window;
          io.out(
            `maintenance window ${w.id}: drain ${w.rs} of ${w.vs} at "${w.cron}" (${w.timezone}) for ${formatDuration(w.durationMs)}${w.nextRun === undefined ? '' : `; next ${formatInstant(w.nextRun, w.timezone)}`}\n`,
          );
        }
        return exitCodes.ok;
      };
    }
    try {
      return await request();
    } catch (err) {
      return failure(err, io, 'maint', json);
    } finally {
      await client.close();
    }
  },
};

export function renderWindows(windows: readonly MaintWindowView[]): string {
  if (windows.length === 0) return 'no maintenance windows\n';
  const rows = [
    ['ID', 'VIRTUAL SERVER', 'REAL SERVER', 'AT', 'ZONE', 'FOR', 'NEXT', 'BY', 'REASON'],
  ];
  for (const w of windows)
    rows.push([
      w.id,
      w.vs,
      w.rs,
      w.cron,
      w.timezone,
      formatDuration(w.durationMs),
      w.nextRun === undefined ? '-' : formatInstant(w.nextRun, w.timezone),
      w.by,
      w.reason,
    ]);
  return `${table(rows)}\n`;
}
