/** `lvsd check-config`: keepalived -t's verdict on a file, with lvsd's diagnostics. */
import { hostname } from 'node:os';
import { posix as path } from 'node:path';
import { readFileSync } from 'node:fs';
import { describedHost, loadConfig, type HostFacts, type LoadResult } from '../../config/index.js';
import { nodeHost } from '../../config/node-host.js';
import { nodeSource } from '../../keepalived-config/index.js';
import { flagHelp, helpFlag, jsonFlag, parseArgs, UsageError, type FlagSpec } from '../args.js';
import { exitCodes } from '../exit-codes.js';
import type { Command, Io } from '../io.js';
import { configIdFlag, configTarget, fileFlag, stringFlag } from '../common.js';
import { plural, relativeTo, renderDiagnostic } from '../render.js';

export { DEFAULT_CONFIG } from '../common.js';

const flags: FlagSpec[] = [
  fileFlag,
  configIdFlag,
  jsonFlag,
  { name: 'dump', takesValue: false, help: 'print the normalised configuration as JSON' },
  {
    name: 'quiet',
    short: 'q',
    takesValue: false,
    help: 'print only errors and warnings, no notices or summary',
  },
  {
    name: 'host-facts',
    takesValue: true,
    valueName: 'FILE',
    help: 'check against a described host (JSON: interfaces, executables, users) instead of this one',
  },
  helpFlag,
];

const help = `Usage: lvsd check-config [-f FILE] [-i CONFIG_ID] [--json] [--dump] [--quiet]

Parses and validates a keepalived.conf (or an lvsd file that includes one) without running
anything, like keepalived -t. Problems are printed as FILE:LINE:COL: SEVERITY: MESSAGE.

Options:
${flagHelp(flags)}

Exit status (the same as keepalived -t):
  0  clean: no error or warning (notices may be printed)
  4  cannot run: only fatal problems (a missing file, a missing default interface)
  5  errors or warnings: lvsd would run, without the parts that are wrong
  6  script security (a script would run as root without enable_script_security), or a
     strict include (includer/includem/includew/includeb/includea) failed
  2  bad command line
`;

export const checkConfigCommand: Command = {
  name: 'check-config',
  summary: 'validate a configuration file (like keepalived -t)',
  help,
  async run(argv, io) {
    await Promise.resolve();
    const args = parseArgs(argv, flags);
    if (args.flags.has('help')) {
      io.out(help);
      return exitCodes.ok;
    }
    if (args.positionals.length > 0)
      throw new UsageError(
        `unexpected argument '${args.positionals[0] ?? ''}'`,
        'the file is given with -f FILE',
      );
    const { file, configId } = configTarget(args, io);
    const factsFile = stringFlag(args, 'host-facts');
    const host = factsFile ? readHostFacts(path.resolve(io.cwd, factsFile)) : nodeHost(io.env);
    // Without --dump only the diagnostics and the counts are printed: the config need not be
    // kept, which spares most of the garbage collector's work on a large file.
    const result = loadConfig(file, {
      source: nodeSource(),
      host,
      configId,
      hostname: hostname(),
      keepConfig: args.flags.has('dump'),
    });
    report(result, file, args.flags, io);
    return result.exitStatus;
  },
};

function report(
  result: LoadResult,
  file: string,
  f: ReadonlyMap<string, string | true>,
  io: Io,
): void {
  const counts = { error: 0, warning: 0, notice: 0 };
  for (const d of result.diagnostics) counts[d.severity]++;
  const config = result.config;
  const summary = { ...result.counts, ...counts };
  if (f.has('json')) {
    io.out(
      `${JSON.stringify({ file, exitStatus: result.exitStatus, cannotRun: result.cannotRun, files: result.files, summary, diagnostics: result.diagnostics, ...(f.has('dump') && config ? { config } : {}) }, null, 2)}\n`,
    );
    return;
  }
  const quiet = f.has('quiet');
  const dump = f.has('dump');
  // With --dump the configuration owns stdout; diagnostics go to stderr.
  const write = dump ? io.err : io.out;
  const lines: string[] = [];
  for (const d of result.diagnostics) {
    if (quiet && d.severity === 'notice') continue;
    lines.push(renderDiagnostic(d, io.cwd, io.tty && !dump));
  }
  if (lines.length > 0) write(`${lines.join('\n')}\n`);
  if (dump && config) io.out(`${JSON.stringify(config, null, 2)}\n`);
  if (quiet) return;
  const verdict =
    result.exitStatus === 0
      ? 'OK'
      : result.exitStatus === 4
        ? 'cannot run'
        : result.exitStatus === 6
          ? 'refused (script security or strict include)'
          : 'would run, with problems';
  write(
    `${relativeTo(io.cwd, file)}: ${verdict}: ${plural(summary.virtualServers, 'virtual server')}, ${plural(summary.realServers, 'real server')}, ${plural(summary.vrrpInstances, 'VRRP instance')}; ${plural(counts.error, 'error')}, ${plural(counts.warning, 'warning')}, ${plural(counts.notice, 'notice')}\n`,
  );
}

interface HostFactsFile {
  interfaces?: unknown;
  executables?: unknown;
  users?: unknown;
  insecure?: unknown;
}

function readHostFacts(file: string): HostFacts {
  let data: HostFactsFile;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as HostFactsFile;
  } catch (err) {
    throw new UsageError(
      `cannot read host facts ${file}: ${(err as Error).message}`,
      'a JSON object: { "interfaces": [...], "executables": [...], "users": [...] }',
    );
  }
  const list = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  return describedHost({
    interfaces: list(data.interfaces),
    executables: list(data.executables),
    users: list(data.users).length ? list(data.users) : ['root'],
    insecure: list(data.insecure),
  });
}
