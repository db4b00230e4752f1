/**
 * `lvsd events`: the daemon's event stream (GET /v1/events) — the events it still holds, or
 * those after `--since SEQ`, and with `--follow` every new one as it happens. `--json` prints
 * the NDJSON lines exactly as they arrive; otherwise one readable line per event.
 */
import { once } from 'node:events';
import {
  clientFor,
  controlExitCodes,
  exitStatusHelp,
  failure,
  noPositionals,
  socketFlag,
} from '../../control/cli-support.js';
import type { ApiErrorBody } from '../../control/errors.js';
import type { OpenEventStream } from '../../control/client.js';
import { eventMessage } from '../../daemon/log.js';
import type { AnyEvent } from '../../lib/events.js';
import { flagHelp, helpFlag, jsonFlag, parseArgs, UsageError, type FlagSpec } from '../args.js';
import { stringFlag } from '../common.js';
import { exitCodes } from '../exit-codes.js';
import type { Command, Io } from '../io.js';

const flags: FlagSpec[] = [
  { name: 'follow', takesValue: false, help: 'keep reading: print new events as they happen' },
  {
    name: 'since',
    takesValue: true,
    valueName: 'SEQ',
    help: 'only events after sequence number SEQ (default: all the daemon holds)',
  },
  socketFlag,
  jsonFlag,
  helpFlag,
];

const help = `Usage: lvsd events [--follow] [--since SEQ] [--json] [--socket PATH]

Prints the events of the running lvsd: real servers up, down, drained, weights; VRRP
transitions; IPVS batches; reloads; hook and webhook failures. Without --since, every event
the daemon still holds (it keeps the last 10,000, at most 8 MiB of them); with --since SEQ,
those after SEQ (if some of them are no longer held, a note on stderr says which). --follow
then waits and prints each new event as it happens, until interrupted.

Human output is one line per event: SEQ, time (UTC), name, subject and a short message.
--json prints the stream as lvsd sends it: one event record per line (docs/events.schema.json).

A reader that cannot keep up (more than 1,000 new events behind, e.g. piped into something
that blocks) is cut off by lvsd, which never waits for it: every event up to the cut has been
printed, and the message names the last one so you can resume with --since.
Reads go through the read-only socket by default.

Options:
${flagHelp(flags)}

${exitStatusHelp}
${controlExitCodes.cutOff} cut off by lvsd as too slow a reader (resume with --since SEQ). With --follow, ${controlExitCodes.notRunning} also
when lvsd stops or the stream breaks off.
`;

export const eventsCommand: Command = {
  name: 'events',
  summary: 'print the event stream (--follow to keep reading)',
  help,
  async run(argv, io) {
    const args = parseArgs(argv, flags);
    if (args.flags.has('help')) {
      io.out(help);
      return exitCodes.ok;
    }
    noPositionals(args, 0, 'lvsd events takes no arguments');
    const json = args.flags.has('json');
    const follow = args.flags.has('follow');
    const sinceText = stringFlag(args, 'since');
    const since = sinceText === undefined ? undefined : Number(sinceText);
    if (sinceText !== undefined && !/^\d{1,15}$/.test(sinceText))
      throw new UsageError(
        `--since needs an event sequence number, not '${sinceText}'`,
        'e.g. --since 0 (the seq of an event is its first column, or "seq" with --json)',
      );
    const client = clientFor(args, io, 'ro');
    try {
      const stream = await client.events({ follow, ...(since === undefined ? {} : { since }) });
      startNotes(stream, since, io);
      for await (const line of stream.lines()) {
        if (line.kind === 'end') return ended(line.error, line.line, io, json);
        io.out(json ? `${line.line}\n` : `${eventLine(line.event)}\n`);
        await stdoutDrained();
      }
      return exitCodes.ok;
    } catch (err) {
      return failure(err, io, 'events', json);
    } finally {
      await client.close();
    }
  },
};

/** `#42 2026-12-02T20:05:40.123Z rs.down tcp:198.18.0.10:80/198.18.1.11:80 real server …`. */
export function eventLine(e: AnyEvent): string {
  return `#${e.seq} ${e.time} ${e.name} ${printable(e.subject)} ${printable(eventMessage(e))}`;
}

/** Names and reasons come from config, operators and backends: no terminal escapes. */
export function printable(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

function startNotes(s: OpenEventStream, since: number | undefined, io: Io): void {
  if (s.gap)
    io.err(
      `lvsd events: events ${s.gap.from}-${s.gap.to} are no longer held (lvsd keeps the last 10,000); starting at ${s.gap.to + 1}\n`,
    );
  if (s.ahead && since !== undefined)
    io.err(
      `lvsd events: --since ${since} is beyond the newest event (${s.newest}): did lvsd restart? starting with the next event\n`,
    );
}

/** lvsd ended the stream early: say why and how to resume. */
function ended(error: ApiErrorBody['error'], line: string, io: Io, json: boolean): number {
  if (json) io.out(`${line}\n`);
  io.err(`lvsd events: ${error.message}\n${error.hint ? `  hint: ${error.hint}\n` : ''}`);
  return error.code === 'SLOW_CONSUMER' ? controlExitCodes.cutOff : controlExitCodes.notRunning;
}

/**
 * Waits while stdout's buffer is full, so a slow pipe slows this reader (and lvsd, seeing its
 * socket back up, cuts it off) instead of growing this process's memory. Io has no drain
 * hook, so this looks at the process's stdout, which is what Io.out writes to in `lvsd`.
 */
async function stdoutDrained(): Promise<void> {
  if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
}
