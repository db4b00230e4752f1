/**
 * Maintenance windows declared in the lvsd block: checked here (names, cron, zone) so that
 * check-config reports them with file:line, and given ids that depend only on their content,
 * so both directors of a pair declare the same window under the same id and replication merges
 * them instead of doubling them.
 */
import { createHash } from 'node:crypto';
import { windowProblem } from '../admin/schedule.js';
import type { DiagnosticSink, LvsdBlock } from '../keepalived-config/index.js';
import type { DaemonSettings, VirtualServerConfig } from './types.js';

export type ConfigWindow = DaemonSettings['maintenance'][number];

export function configWindowId(w: Omit<ConfigWindow, 'id'>): string {
  const h = createHash('sha256')
    .update(JSON.stringify([w.vs, w.rs, w.cron, w.durationMs, w.timezone, w.reason]))
    .digest('hex');
  return `cfg-${h.slice(0, 12)}`;
}

export function buildMaintenance(
  l: LvsdBlock | undefined,
  virtualServers: readonly VirtualServerConfig[],
  sink: DiagnosticSink,
): ConfigWindow[] {
  const out: ConfigWindow[] = [];
  for (const m of l?.maintenance ?? []) {
    if (m.cron === undefined || m.durationMs === undefined) continue;
    const vs = virtualServers.find((v) => v.name === m.virtualServer);
    if (!vs || !vs.realServers.some((r) => r.name === m.realServer)) {
      sink.warning(
        'unknown-reference',
        vs
          ? `maintenance: ${m.virtualServer} has no real server ${m.realServer}`
          : `maintenance: no virtual server named ${m.virtualServer}`,
        m.at,
        vs
          ? `its real servers are ${vs.realServers.map((r) => r.name).join(', ')}`
          : `names look like ${virtualServers[0]?.name ?? 'tcp:198.18.0.10:80'} (as lvsd status shows them)`,
      );
      continue;
    }
    const timezone = m.timezone ?? 'UTC';
    const problem = windowProblem(m.cron, timezone);
    if (problem) {
      sink.warning(
        'lvsd-block',
        `maintenance ${m.virtualServer} ${m.realServer}: ${problem}`,
        m.at,
      );
      continue;
    }
    const w = {
      vs: vs.name,
      rs: m.realServer,
      cron: m.cron,
      durationMs: m.durationMs,
      timezone,
      reason: m.reason ?? 'maintenance window (configuration)',
    };
    out.push({ ...w, id: configWindowId(w) });
  }
  return out;
}
