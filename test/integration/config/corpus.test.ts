/**
 * lvsd check-config against keepalived 2.2.7's own verdicts on every corpus file, in the three
 * host environments of the oracle (main, bare, scripts) and for each config-id the file uses.
 * Where lvsd deliberately differs, docs/keepalived-differences.md says so and why; that table
 * is parsed here, so an undocumented difference — or a documented one that went away — fails.
 */
import { readFileSync } from 'node:fs';
import { posix as path } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { nodeSource } from '../../../src/keepalived-config/index.js';
import {
  corpusAvailable,
  corpusMissingReason,
  corpusRows,
  oracleHost,
  ORACLE_CONFIG_ID,
  type OracleEnv,
} from '../../helpers/corpus.js';

interface Difference {
  file: string;
  env: string;
  keepalived: number;
  lvsd: number;
  reason: string;
}

function differences(): Difference[] {
  const md = readFileSync(
    new URL('../../../docs/keepalived-differences.md', import.meta.url),
    'utf8',
  );
  const section = md.split('## Corpus verdicts')[1] ?? '';
  const out: Difference[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 7 || !cells[1]?.startsWith('`')) continue;
    out.push({
      file: cells[1].replace(/`/g, ''),
      env: cells[2] ?? '',
      keepalived: Number(cells[3]),
      lvsd: Number(cells[4]),
      reason: cells[5] ?? '',
    });
  }
  return out;
}

function check(file: string, env: OracleEnv, configId = ORACLE_CONFIG_ID) {
  return loadConfig(file, {
    source: nodeSource(),
    host: oracleHost(env),
    configId,
    hostname: 'kaoracle',
  });
}

const envs: { env: OracleEnv; column: 'exit' | 'exitBare' | 'exitScripts' }[] = [
  { env: 'main', column: 'exit' },
  { env: 'bare', column: 'exitBare' },
  { env: 'scripts', column: 'exitScripts' },
];

describe.skipIf(!corpusAvailable)('keepalived corpus: lvsd gives keepalived -t verdicts', () => {
  if (!corpusAvailable) return;
  const rows = corpusRows();
  const diffs = differences();
  const used = new Set<Difference>();

  it('the corpus has every file of expected.tsv', () => {
    expect(rows.length).toBeGreaterThanOrEqual(68);
  });

  for (const row of rows) {
    for (const { env, column } of envs) {
      it(`${row.file} [${env}]`, () => {
        const r = check(row.path, env);
        const diff = diffs.find((d) => d.file === row.file && (d.env === env || d.env === 'all'));
        if (diff) {
          used.add(diff);
          expect(row[column], `documented keepalived verdict for ${row.file} [${env}]`).toBe(
            diff.keepalived,
          );
          expect(r.exitStatus, diff.reason).toBe(diff.lvsd);
          return;
        }
        expect(
          r.exitStatus,
          r.diagnostics.map((d) => `${d.at?.line ?? '-'}: ${d.message}`).join('\n'),
        ).toBe(row[column]);
      });
    }
    for (const [id, exit] of row.configIds) {
      it(`${row.file} [-i ${id}]`, () => {
        const r = check(row.path, 'main', id);
        const diff = diffs.find((d) => d.file === row.file && d.env === `-i ${id}`);
        if (diff) {
          used.add(diff);
          expect(exit).toBe(diff.keepalived);
          expect(r.exitStatus, diff.reason).toBe(diff.lvsd);
          return;
        }
        expect(r.exitStatus).toBe(exit);
      });
    }
    if (row.lines.length > 0) {
      it(`${row.file}: names the lines keepalived names (${row.lines.join(',')})`, () => {
        const r = check(row.path, 'main');
        const named = new Set(r.diagnostics.filter((d) => d.at).map((d) => d.at?.line));
        const diff = diffs.find((d) => d.file === row.file && d.env === 'lines');
        const missing = row.lines.filter((l) => !named.has(l));
        if (diff) {
          used.add(diff);
          expect(missing.length, diff.reason).toBeGreaterThan(0);
          return;
        }
        expect(missing, `lines named: ${[...named].join(',')}`).toEqual([]);
      });
    }
  }

  it('every documented difference is still a difference (none is stale)', () => {
    const stale = diffs.filter((d) => !used.has(d));
    expect(stale.map((d) => `${d.file} [${d.env}]`)).toEqual([]);
  });

  it('messages in included files name that file', () => {
    const row = rows.find((x) => x.file === 'include-error-location.conf');
    if (!row) return;
    const r = check(row.path, 'main');
    const d = r.diagnostics.find((x) => x.code === 'unknown-keyword');
    expect(d?.at?.file).toBe(path.join(path.dirname(row.path), 'inc-err.d/broken.conf'));
    expect(d?.at?.line).toBe(5);
  });
});

if (!corpusAvailable) {
  describe('keepalived corpus', () => {
    it.skip(`skipped: ${corpusMissingReason}`, () => undefined);
  });
}
