/** `lvsd undrain VS RS`: ends a drain; the server gets the weight its health gives it. */
import {
  clientFor,
  exitStatusHelp,
  failure,
  formatDuration,
  socketFlag,
} from '../../control/cli-support.js';
import { flagHelp, helpFlag, jsonFlag, parseArgs, UsageError, type FlagSpec } from '../args.js';
import { exitCodes } from '../exit-codes.js';
import type { Command } from '../io.js';

const flags: FlagSpec[] = [socketFlag, jsonFlag, helpFlag];

const help = `Usage: lvsd undrain VS RS [--json] [--socket PATH]

Ends the drain of real server RS of virtual server VS (named as for lvsd drain). The server
then gets the weight its health gives it: a failed server stays at 0 until it recovers.
Undraining a server that is not drained changes nothing and succeeds.

Options:
${flagHelp(flags)}

${exitStatusHelp}
`;

export const undrainCommand: Command = {
  name: 'undrain',
  summary: 'end the drain of a real server',
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
        'lvsd undrain needs VS and RS',
        'e.g. lvsd undrain tcp:198.18.0.10:80 198.18.1.11:80',
      );
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
    const json = args.flags.has('json');
    const client = clientFor(args, io, 'admin');
    try {
      const r = await client.undrain(vs, rs);
      if (json) io.out(`${JSON.stringify(r, null, 2)}\n`);
      else if (r.changed && r.previous.state === 'drain')
        io.out(
          `undrained ${r.rs} of ${r.vs} (drained by ${r.previous.by} ${formatDuration(Math.max(0, Date.now() - r.previous.at))} ago${r.previous.reason ? `: ${r.previous.reason}` : ''})\n`,
        );
      else io.out(`${r.rs} of ${r.vs} was not drained; nothing changed\n`);
      return exitCodes.ok;
    } catch (err) {
      return failure(err, io, 'undrain', json);
    } finally {
      await client.close();
    }
  },
};
