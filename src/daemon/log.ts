/**
 * Logs are the event stream's first consumer: one pino JSON line per event, with a message an
 * operator can read at a glance (`real server 198.18.1.11:80 DOWN: status 503 (3/3 failures)`)
 * and the event's fields under `event`, never spread into pino's own keys.
 */
import pino, { type Logger } from 'pino';
import type { AnyEvent } from '../lib/events.js';

export function createLogger(
  options: { level?: string; destination?: pino.DestinationStream } = {},
): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Secrets never reach a log line, whoever forgets to leave them out.
      redact: {
        paths: ['*.auth_pass', '*.pass', '*.key', '*.secret', '*.password', 'event.data.pass'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

export function eventMessage(e: AnyEvent): string {
  switch (e.name) {
    case 'rs.up': {
      const d = e.data;
      return `real server ${d.rs} of ${d.vs} UP (weight ${d.weight}): ${d.reason}`;
    }
    case 'rs.down': {
      const d = e.data;
      return `real server ${d.rs} of ${d.vs} DOWN: ${d.reason}${d.removed ? ' (removed from the table)' : ' (weight 0)'}`;
    }
    case 'rs.weight': {
      const d = e.data;
      return `real server ${d.rs} of ${d.vs} weight ${d.previous} -> ${d.weight}: ${d.reason}`;
    }
    case 'rs.checker': {
      const d = e.data;
      return `checker ${d.checker} ${d.health}: ${d.reason}`;
    }
    case 'vs.quorum_up': {
      const d = e.data;
      return `virtual server ${d.vs} quorum gained (live weight ${d.liveWeight} >= ${d.quorum})`;
    }
    case 'vs.quorum_down': {
      const d = e.data;
      return `virtual server ${d.vs} quorum lost (live weight ${d.liveWeight} < ${d.quorum})${d.sorryServer ? `: serving sorry server ${d.sorryServer}` : ''}`;
    }
    case 'ipvs.adopted': {
      const d = e.data;
      return `IPVS table already as configured (${d.services} services, ${d.destinations} real servers): adopted with no change`;
    }
    case 'ipvs.applied': {
      const d = e.data;
      return `IPVS: applied ${d.ops} operation${d.ops === 1 ? '' : 's'} in ${d.durationMs} ms`;
    }
    case 'ipvs.failed': {
      const d = e.data;
      return `IPVS: ${d.failed.length} of ${d.ops} operations failed: ${d.failed.map((f) => `${f.line}: ${f.error}`).join('; ')}`;
    }
    case 'ipvs.drift': {
      const d = e.data;
      return `IPVS table changed outside lvsd; repairing with ${d.ops} operation${d.ops === 1 ? '' : 's'}`;
    }
    case 'ipvs.guarded': {
      const d = e.data;
      return `IPVS: ${d.ops} operations held back by the blast-radius guard: ${d.violations.join('; ')}`;
    }
    case 'ipvs.error': {
      const d = e.data;
      return `IPVS: ${d.message}${d.hint ? ` (${d.hint})` : ''}`;
    }
    case 'config.loaded': {
      const d = e.data;
      return `configuration ${d.file}: ${d.virtualServers} virtual servers, ${d.realServers} real servers`;
    }
    case 'config.reloaded': {
      const d = e.data;
      return `configuration reloaded: ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed`;
    }
    case 'config.rejected': {
      const d = e.data;
      return `configuration reload rejected; still running the previous one: ${d.problems.slice(0, 3).join('; ')}`;
    }
    case 'vrrp.transition': {
      const d = e.data;
      return `VRRP ${d.instance}: ${d.from.toUpperCase()} -> ${d.to.toUpperCase()} (${d.cause}${d.peer ? ` from ${d.peer}` : ''}, priority ${d.priority})`;
    }
    case 'vrrp.priority': {
      const d = e.data;
      return `VRRP ${d.instance}: effective priority ${d.from} -> ${d.to} (${d.reason})`;
    }
    case 'vrrp.address': {
      const d = e.data;
      return `VRRP ${d.instance}: ${d.action} ${d.address} on ${d.dev}`;
    }
    case 'vrrp.dropped': {
      const d = e.data;
      return `VRRP${d.instance ? ` ${d.instance}` : ''}: dropped ${d.count} packet${d.count === 1 ? '' : 's'} from ${d.from}: ${d.reason}`;
    }
    case 'vrrp.warning': {
      const d = e.data;
      return `VRRP ${d.instance}: ${d.message}`;
    }
    case 'admin.replication': {
      const d = e.data;
      const what = d.direction === 'sent' ? `to ${d.peer}` : `from ${d.peer}`;
      return `admin state ${d.direction} ${what}${d.ok ? (d.changed ? ' (merged changes)' : '') : ` failed: ${d.detail}`}`;
    }
    case 'vrrp.tracked': {
      const d = e.data;
      return `VRRP tracked ${d.kind} ${d.name}: ${d.ok ? 'OK' : 'FAILED'} (${d.detail})`;
    }
    case 'vrrp.sync_daemon': {
      const d = e.data;
      return `VRRP ${d.instance}: IPVS sync daemon ${d.role === 'none' ? 'stopped' : `as ${d.role}`}${d.ok ? '' : ` failed: ${d.detail}`}`;
    }
    case 'admin.drained': {
      const d = e.data;
      return `real server ${d.rs} of ${d.vs} DRAINED by ${d.by} (${d.via})${d.reason ? `: ${d.reason}` : ''}`;
    }
    case 'admin.undrained': {
      const d = e.data;
      return `real server ${d.rs} of ${d.vs} undrained by ${d.by} (${d.via})`;
    }
    case 'admin.expired': {
      const d = e.data;
      return `drain of ${d.rs} of ${d.vs} expired`;
    }
    case 'admin.state_corrupt': {
      const d = e.data;
      return `admin state file ${d.file} is damaged (${d.reason}); kept as ${d.keptAs}; starting with NO drains — check it`;
    }
    case 'admin.error': {
      const d = e.data;
      return `admin state: ${d.what}: ${d.message}`;
    }
    case 'vrrp.sync_group': {
      const d = e.data;
      return `VRRP sync group ${d.group}: ${(d.from ?? 'none').toUpperCase()} -> ${d.to.toUpperCase()} (${d.instance}: ${d.cause})`;
    }
    case 'hook.failed': {
      const d = e.data;
      return `${d.hook} ${d.argv0} for ${d.subject} failed (${d.code}): ${d.reason}`;
    }
    case 'webhook.failed': {
      const d = e.data;
      return `webhook ${d.endpoint}: alert ${d.delivery} abandoned after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}: ${d.reason}`;
    }
    case 'webhook.dropped': {
      const d = e.data;
      return `webhook ${d.endpoint}: queue full, ${d.count} alert${d.count === 1 ? '' : 's'} dropped (${d.total} in all)`;
    }
    case 'daemon.started': {
      const d = e.data;
      return `lvsd ${d.version} started (pid ${d.pid}, IPVS driver ${d.driver})`;
    }
    case 'daemon.stopping': {
      const d = e.data;
      return `lvsd stopping (${d.signal}); the IPVS table is left in place`;
    }
    case 'daemon.spawner': {
      const d = e.data;
      return d.state === 'up'
        ? `script spawner running again (pid ${d.pid ?? '?'})`
        : `script spawner unavailable: ${d.reason}; scripts and tools start from the daemon itself meanwhile`;
    }
  }
}

const WARN: ReadonlySet<string> = new Set([
  'rs.down',
  'vs.quorum_down',
  'ipvs.failed',
  'ipvs.drift',
  'ipvs.guarded',
  'ipvs.error',
  'config.rejected',
]);

/**
 * The script runner and the webhook sender already wrote a warn/error line for these, with
 * the script's output or the attempt's detail: the event's own line would only repeat it.
 */
const DEBUG: ReadonlySet<string> = new Set([
  'rs.checker',
  'hook.failed',
  'webhook.failed',
  'webhook.dropped',
]);

export function logEvents(logger: Logger): (e: AnyEvent) => void {
  return (e) => {
    const fields = {
      event: {
        name: e.name,
        seq: e.seq,
        mono: e.mono,
        subject: e.subject,
        cause: e.cause,
        data: e.data,
      },
    };
    logger[levelOf(e)](fields, eventMessage(e));
  };
}

/** An event's log level: by name, except where the payload decides (a spawner going down). */
function levelOf(e: AnyEvent): 'debug' | 'info' | 'warn' {
  if (DEBUG.has(e.name)) return 'debug';
  if (WARN.has(e.name)) return 'warn';
  if (e.name === 'daemon.spawner') return e.data.state === 'down' ? 'warn' : 'info';
  return 'info';
}
