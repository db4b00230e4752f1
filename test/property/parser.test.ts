/**
 * Fuzzing the lexer, preprocessor, parser and validator with inputs mutated from real configs
 * (the shared corpus when present, lvsd's own samples always): every input must end in a model
 * and diagnostics, within a time bound, and never throw.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { posix as path } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildConfig, describedHost, loadConfig } from '../../src/config/index.js';
import {
  DiagnosticSink,
  MemorySource,
  parseKeepalivedConfig,
} from '../../src/keepalived-config/index.js';
import { corpusAvailable, corpusDir } from '../helpers/corpus.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function seeds(): string[] {
  const out = [readFileSync(path.join(repo, 'etc/demo.conf'), 'utf8')];
  if (corpusAvailable) {
    for (const dir of ['samples', 'edge']) {
      for (const f of readdirSync(path.join(corpusDir, dir))) {
        if (f.endsWith('.d')) continue;
        try {
          out.push(readFileSync(path.join(corpusDir, dir, f), 'utf8'));
        } catch {
          // a directory or unreadable entry: not a seed
        }
      }
    }
  }
  return out;
}

const host = describedHost({ interfaces: ['lo', 'eth0', 'eth1'], executables: ['/bin/true'] });
const MAX_MS = 2000;

function runAll(text: string, extra: Record<string, string> = {}): void {
  const source = new MemorySource({ '/k/main.conf': text, ...extra });
  const started = performance.now();
  const parsed = parseKeepalivedConfig('/k/main.conf', {
    source,
    configId: 'fuzz',
    random: () => 0.3,
  });
  const sink = new DiagnosticSink();
  const config = buildConfig(parsed.model, { host, hostname: 'fuzz' }, sink);
  const elapsed = performance.now() - started;
  expect(Array.isArray(parsed.diagnostics)).toBe(true);
  expect(config.virtualServers).toBeDefined();
  for (const d of [...parsed.diagnostics, ...sink.items]) {
    expect(typeof d.message).toBe('string');
    if (d.at) expect(d.at.line).toBeGreaterThanOrEqual(1);
  }
  expect(elapsed).toBeLessThan(MAX_MS);
  sameWithoutKeeping(source);
}

/** check-config's lean load (keepConfig false) finds exactly what the full one finds. */
function sameWithoutKeeping(source: MemorySource): void {
  const opts = { source, host, configId: 'fuzz', hostname: 'fuzz' };
  const kept = loadConfig('/k/main.conf', opts);
  const lean = loadConfig('/k/main.conf', { ...opts, keepConfig: false });
  expect(lean.diagnostics).toEqual(kept.diagnostics);
  expect([lean.exitStatus, lean.cannotRun, lean.files]).toEqual([
    kept.exitStatus,
    kept.cannotRun,
    kept.files,
  ]);
  expect(lean.config).toBeUndefined();
  const c = kept.config;
  expect(kept.counts).toEqual({
    virtualServers: c?.virtualServers.length ?? 0,
    realServers: c?.virtualServers.reduce((n, v) => n + v.realServers.length, 0) ?? 0,
    vrrpInstances: c?.vrrpInstances.length ?? 0,
  });
  expect(lean.counts).toEqual(kept.counts);
}

const fragments = [
  '{',
  '}',
  '"',
  "'",
  '#',
  '!',
  '\\',
  '$X',
  '${X}',
  '$X=',
  '@a ',
  '@^a ',
  '~SEQ(n,1,3)',
  'include x.conf',
  'includea y/*.conf',
  '\n',
  '\r\n',
  '\t',
  ' ',
  '\ufeff',
  '\u00a0',
  '\u0000',
  'virtual_server',
  'real_server',
  'HTTP_GET',
  'url',
  'vrrp_instance',
  'lvsd',
  '198.18.0.10',
  '::1',
  '80',
  '-1',
  '99999999999999999999',
  'weight',
  'status_code 200-',
  'lb_kind dr',
  'fwmark',
  'group',
  'x'.repeat(3000),
];

describe('parser fuzzing', () => {
  const all = seeds();

  it('mutated configs always end in a model and diagnostics', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: all.length - 1 }),
        fc.array(
          fc.record({
            at: fc.nat(),
            op: fc.constantFrom('insert', 'delete', 'dup', 'replace'),
            len: fc.nat({ max: 40 }),
            frag: fc.constantFrom(...fragments),
            junk: fc.string({ maxLength: 8 }),
          }),
          { maxLength: 12 },
        ),
        (seedIndex, mutations) => {
          let text = all[seedIndex] ?? '';
          for (const m of mutations) {
            const at = text.length === 0 ? 0 : m.at % (text.length + 1);
            if (m.op === 'insert') text = text.slice(0, at) + m.frag + text.slice(at);
            else if (m.op === 'delete') text = text.slice(0, at) + text.slice(at + m.len);
            else if (m.op === 'dup')
              text =
                text.slice(0, at + m.len) + text.slice(at, at + m.len) + text.slice(at + m.len);
            else text = text.slice(0, at) + m.junk + text.slice(at + m.len);
          }
          runAll(text, {
            '/k/x.conf': text.slice(0, 200),
            '/k/y/a.conf': 'include ../main.conf\n',
          });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('token soup always ends in a model and diagnostics', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 200 }), (parts) => {
        runAll(parts.join(' '));
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary unicode never crashes it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
        runAll(text);
      }),
      { numRuns: 300 },
    );
  });
});
