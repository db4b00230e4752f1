/**
 * Which ops of an `ipvsadm -R` batch took, pure. ipvsadm's stderr does not name the failing
 * line (measured: `-R` prints just "No such destination", once per refused line, and exits with
 * the status of the last line), so the truth is the table read back afterwards: an op took if
 * its effect is there. Error lines are then tied, in order, to the ops that did not take and
 * whose kind can produce that message.
 */
import { KERNEL_MESSAGES } from './apply.js';
import type { OpOutcome } from './driver.js';
import { opServiceId, opTarget, type Op, type OpKind } from './op.js';
import {
  destinationEquals,
  destinationKey,
  serviceEquals,
  serviceKey,
  type Table,
} from './table.js';

const M = KERNEL_MESSAGES;
const MESSAGES_BY_KIND: Readonly<Record<OpKind, readonly string[]>> = {
  'add-service': [M.serviceExists, M.noScheduler],
  'edit-service': [M.noSuchService, M.noScheduler],
  'delete-service': [M.noSuchService],
  'add-destination': [M.serviceNotDefined, M.destinationExists, M.thresholdRange],
  'edit-destination': [M.serviceNotDefined, M.noSuchDestination, M.thresholdRange],
  'delete-destination': [M.serviceNotDefined, M.noSuchDestination],
};
const KNOWN = new Set<string>(Object.values(M));

function compatible(op: Op, message: string): boolean {
  return !KNOWN.has(message) || MESSAGES_BY_KIND[op.kind].includes(message);
}

/** Whether the table shows the effect of `op`. */
export function opTookEffect(op: Op, after: Table): boolean {
  const entry = after.services.get(serviceKey(opServiceId(op)));
  switch (op.kind) {
    case 'add-service':
    case 'edit-service':
      return entry !== undefined && serviceEquals(entry.service, op.service);
    case 'delete-service':
      return entry === undefined;
    case 'add-destination':
    case 'edit-destination': {
      const d = entry?.destinations.get(destinationKey(op.destination));
      return d !== undefined && destinationEquals(d, op.destination);
    }
    case 'delete-destination':
      return entry !== undefined && !entry.destinations.has(destinationKey(op.destination));
  }
}

/**
 * An op whose entity a later op of the same batch touches again (or whose service a later op
 * adds or deletes) cannot be judged from the final table; it counts as taken unless an error
 * line is tied to it. diff() never produces such batches.
 */
function supersededFlags(ops: readonly Op[]): boolean[] {
  // One pass from the end (linear: batches hold thousands of ops).
  const touchedLater = new Set<string>();
  const serviceReplacedLater = new Set<string>();
  const flags: boolean[] = ops.map(() => false);
  for (let i = ops.length - 1; i >= 0; i -= 1) {
    const op = ops[i];
    if (op === undefined) continue;
    const target = opTarget(op);
    const svc = serviceKey(opServiceId(op));
    flags[i] = touchedLater.has(target) || ('destination' in op && serviceReplacedLater.has(svc));
    touchedLater.add(target);
    if (op.kind === 'delete-service' || op.kind === 'add-service') serviceReplacedLater.add(svc);
  }
  return flags;
}

export function attributeOutcomes(
  sent: readonly Op[],
  after: Table,
  errorLines: readonly string[],
): { outcomes: OpOutcome[]; unattributed: string[] } {
  const superseded = supersededFlags(sent);
  const took = sent.map((op, i) => superseded[i] === true || opTookEffect(op, after));
  const assigned: (string | undefined)[] = sent.map(() => undefined);
  const unattributed: string[] = [];
  let cursor = 0;
  for (const message of errorLines) {
    const pick = (wantTook: boolean): number => {
      for (let i = cursor; i < sent.length; i += 1) {
        const op = sent[i];
        if (op === undefined || assigned[i] !== undefined || took[i] !== wantTook) continue;
        if (compatible(op, message) && (!wantTook || KNOWN.has(message))) return i;
      }
      return -1;
    };
    let index = pick(false);
    // A refusal whose op nonetheless shows (e.g. adding a real server that already exists
    // with the same settings): the table is right, the message is kept on the op.
    if (index < 0) index = pick(true);
    if (index < 0) {
      unattributed.push(message);
      continue;
    }
    assigned[index] = message;
    cursor = index + 1;
  }
  const outcomes = sent.map((op, i): OpOutcome => {
    const error =
      assigned[i] ?? (took[i] === true ? undefined : 'not in the table read back after the batch');
    return { op, ok: took[i] === true, sent: true, ...(error === undefined ? {} : { error }) };
  });
  return { outcomes, unattributed };
}
