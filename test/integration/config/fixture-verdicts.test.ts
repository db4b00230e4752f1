/**
 * lvsd against keepalived 2.2.7 on the small fixture sets in test/fixtures/keepalived-config/
 * (a `\` at the end of a line; tunnel forwarding options): the verdicts the corpus oracle
 * recorded in each folder's expected.tsv (see the README there), and, when this machine has
 * keepalived and the test runs as root, a fresh `keepalived -t` run on the same files (so the
 * recorded tables cannot drift from what keepalived does).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { posix as path } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { nodeSource } from '../../../src/keepalived-config/index.js';
import { oracleHost, ORACLE_CONFIG_ID } from '../../helpers/corpus.js';

const fixtures = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../fixtures/keepalived-config',
);
const sets = ['backslash', 'tunnel'];

interface Row {
  file: string;
  exit: number;
  lines: number[];
}

function rowsOf(dir: string): Row[] {
  return readFileSync(path.join(dir, 'expected.tsv'), 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => {
      const c = line.split('\t');
      return {
        file: c[1] ?? '',
        exit: Number(c[2]),
        lines: (c[5] ?? '').split(',').filter(Boolean).map(Number),
      };
    });
}

/**
 * Lines keepalived names that lvsd does not, with the reason. keepalived reads a file in up to
 * four passes (corpus README) and its first pass differs from the others here:
 * - it does not count a last line without a newline (`read_line` counts a line at its `\n`),
 *   so it names the line before; the other passes, and lvsd, name the line itself;
 * - inside a multi-line `$NAME=` definition it skips a comment-only line and reads on, where
 *   the other passes (and lvsd) end the definition there; so the first pass names the line
 *   that uses the definition, the others the line after the comment.
 */
const keepalivedMisnumbers: Record<string, number[]> = {
  'last-line-no-newline.conf': [3],
  'definition-comment-line-ends.conf': [6],
};

function lvsd(dir: string, file: string) {
  return loadConfig(path.join(dir, file), {
    source: nodeSource(),
    host: oracleHost('main'),
    configId: ORACLE_CONFIG_ID,
    hostname: 'kaoracle',
  });
}

const keepalivedHere =
  process.getuid?.() === 0 &&
  spawnSync('keepalived', ['-v'], { timeout: 5000, stdio: 'ignore' }).status === 0;

/** `keepalived -t` in its own network, UTS and mount namespaces (it sends nothing under -t). */
function keepalived(dir: string, file: string): number | null {
  const r = spawnSync(
    'unshare',
    ['--net', '--uts', '--mount', '--propagation', 'private', 'keepalived', '-t', '-f', file],
    { cwd: dir, timeout: 10_000, stdio: 'ignore' },
  );
  return r.status;
}

for (const set of sets) {
  const dir = path.join(fixtures, set);
  const rows = rowsOf(dir);

  describe(`${set}: lvsd gives keepalived -t verdicts`, () => {
    it('every fixture has a recorded verdict', () => {
      const confs = readdirSync(dir).filter((f) => f.endsWith('.conf'));
      expect(rows.map((r) => r.file).sort()).toEqual(confs.sort());
      expect(rows.length).toBeGreaterThanOrEqual(20);
    });

    for (const row of rows) {
      it(`${row.file}: exit ${row.exit}, lines ${row.lines.join(',') || 'none'}`, () => {
        const r = lvsd(dir, row.file);
        const why = r.diagnostics.map((d) => `${d.at?.line ?? '-'}: ${d.message}`).join('\n');
        expect(r.exitStatus, why).toBe(row.exit);
        const named = new Set(r.diagnostics.map((d) => d.at?.line));
        const skip = keepalivedMisnumbers[row.file] ?? [];
        expect(
          row.lines.filter((l) => !named.has(l) && !skip.includes(l)),
          why,
        ).toEqual([]);
        if (row.exit === 0)
          expect(r.diagnostics.filter((d) => d.severity !== 'notice')).toEqual([]);
      });
    }

    it.skipIf(!keepalivedHere)(
      'a fresh keepalived -t run still gives the recorded verdicts',
      () => {
        const got = rows.map((row) => `${row.file} ${keepalived(dir, row.file)}`);
        expect(got).toEqual(rows.map((row) => `${row.file} ${row.exit}`));
      },
    );
  });
}
