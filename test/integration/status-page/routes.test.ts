/**
 * The status page beside /metrics, without a browser: the routes, their headers (a CSP that
 * allows only the page's own style and script), that hostile names and reasons arrive
 * escaped, and that a missing or failing status says "not available".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLog } from '../../../src/hooks/log-port.js';
import { EventBus } from '../../../src/lib/events.js';
import { systemClock } from '../../../src/lib/clock.js';
import { escapeHtml, renderStatusFragment } from '../../../src/metrics/status-view.js';
import {
  startObservers,
  type Observers,
  type ObserverSnapshot,
} from '../../../src/observe/index.js';
import { fixtureConfig } from '../../unit/admin/fixtures.js';
import { HOSTILE, pageEvents, pageSnapshot } from './fixture.js';

let obs: Observers | undefined;
afterEach(async () => {
  await obs?.stop();
  obs = undefined;
});

async function serve(snapshot: ObserverSnapshot): Promise<string> {
  const c = fixtureConfig();
  obs = await startObservers({
    bus: new EventBus(systemClock),
    config: { ...c, daemon: { ...c.daemon, metricsAddress: '127.0.0.1:0' } },
    log: silentLog,
    clock: systemClock,
    snapshot,
  });
  return `http://127.0.0.1:${String(obs.metricsAddress?.port)}`;
}

const full: ObserverSnapshot = {
  virtualServers: () => pageSnapshot().virtualServers,
  vrrpInstances: () => [],
  status: () => pageSnapshot(),
  recentEvents: () => pageEvents(),
};

describe('escapeHtml', () => {
  it('escapes the five characters that matter in text and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('no value in the fragment is left raw (the drain reason, the event detail)', () => {
    const html = renderStatusFragment({ status: pageSnapshot(), events: pageEvents() });
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('<img');
    expect(html).toContain(escapeHtml(HOSTILE));
  });
});

describe('/status', () => {
  it('serves the page, its fragment and JSON, read-only, with a strict CSP', async () => {
    const base = await serve(full);
    const page = await fetch(`${base}/status`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toMatch(/unsafe-inline|https?:/);
    const html = await page.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//); // no outside asset
    expect(html).not.toMatch(/<form|method=["']?post/i); // no actions
    expect(html).toContain('data-rs="198.18.1.12:80" data-health="down"');
    expect(html).toContain('data-admin="drain"');

    const frag = await fetch(`${base}/status/fragment`);
    expect(frag.headers.get('content-security-policy')).toBe(csp);
    expect(await frag.text()).toMatch(/^<section id="director">/);

    const json = (await (await fetch(`${base}/status.json`)).json()) as {
      status: { virtualServers: unknown[] };
      events: { name: string }[];
    };
    expect(json.status.virtualServers).toHaveLength(1);
    expect(json.events.map((e) => e.name)).toEqual(['rs.down', 'admin.drained']);

    const head = await fetch(`${base}/status`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const post = await fetch(`${base}/status`, { method: 'POST' });
    expect(post.status).toBe(405);
    const root = await fetch(`${base}/`);
    expect(root.status).toBe(404);
    expect(await root.text()).toMatch(/try \/metrics or \/status/);
  });

  it('says "not available" without a status, or with the reason when reading it fails', async () => {
    const base = await serve({ virtualServers: () => [], vrrpInstances: () => [] });
    expect(await (await fetch(`${base}/status`)).text()).toMatch(/status not available/);
    await obs?.stop();
    const failing = await serve({
      ...full,
      status: () => Promise.reject(new Error('IPVS <read> failed')),
    });
    const text = await (await fetch(`${failing}/status/fragment`)).text();
    expect(text).toContain('status not available: IPVS &lt;read&gt; failed');
  });
});
