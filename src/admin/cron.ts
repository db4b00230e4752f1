/**
 * node-cron, loaded when first needed. Loading it costs `lvsd check-config` about 5 ms of every
 * run (its module body, and what it imports), yet only a file that declares maintenance windows
 * has a cron expression to check. So the configuration code never imports it: check-config
 * loads it (`loadCron`) only after the parse found a window, and the daemon, which schedules
 * windows and so imports node-cron with the scheduler, hands the same copy over
 * (`provideCron`, from schedule.ts) before it reads any configuration.
 */
import type * as NodeCron from 'node-cron';
import { timezoneProblem } from './zone.js';

/** What validation needs of node-cron. */
export type CronValidator = Pick<typeof NodeCron, 'validateDetailed'>;

let cron: CronValidator | undefined;

/** Makes an already loaded node-cron the validator (the scheduler's static copy). */
export function provideCron(lib: CronValidator): void {
  cron ??= lib;
}

/** Loads node-cron once (dynamic import: its own chunk, or a lazy part of a one-file bundle). */
export async function loadCron(): Promise<CronValidator> {
  cron ??= await import('node-cron');
  return cron;
}

/** The validator if node-cron is loaded, else undefined. */
export function loadedCron(): CronValidator | undefined {
  return cron;
}

/**
 * Why a window's cron expression or zone cannot be used; undefined when they can. The zone is
 * checked first, without node-cron; the expression needs it loaded (loadCron or provideCron).
 */
export function windowProblem(
  expression: string,
  timezone: string,
  lib: CronValidator | undefined = cron,
): string | undefined {
  const zone = timezoneProblem(timezone);
  if (zone) return zone;
  if (!lib)
    throw new Error('node-cron is not loaded: await loadCron() before checking a cron expression');
  const detail = lib.validateDetailed(expression);
  if (!detail.valid) {
    const first = detail.errors[0];
    return `invalid cron expression '${expression}'${first ? `: ${first.field}: ${first.message}` : ''}`;
  }
  return undefined;
}
