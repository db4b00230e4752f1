/**
 * The shared keepalived.conf corpus (../shared/corpus/keepalived) and the three host
 * environments its oracle ran keepalived in, pinned as HostFacts. Absent in a user's clone:
 * callers skip with `corpusMissingReason`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { posix as path } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describedHost, type HostFacts } from '../../src/config/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const corpusDir = path.resolve(repoRoot, '../shared/corpus/keepalived');
export const corpusAvailable = existsSync(path.join(corpusDir, 'expected.tsv'));
export const corpusMissingReason = `the keepalived corpus is not here (${corpusDir}); it comes with ../shared, which CI has and a plain clone does not`;

export interface CorpusRow {
  kind: 'sample' | 'edge';
  file: string;
  path: string;
  exit: number;
  lines: number[];
  env: string;
  exitBare: number;
  exitScripts: number;
  messages: string;
  /** config-id → exit, from the env column. */
  configIds: Map<string, number>;
}

export function corpusRows(): CorpusRow[] {
  const text = readFileSync(path.join(corpusDir, 'expected.tsv'), 'utf8');
  const [, ...rows] = text.trimEnd().split('\n');
  return rows.map((line) => {
    const c = line.split('\t');
    const kind = c[0] === 'sample' ? 'sample' : 'edge';
    const file = c[1] ?? '';
    const env = c[6] ?? '';
    const configIds = new Map<string, number>();
    for (const part of env.split(';')) {
      const m = /^config-id=(.+):(\d+)$/.exec(part);
      if (m?.[1] && m[2]) configIds.set(m[1], Number(m[2]));
    }
    return {
      kind,
      file,
      path: path.join(corpusDir, kind === 'sample' ? 'samples' : 'edge', file),
      exit: Number(c[2]),
      lines: (c[5] ?? '').split(',').filter(Boolean).map(Number),
      env,
      exitBare: Number(c[7]),
      exitScripts: Number(c[8]),
      messages: c[9] ?? '',
      configIds,
    };
  });
}

/** Executables the oracle's machine had (corpus README: /bin/true, killall, /usr/bin/test). */
const machineExecutables = [
  '/bin/true',
  '/usr/bin/true',
  '/usr/bin/test',
  '/bin/test',
  '/usr/bin/killall',
  '/bin/sh',
  '/usr/bin/sh',
  '/bin/bash',
  '/usr/bin/bash',
];

export type OracleEnv = 'main' | 'bare' | 'scripts';

export function oracleHost(env: OracleEnv): HostFacts {
  const main = describedHost({
    interfaces: env === 'bare' ? ['lo'] : ['lo', 'eth0', 'eth1', 'eth2', 'eth3'],
    executables: machineExecutables,
    users: ['root'],
  });
  if (env !== 'scripts') return main;
  // The scripts environment adds a root-owned stub at every absolute script path.
  return {
    ...main,
    executable: (cmd) =>
      cmd.startsWith('/') ? { path: cmd, writableByNonRoot: false } : main.executable(cmd),
  };
}

/** The oracle runs with hostname "kaoracle": that is the default config-id. */
export const ORACLE_CONFIG_ID = 'kaoracle';
