/** The demo's compact live view: one line per real server, the table, and the latest events. */
import type { HealthBook } from '../daemon/health-book.js';
import { eventMessage } from '../daemon/log.js';
import type { ObservedTable } from '../ipvs/driver.js';
import type { AnyEvent } from '../lib/events.js';

export function renderView(
  book: HealthBook,
  observed: ObservedTable | undefined,
  events: readonly AnyEvent[],
  color: boolean,
): string {
  const c = (code: string, s: string): string => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const lines: string[] = [];
  lines.push(c('1', 'lvsd demo') + '  (in-memory IPVS table; Ctrl-C to stop)');
  lines.push('');
  lines.push(
    `${'virtual server'.padEnd(20)} ${'real server'.padEnd(17)} ${'health'.padEnd(7)} ${'weight'.padStart(6)}  last check`,
  );
  for (const rec of book.records()) {
    const dest = observed?.table.services
      .get(rec.vs.name.replace(/^tcp:/, 'tcp:'))
      ?.destinations.get(rec.rs.name);
    const weight = dest ? `${dest.weight}/${rec.rs.weight}` : '-';
    const health = rec.state.up ? c('32', 'UP'.padEnd(7)) : c('31', 'DOWN'.padEnd(7));
    const last = rec.last
      ? `${rec.last.reason} (${Math.round(rec.last.latencyMs)} ms)`
      : 'not checked yet';
    lines.push(
      `${rec.vs.name.padEnd(20)} ${rec.rs.name.padEnd(17)} ${health} ${weight.padStart(6)}  ${last}`,
    );
  }
  lines.push('');
  lines.push(c('1', 'recent events'));
  for (const e of events.filter((x) => x.name !== 'rs.checker').slice(-8))
    lines.push(`  ${e.time.slice(11, 23)} ${eventMessage(e)}`);
  return lines.join('\n');
}
