/**
 * The status page served beside /metrics: one self-contained document (inline CSS and
 * script, no outside asset, works with no internet) that shows the fragment of
 * status-view.ts and replaces it every 2 s with a fresh one from /status/fragment (without
 * JavaScript, a meta refresh every 5 s). Read-only: it has no forms, links to actions or
 * non-GET requests.
 *
 * The Content-Security-Policy allows exactly this page's own style and script (by hash) and
 * requests to its own origin: even a value that escaped escaping could not run a script or
 * load anything.
 */
import { createHash } from 'node:crypto';
import type { ObserverSnapshot } from './snapshot.js';
import {
  escapeHtml,
  PAGE_EVENTS,
  renderStatusFragment,
  type StatusPageData,
} from './status-view.js';

export const REFRESH_MS = 2000;

const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#6a737d;--line:#d0d7de;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--head:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8b949e;--line:#30363d;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--head:#161b22}}
body{margin:0;padding:0 1.2rem 2rem;font:14px/1.4 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;gap:1rem;align-items:baseline;border-bottom:1px solid var(--line);padding:.6rem 0}
header h1{font-size:1.2rem;margin:0}
#stamp{color:var(--muted)}#stamp.stale{color:var(--bad);font-weight:600}
h2{font-size:1.1rem;margin:.8rem 0 .2rem}h3{font-size:1rem;margin:1.2rem 0 .3rem}
small,.muted{color:var(--muted)}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:var(--head);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-size:.8rem;font-weight:700;border:1px solid currentColor}
.badge.up,.badge.master{color:var(--ok)}.badge.down,.badge.fault{color:var(--bad)}.badge.drain,.badge.backup{color:var(--warn)}
tr.rs-down{background:color-mix(in srgb,var(--bad) 12%,transparent)}
tr.rs-drain{background:color-mix(in srgb,var(--warn) 12%,transparent)}
.ok{color:var(--ok)}.bad{color:var(--bad)}.problem{color:var(--bad);font-weight:600}
q{font-style:italic}
time{white-space:nowrap}
`;

/** Replaces the fragment every REFRESH_MS; says so, in red, when it could not. */
const SCRIPT = `
(function () {
  var main = document.getElementById('status');
  var stamp = document.getElementById('stamp');
  function tick() {
    fetch('/status/fragment', { cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.text();
      })
      .then(function (html) {
        main.innerHTML = html;
        stamp.textContent = 'updated ' + new Date().toLocaleTimeString();
        stamp.className = '';
      })
      .catch(function (err) {
        stamp.textContent = 'NOT UPDATED since ' + stamp.dataset.last + ': ' + err.message + ' (retrying)';
        stamp.className = 'stale';
      })
      .then(function () {
        if (stamp.className === '') stamp.dataset.last = new Date().toLocaleTimeString();
        setTimeout(tick, ${REFRESH_MS});
      });
  }
  stamp.dataset.last = new Date().toLocaleTimeString();
  setTimeout(tick, ${REFRESH_MS});
})();
`;

const hash = (text: string): string =>
  `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src ${hash(STYLE)}`,
  `script-src ${hash(SCRIPT)}`,
  "connect-src 'self'",
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function statusDocument(d: StatusPageData): string {
  const title = d.status ? `lvsd on ${d.status.director.id}` : 'lvsd';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="5"></noscript>
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(title)}</h1><span id="stamp">live: refreshes every ${REFRESH_MS / 1000} s</span></header>
<main id="status">${renderStatusFragment(d)}</main>
<script>${SCRIPT}</script></body></html>
`;
}

/** Reads what the page shows through the snapshot port; never throws. */
export async function statusPageData(snapshot: ObserverSnapshot): Promise<StatusPageData> {
  const events = snapshot.recentEvents?.(PAGE_EVENTS) ?? [];
  if (!snapshot.status) return { status: undefined, events };
  try {
    return { status: await snapshot.status(), events };
  } catch (err) {
    return { status: undefined, events, error: err instanceof Error ? err.message : String(err) };
  }
}
