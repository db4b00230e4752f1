/**
 * Attribution of `ipvsadm -R` errors to ops, on the README's measured batches: stderr has one
 * message per refused line and no line numbers; the table read back is the truth.
 */
import { describe, expect, it } from 'vitest';
import { parseSave } from '../../../src/ipvs/ipvsadm-text.js';
import type { Op } from '../../../src/ipvs/op.js';
import { MASQ, makeDestination, type Table } from '../../../src/ipvs/table.js';
import { attributeOutcomes } from '../../../src/ipvs/verify.js';

function t(text: string): Table {
  const r = parseSave(text);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

const vip = { kind: 'address', protocol: 'tcp', address: '198.18.0.10', port: 80 } as const;
function edit(host: number, weight: number): Op {
  return {
    kind: 'edit-destination',
    serviceId: vip,
    destination: makeDestination({
      address: `198.18.1.${host}`,
      port: 80,
      forwarding: MASQ,
      weight,
    }),
  };
}
function add(host: number, weight: number): Op {
  return { ...edit(host, weight), kind: 'add-destination' } as Op;
}
function after(weights: Record<number, number>): Table {
  const rows = Object.entries(weights).map(
    ([h, w]) => `-a -t 198.18.0.10:80 -r 198.18.1.${h}:80 -m -w ${w}`,
  );
  return t(['-A -t 198.18.0.10:80 -s wrr', ...rows].join('\n'));
}

describe('attributeOutcomes', () => {
  it('the middle line of three fails (README batch 2): exactly that op is reported', () => {
    const { outcomes, unattributed } = attributeOutcomes(
      [edit(13, 2), edit(99, 2), edit(14, 2)],
      after({ 11: 1, 12: 1, 13: 2, 14: 2 }),
      ['No such destination'],
    );
    expect(outcomes.map((o) => [o.ok, o.error])).toEqual([
      [true, undefined],
      [false, 'No such destination'],
      [true, undefined],
    ]);
    expect(unattributed).toEqual([]);
  });

  it('an add of a real server that exists, with other settings (README batch 1)', () => {
    const { outcomes } = attributeOutcomes(
      [add(13, 1), add(11, 5), add(14, 1)],
      after({ 11: 1, 12: 1, 13: 1, 14: 1 }),
      ['Destination already exists'],
    );
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[1]?.error).toBe('Destination already exists');
  });

  it('a refusal whose op shows anyway keeps its message but counts as taken', () => {
    const { outcomes } = attributeOutcomes([add(11, 1)], after({ 11: 1 }), [
      'Destination already exists',
    ]);
    expect(outcomes[0]).toMatchObject({ ok: true, error: 'Destination already exists' });
  });

  it('a batch cut short: the ops that did not run are reported without a message of their own', () => {
    const { outcomes, unattributed } = attributeOutcomes(
      [edit(13, 5), edit(14, 5)],
      after({ 13: 5, 14: 3 }),
      ["Try `ipvsadm -h' or 'ipvsadm --help' for more information."],
    );
    expect(outcomes.map((o) => o.ok)).toEqual([true, false]);
    expect(outcomes[1]?.error).toContain('ipvsadm -h');
    expect(unattributed).toEqual([]);
  });

  it('messages that fit no failed op are kept as unattributed', () => {
    const { outcomes, unattributed } = attributeOutcomes([edit(13, 5)], after({ 13: 5 }), [
      'Service already exists',
    ]);
    expect(outcomes[0]?.ok).toBe(true);
    expect(unattributed).toEqual(['Service already exists']);
  });
});
