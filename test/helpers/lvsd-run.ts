/** `lvsd run` as a process for tests: the built CLI, the memory IPVS driver, its own sockets. */
import { posix as path } from 'node:path';
import { execa } from 'execa';

export const LVSD_JS = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '../../bin/lvsd.js',
);

export interface RunOptions {
  readonly file: string;
  /** The admin socket; the read-only one is `lvsd-ro.sock` beside it unless `roSocket`. */
  readonly socket: string;
  readonly stateDir: string;
  readonly roSocket?: string;
  readonly timeoutMs?: number;
}

/** Starts `lvsd run --ipvs memory`; the caller waits for what it needs and ends it. */
export function runLvsdMemory(o: RunOptions) {
  return execa(
    'node',
    [
      LVSD_JS,
      'run',
      '-f',
      o.file,
      '--ipvs',
      'memory',
      '--socket',
      o.socket,
      ...(o.roSocket === undefined ? [] : ['--ro-socket', o.roSocket]),
      '--state-dir',
      o.stateDir,
    ],
    { reject: false, timeout: o.timeoutMs ?? 60_000 },
  );
}
