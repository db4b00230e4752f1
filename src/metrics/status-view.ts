/**
 * The status page's content: the status snapshot and the last events as one HTML fragment.
 * Pure: data in, string out. Every value shown goes through `escapeHtml` (server names,
 * reasons and operators' drain reasons come from config and people), and the markup has no
 * inline styles or handlers, so the page's CSP can forbid them.
 */
import { formatDuration } from '../control/cli-support.js';
import type {
  AdminView,
  RealServerStatus,
  StatusSnapshot,
  VirtualServerStatus,
  VrrpStatus,
} from '../control/types.js';
import { eventMessage } from '../daemon/log.js';
import type { AnyEvent } from '../lib/events.js';

export interface StatusPageData {
  /** undefined: the daemon gave the metrics server no status (shown as "not available"). */
  readonly status: StatusSnapshot | undefined;
  /** Newest last. */
  readonly events: readonly AnyEvent[];
  /** Why the status could not be read, if it could not. */
  readonly error?: string;
}

/** How many events the page shows (newest first). */
export const PAGE_EVENTS = 50;

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text → HTML text or attribute value (quoted with "). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

const e = escapeHtml;

export function renderStatusFragment(d: StatusPageData): string {
  const out: string[] = [];
  const s = d.status;
  if (!s) {
    out.push(`<p class="problem">status not available${d.error ? `: ${e(d.error)}` : ''}</p>`);
  } else {
    out.push(director(s));
    for (const vs of s.virtualServers) out.push(virtualServer(vs, s.at));
    if (s.virtualServers.length === 0) out.push('<p class="muted">no virtual servers</p>');
    out.push(vrrp(s.vrrp, s.at));
  }
  out.push(events(d.events));
  return out.join('\n');
}

function director(s: StatusSnapshot): string {
  const d = s.director;
  return `<section id="director"><h2>${e(d.id)}</h2><p>lvsd ${e(d.version)}, pid ${d.pid}, IPVS driver ${e(d.driver)}, up ${e(formatDuration(Math.max(0, s.at - d.startedAt)))}; ${e(d.configFile)}; snapshot <time datetime="${e(new Date(s.at).toISOString())}">${e(new Date(s.at).toISOString())}</time></p></section>`;
}

function virtualServer(vs: VirtualServerStatus, now: number): string {
  const rows = vs.realServers.map((rs) => realServer(rs, now)).join('');
  const quorum = vs.quorumUp
    ? '<span class="ok">quorum up</span>'
    : '<span class="bad">quorum DOWN</span>';
  return `<section class="vs" data-vs="${e(vs.name)}"><h3>${e(vs.name)} <small>${e(vs.scheduler)} ${e(vs.forwarding)}</small> ${quorum}</h3>
<table><thead><tr><th>real server</th><th>health</th><th>last check</th><th>weight<br><small>current / configured</small></th><th>admin</th><th>active</th><th>inactive</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

/** The row's state, most severe first: a drained server that is also down shows as down. */
function rowState(rs: RealServerStatus): 'down' | 'drain' | 'up' {
  if (rs.health.state === 'down') return 'down';
  return rs.admin.state === 'drain' ? 'drain' : 'up';
}

function realServer(rs: RealServerStatus, now: number): string {
  const state = rowState(rs);
  const since = formatDuration(Math.max(0, now - rs.health.since));
  const last = rs.health.last;
  const check = last
    ? `<span class="${last.ok ? 'ok' : 'bad'}">${e(checkerName(last.checker))} ${e(last.code)}</span> ${e(last.reason)} <small>${e(latency(last.latencyMs))}, ${e(formatDuration(Math.max(0, now - last.at)))} ago</small>`
    : '<span class="muted">no check yet</span>';
  const current = rs.currentWeight === null ? '–' : String(rs.currentWeight);
  const conns = rs.connections;
  return `<tr class="rs rs-${state}" data-rs="${e(rs.name)}" data-health="${rs.health.state}" data-admin="${e(rs.admin.state)}"><td>${e(rs.name)}</td><td class="health"><span class="badge ${rs.health.state}">${rs.health.state.toUpperCase()}</span> <small>${e(since)}</small></td><td>${check}</td><td class="num">${e(current)} / ${rs.configuredWeight}</td><td class="admin">${admin(rs.admin, now)}</td><td class="num">${conns ? conns.active : 'n/a'}</td><td class="num">${conns ? conns.inactive : 'n/a'}</td></tr>`;
}

function admin(a: AdminView, now: number): string {
  if (a.state === 'active') return 'active';
  const parts = [
    `<span class="badge drain">DRAINED</span> by ${e(a.by)}`,
    a.via === 'admin-socket' ? '' : ` via ${e(a.via)}`,
    ` <small>${e(formatDuration(Math.max(0, now - a.at)))} ago</small>`,
    a.until === undefined
      ? ''
      : ` <small>ends in ${e(formatDuration(Math.max(0, a.until - now)))}</small>`,
    a.reason ? `<br><q>${e(a.reason)}</q>` : '',
  ];
  return parts.join('');
}

/** `tcp:198.18.0.10:80/198.18.1.11:80/HTTP_GET` → `HTTP_GET`: the row already names the server. */
function checkerName(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1) || id;
}

function latency(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

function vrrp(list: readonly VrrpStatus[], now: number): string {
  if (list.length === 0)
    return '<section id="vrrp"><h3>VRRP</h3><p class="muted">no instances</p></section>';
  const rows = list
    .map((v) => {
      const state = v.state ?? 'n/a';
      const prio =
        v.priority === null
          ? 'n/a'
          : v.configuredPriority !== undefined && v.configuredPriority !== v.priority
            ? `${v.priority} (configured ${v.configuredPriority})`
            : String(v.priority);
      const since = v.since === undefined ? '–' : formatDuration(Math.max(0, now - v.since));
      return `<tr class="vrrp vrrp-${e(state.toLowerCase())}" data-instance="${e(v.name)}"><td>${e(v.name)}</td><td><span class="badge ${e(state.toLowerCase())}">${e(state)}</span></td><td class="num">${e(prio)}</td><td>${e(v.master ?? 'n/a')}</td><td>${e(since)}</td></tr>`;
    })
    .join('');
  return `<section id="vrrp"><h3>VRRP</h3><table><thead><tr><th>instance</th><th>state</th><th>priority</th><th>master</th><th>since</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function events(list: readonly AnyEvent[]): string {
  const shown = list.slice(-PAGE_EVENTS).reverse();
  if (shown.length === 0)
    return '<section id="events"><h3>Last events</h3><p class="muted">none held</p></section>';
  const rows = shown
    .map(
      (ev) =>
        `<tr data-seq="${ev.seq}"><td class="num">${ev.seq}</td><td><time>${e(ev.time)}</time></td><td>${e(ev.name)}</td><td>${e(ev.subject)}</td><td>${e(eventMessage(ev))}</td></tr>`,
    )
    .join('');
  return `<section id="events"><h3>Last events <small>newest first, at most ${PAGE_EVENTS}</small></h3><table><thead><tr><th>seq</th><th>time (UTC)</th><th>event</th><th>subject</th><th>message</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}
