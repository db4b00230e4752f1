/**
 * A small, strict argument parser: every command declares its flags; anything else is a usage
 * error with a hint, never silently ignored. `--flag=value` and `--flag value` both work.
 */
import { editDistance } from '../lib/edit-distance.js';

export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly takesValue: boolean;
  readonly help: string;
  readonly valueName?: string;
}

export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const long = a.startsWith('--');
    const eq = a.indexOf('=');
    const key = long ? a.slice(2, eq > 0 ? eq : undefined) : a.slice(1);
    const spec = specs.find((s) => (long ? s.name === key : s.short === key));
    if (!spec) {
      const near = specs.find(
        (s) => s.name.startsWith(key) || key.startsWith(s.name) || editDistance(s.name, key) <= 2,
      );
      throw new UsageError(
        `unknown option ${a}`,
        near ? `did you mean --${near.name}?` : 'see --help',
      );
    }
    if (!spec.takesValue) {
      if (long && eq > 0) throw new UsageError(`--${spec.name} takes no value`);
      flags.set(spec.name, true);
      continue;
    }
    let value: string | undefined;
    if (long && eq > 0) value = a.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined)
      throw new UsageError(
        `--${spec.name} needs a value${spec.valueName ? ` (${spec.valueName})` : ''}`,
      );
    flags.set(spec.name, value);
  }
  return { flags, positionals };
}

export function flagHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.takesValue ? ` ${s.valueName ?? 'VALUE'}` : ''}`;
    return `  ${left.padEnd(30)} ${s.help}`;
  });
  return rows.join('\n');
}

export const helpFlag: FlagSpec = {
  name: 'help',
  short: 'h',
  takesValue: false,
  help: 'show this help',
};
export const jsonFlag: FlagSpec = {
  name: 'json',
  takesValue: false,
  help: 'print machine-readable JSON',
};
