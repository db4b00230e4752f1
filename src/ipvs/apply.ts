/**
 * Applying ops to a table the way the kernel does, pure. Used by the memory driver (so it refuses
 * what the kernel refuses, with the kernel's messages as ipvsadm prints them) and by the property
 * test (apply(A, diff(A, B)) = B). Like `ipvsadm -R`, a refused op does not stop the ops after it.
 */
import { LvsdError } from '../lib/errors.js';
import { describeOp, type Op } from './op.js';
import {
  SCHEDULERS,
  destinationKey,
  serviceKey,
  withEntry,
  type Destination,
  type DestinationKey,
  type Scheduler,
  type Table,
} from './table.js';

/** Kernel refusals, exactly as ipvsadm prints them (README "Errors"), all exit 255. */
export const KERNEL_MESSAGES = {
  serviceExists: 'Service already exists',
  noSuchService: 'No such service',
  serviceNotDefined: 'Service not defined',
  destinationExists: 'Destination already exists',
  noSuchDestination: 'No such destination',
  noScheduler: 'Scheduler or persistence engine not found',
  thresholdRange: 'Numerical result out of range',
} as const;

export interface KernelOptions {
  /** Schedulers the kernel has modules for (the 6.1 kernel lacks `twos`). Default: all. */
  readonly schedulers?: readonly Scheduler[];
  /** Persistence engines the kernel knows. Default: `sip`. */
  readonly persistenceEngines?: readonly string[];
}

export type StepResult =
  { readonly ok: true; readonly table: Table } | { readonly ok: false; readonly message: string };

function refuse(message: string): StepResult {
  return { ok: false, message };
}

/** One op against `table`: the new table, or the kernel's refusal. */
export function applyOp(table: Table, op: Op, options: KernelOptions = {}): StepResult {
  const schedulers = options.schedulers ?? SCHEDULERS;
  const engines = options.persistenceEngines ?? ['sip'];
  const id = 'service' in op ? op.service.id : op.serviceId;
  const key = serviceKey(id);
  const entry = table.services.get(key);
  switch (op.kind) {
    case 'add-service':
    case 'edit-service': {
      if (op.kind === 'add-service' && entry !== undefined)
        return refuse(KERNEL_MESSAGES.serviceExists);
      if (op.kind === 'edit-service' && entry === undefined)
        return refuse(KERNEL_MESSAGES.noSuchService);
      const { scheduler, persistenceEngine } = op.service;
      if (!schedulers.includes(scheduler)) return refuse(KERNEL_MESSAGES.noScheduler);
      if (persistenceEngine !== undefined && !engines.includes(persistenceEngine)) {
        return refuse(KERNEL_MESSAGES.noScheduler);
      }
      const destinations = entry?.destinations ?? new Map<DestinationKey, Destination>();
      return { ok: true, table: withEntry(table, key, { service: op.service, destinations }) };
    }
    case 'delete-service':
      // The kernel drops the service's real servers with it.
      if (entry === undefined) return refuse(KERNEL_MESSAGES.noSuchService);
      return { ok: true, table: withEntry(table, key, undefined) };
    case 'add-destination':
    case 'edit-destination':
    case 'delete-destination': {
      if (entry === undefined) return refuse(KERNEL_MESSAGES.serviceNotDefined);
      const dkey = destinationKey(op.destination);
      const exists = entry.destinations.has(dkey);
      if (op.kind === 'add-destination' && exists) return refuse(KERNEL_MESSAGES.destinationExists);
      if (op.kind !== 'add-destination' && !exists)
        return refuse(KERNEL_MESSAGES.noSuchDestination);
      const destinations = new Map(entry.destinations);
      if (op.kind === 'delete-destination') destinations.delete(dkey);
      else {
        if (op.destination.lowerThreshold > op.destination.upperThreshold) {
          return refuse(KERNEL_MESSAGES.thresholdRange);
        }
        destinations.set(dkey, op.destination);
      }
      return { ok: true, table: withEntry(table, key, { service: entry.service, destinations }) };
    }
  }
}

export interface ApplyStep {
  readonly op: Op;
  /** undefined when the op took effect. */
  readonly error?: string;
}

/** All ops in order; refused ones are skipped and reported, the rest still apply. */
export function applyOps(
  table: Table,
  ops: readonly Op[],
  options: KernelOptions = {},
): { table: Table; steps: ApplyStep[] } {
  let current = table;
  const steps: ApplyStep[] = [];
  for (const op of ops) {
    const result = applyOp(current, op, options);
    if (result.ok) {
      current = result.table;
      steps.push({ op });
    } else {
      steps.push({ op, error: result.message });
    }
  }
  return { table: current, steps };
}

/** Strict form: throws IPVS_APPLY_FAILED on the first refusal (a diff must never cause one). */
export function apply(table: Table, ops: readonly Op[], options: KernelOptions = {}): Table {
  let current = table;
  for (const op of ops) {
    const result = applyOp(current, op, options);
    if (!result.ok) {
      throw new LvsdError('IPVS_APPLY_FAILED', `${describeOp(op)}: ${result.message}`);
    }
    current = result.table;
  }
  return current;
}
