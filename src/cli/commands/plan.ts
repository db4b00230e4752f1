/** `lvsd plan`: the IPVS operations `lvsd run` would issue now, without applying them. */
import { hostname } from 'node:os';
import { posix as path } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { nodeHost } from '../../config/node-host.js';
import { HealthBook } from '../../daemon/health-book.js';
import { systemTimers } from '../../health/timer-port.js';
import { desiredTable } from '../../ipvs/desired.js';
import { diff } from '../../ipvs/diff.js';
import { renderOp } from '../../ipvs/ipvsadm-text.js';
import type { ServiceEntry, ServiceKey } from '../../ipvs/table.js';
import { nodeSource } from '../../keepalived-config/index.js';
import { systemClock } from '../../lib/clock.js';
import { EventBus } from '../../lib/events.js';
import { flagHelp, helpFlag, jsonFlag, parseArgs, type FlagSpec } from '../args.js';
import { exitCodes } from '../exit-codes.js';
import type { Command } from '../io.js';
import { configIdFlag, configTarget, fileFlag, ipvsFlag, stringFlag } from '../common.js';
import { renderDiagnostic } from '../render.js';
import { createDriver, driverName, startFailure } from './run.js';

const flags: FlagSpec[] = [fileFlag, configIdFlag, ipvsFlag, jsonFlag, helpFlag];

const help = `Usage: lvsd plan [-f FILE] [--ipvs ipvsadm|memory] [--json]

Reads the kernel's IPVS table and prints the operations \`lvsd run\` would issue at start, as
ipvsadm -R lines, without applying anything. Real servers are placed as at start-up (every
server in at its weight, except alpha servers, which wait for their first check). Services
that are not in the configuration are not touched and not listed.

Options:
${flagHelp(flags)}

Exit status: 0 (with or without operations to do: see "ops" in --json);
2 bad command line; 3 IPVS not usable; 4 the configuration cannot run.
`;

export const planCommand: Command = {
  name: 'plan',
  summary: 'print the IPVS operations run would issue now',
  help,
  async run(argv, io) {
    const args = parseArgs(argv, flags);
    if (args.flags.has('help')) {
      io.out(help);
      return exitCodes.ok;
    }
    const { file, configId } = configTarget(args, io);
    const loaded = loadConfig(file, {
      source: nodeSource(),
      host: nodeHost(io.env),
      configId,
      hostname: hostname(),
    });
    if (!loaded.config || loaded.cannotRun) {
      for (const d of loaded.diagnostics)
        if (d.severity !== 'notice') io.err(`${renderDiagnostic(d, io.cwd, false)}\n`);
      return exitCodes.cannotRun;
    }
    const driver = createDriver(driverName(stringFlag(args, 'ipvs'), file, configId));
    let observed;
    try {
      observed = await driver.read();
    } catch (err) {
      return startFailure(err, io);
    }
    const book = new HealthBook(
      new EventBus(systemClock),
      systemClock,
      systemTimers,
      () => undefined,
    );
    book.sync(loaded.config);
    const desired = desiredTable({
      config: loaded.config,
      placement: (vs, rs) => book.placement(vs, rs),
      quorumUp: (vs) => book.quorumUp(vs),
      drained: () => false,
    });
    const mine = new Map<ServiceKey, ServiceEntry>();
    for (const [k, e] of observed.table.services) if (desired.services.has(k)) mine.set(k, e);
    const ops = diff({ services: mine }, desired);
    book.stop();
    const lines = ops.map(renderOp);
    if (args.flags.has('json'))
      io.out(`${JSON.stringify({ driver: driver.name, ops: lines.length, lines }, null, 2)}\n`);
    else if (lines.length === 0)
      io.out(`# the ${driver.name} table already matches ${path.basename(file)}: no operation\n`);
    else
      io.out(
        `# ${lines.length} operation${lines.length === 1 ? '' : 's'} (ipvsadm -R input):\n${lines.join('\n')}\n`,
      );
    return exitCodes.ok;
  },
};
