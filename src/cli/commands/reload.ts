/** `lvsd reload`: validate the configuration file and apply what changed. */
import {
  clientFor,
  exitStatusHelp,
  failure,
  noPositionals,
  socketFlag,
} from '../../control/cli-support.js';
import { flagHelp, helpFlag, jsonFlag, parseArgs, type FlagSpec } from '../args.js';
import { exitCodes } from '../exit-codes.js';
import type { Command } from '../io.js';
import { plural } from '../render.js';

const flags: FlagSpec[] = [socketFlag, jsonFlag, helpFlag];

const help = `Usage: lvsd reload [--json] [--socket PATH]

Asks the running lvsd to re-read its configuration file, as SIGHUP does, and waits for the
verdict. The file is validated first: one that cannot run, or brings problems the running
file did not have, is rejected with its FILE:LINE:COL diagnostics and nothing changes. A
reload keeps the health of every real server that survives it and changes only what changed.
Drains and maintenance windows are admin state and survive every reload.

Options:
${flagHelp(flags)}

${exitStatusHelp}
${exitCodes.cannotRun} the new configuration was rejected (the running one stays).
`;

export const reloadCommand: Command = {
  name: 'reload',
  summary: 'validate and reload the configuration of the running lvsd',
  help,
  async run(argv, io) {
    const args = parseArgs(argv, flags);
    if (args.flags.has('help')) {
      io.out(help);
      return exitCodes.ok;
    }
    noPositionals(args, 0, 'the file is the one lvsd run was started with');
    const json = args.flags.has('json');
    const client = clientFor(args, io, 'admin');
    try {
      const r = await client.reload();
      if (json) io.out(`${JSON.stringify(r, null, 2)}\n`);
      else {
        const parts = [
          ...r.added.map((n) => `  added    ${n}`),
          ...r.removed.map((n) => `  removed  ${n}`),
          ...r.changed.map((n) => `  changed  ${n}`),
        ];
        io.out(
          parts.length === 0
            ? 'reloaded: no virtual server changed\n'
            : `reloaded: ${plural(r.added.length, 'virtual server')} added, ${r.removed.length} removed, ${r.changed.length} changed\n${parts.join('\n')}\n`,
        );
      }
      return exitCodes.ok;
    } catch (err) {
      return failure(err, io, 'reload', json);
    } finally {
      await client.close();
    }
  },
};
