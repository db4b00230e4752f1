/** Flags and helpers that several commands share, so they read and behave the same. */
import { hostname } from 'node:os';
import { posix as path } from 'node:path';
import type { FlagSpec, ParsedArgs } from './args.js';
import type { Io } from './io.js';

export const DEFAULT_CONFIG = '/etc/keepalived/keepalived.conf';

export const fileFlag: FlagSpec = {
  name: 'file',
  short: 'f',
  takesValue: true,
  valueName: 'FILE',
  help: `configuration file (default ${DEFAULT_CONFIG})`,
};

export const configIdFlag: FlagSpec = {
  name: 'config-id',
  short: 'i',
  takesValue: true,
  valueName: 'ID',
  help: 'config-id for @ID lines (default: the host name up to the first dot)',
};

export const ipvsFlag: FlagSpec = {
  name: 'ipvs',
  takesValue: true,
  valueName: 'ipvsadm|memory',
  help: "IPVS driver (default: the lvsd block's ipvs_driver, else ipvsadm)",
};

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** The configuration file and config-id every command that reads a config uses. */
export function configTarget(args: ParsedArgs, io: Io): { file: string; configId: string } {
  return {
    file: path.resolve(io.cwd, stringFlag(args, 'file') ?? DEFAULT_CONFIG),
    configId: stringFlag(args, 'config-id') ?? hostname().split('.')[0] ?? '',
  };
}
