/**
 * `lvsd demo` (what `npm start` runs): for now it checks and summarises etc/demo.conf, the
 * embedded default configuration. The health-checking demo with live backends comes with the
 * health checks (issue 4).
 */
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { posix as path } from 'node:path';
import { flagHelp, helpFlag, jsonFlag, parseArgs, type FlagSpec } from '../args.js';
import { exitCodes } from '../exit-codes.js';
import type { Command } from '../io.js';
import { checkConfigCommand } from './check-config.js';

const flags: FlagSpec[] = [jsonFlag, helpFlag];
const help = `Usage: lvsd demo [--json]

Runs lvsd on its embedded default configuration (etc/demo.conf): no root, no IPVS needed.
Today it validates the demo configuration and prints what it contains.

Options:
${flagHelp(flags)}
`;

/** etc/demo.conf next to the bundle (dist/lvsd.mjs) or the sources (src/cli/commands/). */
export function demoConfigPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const rel of ['../etc/demo.conf', '../../../etc/demo.conf']) {
    const p = path.resolve(here, rel);
    if (existsSync(p)) return p;
  }
  return path.resolve(here, '../etc/demo.conf');
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run lvsd on its embedded demo configuration',
  help,
  async run(argv, io) {
    const args = parseArgs(argv, flags);
    if (args.flags.has('help')) {
      io.out(help);
      return exitCodes.ok;
    }
    return checkConfigCommand.run(
      ['-f', demoConfigPath(), '--dump', ...(args.flags.has('json') ? ['--json'] : [])],
      io,
    );
  },
};
