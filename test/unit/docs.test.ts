/** docs/errors.md lists exactly the diagnostic codes of the catalogue. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnosticCodes } from '../../src/keepalived-config/index.js';

describe('docs/errors.md', () => {
  it('lists every diagnostic code and no other', () => {
    const md = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const section = md.split('# Runtime error codes')[0] ?? '';
    const documented = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(diagnosticCodes).sort());
  });
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('docs/errors.md runtime codes', () => {
  it('lists every LvsdError code raised in src/ and no other', () => {
    const md = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const section =
      (md.split('# Runtime error codes')[1] ?? '').split('# Control API error codes')[0] ?? '';
    const documented = new Set([...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
    const raised = new Set<string>();
    const root = new URL('../../src', import.meta.url).pathname;
    for (const f of sources(root)) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/LvsdError\(\s*'([A-Z_]+)'/g)) if (m[1]) raised.add(m[1]);
      for (const m of text.matchAll(/^\s+[a-zA-Z]+: '((?:IPVS|IPVSADM)_[A-Z_]+)',$/gm))
        if (m[1]) raised.add(m[1]);
    }
    expect([...raised].sort()).toEqual([...documented].sort());
  });
});

describe('docs/errors.md control API codes', () => {
  it('lists every code of the API catalogue and no other', async () => {
    const { apiErrors } = await import('../../src/control/errors.js');
    const md = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const section = md.split('# Control API error codes')[1] ?? '';
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(apiErrors).sort());
  });
});
