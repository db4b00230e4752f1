/** `lvsd status`: why every server is in its state, read from the running daemon. */
import type { AdminView, RealServerStatus, StatusSnapshot } from '../../control/types.js';
import {
  clientFor,
  exitStatusHelp,
  failure,
  formatDuration,
  noPositionals,
  parseDuration,
  socketFlag,
  table,
} from '../../control/cli-support.js';
import { flagHelp, helpFlag, jsonFlag, parseArgs, UsageError, type FlagSpec } from '../args.js';
import { exitCodes } from '../exit-codes.js';
import type { Command } from '../io.js';
import { stringFlag } from '../common.js';

const flags: FlagSpec[] = [
  socketFlag,
  jsonFlag,
  { name: 'watch', short: 'w', takesValue: false, help: 'refresh until interrupted' },
  {
    name: 'interval',
    takesValue: true,
    valueName: 'D',
    help: 'with --watch: time between refreshes (default 2s)',
  },
  {
    name: 'count',
    takesValue: true,
    valueName: 'N',
    help: 'with --watch: stop after N refreshes',
  },
  helpFlag,
];

const help = `Usage: lvsd status [--watch [--interval D] [--count N]] [--json] [--socket PATH]

Shows every virtual server and real server of the running lvsd: configured and current
weight, health (with the last check's result, reason and latency, and since when), admin
state (who drained it, when and why), and IPVS ActiveConn/InActConn; then every VRRP
instance: state, priority, master. Reads go through the read-only socket by default.

"who" is the user name the client declared: informational, not authenticated.

Options:
${flagHelp(flags)}

${exitStatusHelp}
`;

export const statusCommand: Command = {
  name: 'status',
  summary: 'show servers, health, admin state and connections',
  help,
  async run(argv, io) {
    const args = parseArgs(argv, flags);
    if (args.flags.has('help')) {
      io.out(help);
      return exitCodes.ok;
    }
    noPositionals(args, 0, 'lvsd status takes no arguments');
    const json = args.flags.has('json');
    const watch = args.flags.has('watch');
    const intervalText = stringFlag(args, 'interval');
    const interval = intervalText ? parseDuration(intervalText, 'interval') : 2000;
    const countText = stringFlag(args, 'count');
    const count = countText === undefined ? Infinity : Number(countText);
    if (!(count >= 1)) throw new UsageError('--count needs a number ≥ 1');
    const client = clientFor(args, io, 'ro');
    try {
      for (let i = 0; ; i++) {
        const snap = await client.status();
        if (json) io.out(`${JSON.stringify(snap, null, watch ? 0 : 2)}\n`);
        else {
          if (watch && io.tty) io.out('\u001b[H\u001b[2J');
          io.out(renderStatus(snap));
        }
        if (!watch || i + 1 >= count) return exitCodes.ok;
        await new Promise((r) => setTimeout(r, interval));
      }
    } catch (err) {
      return failure(err, io, 'status', json);
    } finally {
      await client.close();
    }
  },
};

export function renderStatus(s: StatusSnapshot): string {
  const out: string[] = [];
  const since = (ms: number) => formatDuration(Math.max(0, s.at - ms));
  out.push(
    `lvsd ${s.director.version} on ${s.director.id} (pid ${s.director.pid}, ${s.director.driver}), up ${since(s.director.startedAt)}; ${s.director.configFile}`,
  );
  // Status does not wait long for ipvsadm (STATUS_KERNEL_WAIT_MS): say when the weights are old.
  if (s.ipvsReadAt !== undefined && s.at - s.ipvsReadAt > 2000)
    out.push(
      `IPVS table as read ${since(s.ipvsReadAt)} ago: the kernel read since has not finished (ipvsadm slow or stuck)`,
    );
  for (const vs of s.virtualServers) {
    out.push('');
    out.push(`${vs.name}  ${vs.scheduler} ${vs.forwarding}  quorum ${vs.quorumUp ? 'up' : 'DOWN'}`);
    const rows = [['REAL SERVER', 'WEIGHT', 'HEALTH', 'ADMIN', 'ACTIVE', 'INACT']];
    for (const rs of vs.realServers) rows.push(rsRow(rs, s.at));
    out.push(table(rows, '  '));
  }
  if (s.virtualServers.length === 0) out.push('', 'no virtual servers');
  out.push('');
  if (s.vrrp.length === 0) out.push('VRRP: no instances');
  else {
    const rows = [['VRRP INSTANCE', 'STATE', 'PRIORITY', 'MASTER', 'SINCE', 'DROPPED']];
    for (const v of s.vrrp) {
      const dropped = Object.entries(v.dropped ?? {});
      rows.push([
        v.name,
        v.state ?? 'n/a',
        v.priority === null
          ? 'n/a'
          : v.configuredPriority !== undefined && v.configuredPriority !== v.priority
            ? `${v.priority} (configured ${v.configuredPriority})`
            : String(v.priority),
        v.master ?? 'n/a',
        v.since === undefined ? '-' : formatDuration(Math.max(0, s.at - v.since)),
        dropped.length === 0 ? '0' : dropped.map(([r, n]) => `${r} ${n}`).join(', '),
      ]);
    }
    out.push(table(rows));
  }
  const sp = s.spawner;
  if (sp !== undefined) {
    const counts = `${sp.scriptRuns} scripts, ${sp.toolRuns} tool runs`;
    const direct = sp.directScriptRuns + sp.directToolRuns;
    const extra = [
      direct > 0 ? `${direct} started by the daemon itself` : '',
      sp.lost > 0 ? `${sp.lost} lost when it died` : '',
      sp.starts > 1 ? `started ${sp.starts} times` : '',
    ].filter((x) => x !== '');
    out.push(
      sp.up
        ? `script spawner: pid ${sp.pid ?? '?'}, ${counts}${extra.length > 0 ? `; ${extra.join(', ')}` : ''}`
        : `script spawner: DOWN — scripts and tools start from the daemon itself (${extra.join(', ') || 'none yet'})`,
    );
  }
  const unrouted = Object.entries(s.vrrpUnrouted ?? {});
  if (unrouted.length > 0)
    out.push(
      `advert datagrams no instance took: ${unrouted.map(([r, n]) => `${r} ${n}`).join(', ')}`,
    );
  return `${out.join('\n')}\n`;
}

function rsRow(rs: RealServerStatus, now: number): string[] {
  const weight = `${rs.currentWeight === null ? '-' : rs.currentWeight}/${rs.configuredWeight}`;
  const last = rs.health.last;
  const detail = last ? ` (${last.reason}, ${Math.round(last.latencyMs)} ms)` : '';
  const health = `${rs.health.state} ${formatDuration(Math.max(0, now - rs.health.since))}${detail}`;
  return [
    rs.name,
    weight,
    health,
    adminText(rs.admin, now),
    rs.connections ? String(rs.connections.active) : 'n/a',
    rs.connections ? String(rs.connections.inactive) : 'n/a',
  ];
}

/** `drain by alice 5m ago "kernel upgrade"`, `drain by ops via schedule 2m ago, ends in 58m`. */
export function adminText(a: AdminView, now: number): string {
  if (a.state === 'active') return 'active';
  const why = a.reason ? ` "${a.reason}"` : '';
  const via = a.via === 'admin-socket' ? '' : ` via ${a.via}`;
  const ends =
    a.until === undefined ? '' : `, ends in ${formatDuration(Math.max(0, a.until - now))}`;
  return `drain by ${a.by}${via} ${formatDuration(Math.max(0, now - a.at))} ago${ends}${why}`;
}
