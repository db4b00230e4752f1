/** docs/errors.md lists exactly the diagnostic codes of the catalogue. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diagnosticCodes } from '../../src/keepalived-config/index.js';

describe('docs/errors.md', () => {
  it('lists every diagnostic code and no other', () => {
    const md = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...md.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(diagnosticCodes).sort());
  });
});
