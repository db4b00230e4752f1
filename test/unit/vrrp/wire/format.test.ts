/** docs/heartbeat-protocol.md's packet table matches the layout the codec uses. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DROP_REASONS } from '../../../../src/vrrp/wire/counters.js';
import {
  DEFAULT_PORT,
  HEADER_BYTES,
  MAX_PACKET_BYTES,
  Offset,
} from '../../../../src/vrrp/wire/format.js';

const md = readFileSync(new URL('../../../../docs/heartbeat-protocol.md', import.meta.url), 'utf8');

describe('docs/heartbeat-protocol.md', () => {
  it('gives every header field the offset the codec uses', () => {
    const rows = [...md.matchAll(/^\| (\d+) \| (\d+|\*a\*) \| `([a-zA-Z]+)` \|/gm)].map((m) => [
      m[3],
      Number(m[1]),
    ]);
    expect(Object.fromEntries(rows)).toEqual({ ...Offset });
    expect(md).toContain(`| 32 + *a* | 32 | MAC |`);
    expect(Offset.addresses).toBe(HEADER_BYTES);
  });

  it('states the maximum size and the port', () => {
    expect(md).toContain(`**${MAX_PACKET_BYTES}** bytes`);
    expect(md).toContain(`**${DEFAULT_PORT}**`);
  });

  it('lists every drop reason and no other', () => {
    const section = md.split('## What a receiver does with a bad packet')[1] ?? '';
    const listed = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect([...listed].sort()).toEqual([...DROP_REASONS].sort());
  });
});
