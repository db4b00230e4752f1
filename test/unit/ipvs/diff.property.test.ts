import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply } from '../../../src/ipvs/apply.js';
import { diff } from '../../../src/ipvs/diff.js';
import { MemoryIpvsDriver } from '../../../src/ipvs/drivers/memory.js';
import { parseSave, renderSave } from '../../../src/ipvs/ipvsadm-text.js';
import { checkOp, checkTable } from '../../../src/ipvs/rules.js';
import { tableEquals, type Table } from '../../../src/ipvs/table.js';
import { nearbyTableArb, tableArb } from './arbitraries.js';

const pairArb = fc.oneof(
  fc.tuple(tableArb, tableArb),
  tableArb.chain((a) => fc.tuple(fc.constant(a), nearbyTableArb(a))),
);

function show(t: Table): string {
  return renderSave(t, { thresholds: true });
}

describe('diff properties', () => {
  it('generated tables are valid (else the properties below prove little)', () => {
    fc.assert(fc.property(tableArb, (t) => checkTable(t).length === 0));
  });

  it('apply(A, diff(A, B)) equals B, with no refused op', () => {
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        const after = apply(a, diff(a, b));
        expect(show(after)).toBe(show(b));
        expect(tableEquals(after, b)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('diff(A, A) is empty', () => {
    fc.assert(fc.property(tableArb, (a) => diff(a, a).length === 0));
  });

  it('after applying, there is nothing left to do', () => {
    fc.assert(
      fc.property(pairArb, ([a, b]) => diff(apply(a, diff(a, b)), b).length === 0),
      { numRuns: 300 },
    );
  });

  it('every op of a diff between valid tables is a valid ipvsadm line', () => {
    fc.assert(
      fc.property(pairArb, ([a, b]) => diff(a, b).every((op) => checkOp(op) === undefined)),
      { numRuns: 300 },
    );
  });

  it('at most one op per service and per real server; no deletes of a deleted service', () => {
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        const ops = diff(a, b);
        const targets = ops.map((op) =>
          'destination' in op
            ? `${JSON.stringify(op.serviceId)} ${op.destination.address} ${op.destination.port}`
            : JSON.stringify('service' in op ? op.service.id : op.serviceId),
        );
        expect(new Set(targets).size).toBe(targets.length);
        const deletedServices = new Set(
          ops
            .filter((op) => op.kind === 'delete-service')
            .map((op) => JSON.stringify(op.serviceId)),
        );
        for (const op of ops) {
          if (op.kind === 'delete-destination') {
            expect(deletedServices.has(JSON.stringify(op.serviceId))).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the memory twin takes every op of a diff and ends at B', async () => {
    await fc.assert(
      fc.asyncProperty(pairArb, async ([a, b]) => {
        const driver = new MemoryIpvsDriver({ initial: a });
        const result = await driver.apply(diff(a, b));
        expect(result.ok).toBe(true);
        expect(show(result.after)).toBe(show(b));
      }),
      { numRuns: 200 },
    );
  });

  it('renderSave with thresholds parses back to the same table', () => {
    fc.assert(
      fc.property(tableArb, (t) => {
        const back = parseSave(show(t));
        expect(back.ok).toBe(true);
        if (back.ok) expect(tableEquals(back.value, t)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
