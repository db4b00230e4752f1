/**
 * The status page in headless Chromium (Debian package `chromium`, driven by playwright-core)
 * against a running `lvsd run --ipvs memory` (bin/lvsd.js: `npm run build` first): a down
 * and a drained real server show as such, the drain's hostile reason shows as text and runs
 * nothing, the page loads nothing from anywhere but lvsd, and it follows a recovery by itself.
 * The screenshot goes to .ci/out/status-page.png when .ci/out exists (CI), else to the temp dir.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { execa } from 'execa';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchableBackend, type SwitchableBackend } from '../../../src/demo/backend.js';
import { HOSTILE } from './fixture.js';
import { until } from '../events/until.js';
import { runLvsdMemory } from '../../helpers/lvsd-run.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`status page browser test skipped: no ${CHROMIUM} (apt-get install -y chromium)`);

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const bin = path.join(repo, 'bin/lvsd.js');
const outDir = existsSync(path.join(repo, '.ci/out'))
  ? path.join(repo, '.ci/out')
  : path.join(tmpdir(), 'lvsd-test-out');
export const screenshotPath = path.join(outDir, 'status-page.png');

let dir: string;
let backends: SwitchableBackend[] = [];
let browser: Browser | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => {
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-page-'));
  backends = await Promise.all([0, 1, 2].map(() => startSwitchableBackend()));
});
afterAll(async () => {
  await browser?.close();
  await Promise.all(backends.map((b) => b.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('the status page in Chromium', () => {
  it('shows a down and a drained server as such, escapes, refreshes itself', async () => {
    const [up, down, drained] = backends;
    if (!up || !down || !drained) throw new Error('no backends');
    down.setStatus(503);
    const metricsPort = await freePort();
    const file = path.join(dir, 'page.conf');
    const rs = (b: SwitchableBackend, w: number) =>
      ` real_server 127.0.0.1 ${b.port} {\n  weight ${w}\n  HTTP_GET {\n   url { path / }\n   delay_loop 0.2\n   connect_timeout 0.5\n   retry 0\n  }\n }\n`;
    writeFileSync(
      file,
      `lvsd {\n metrics_address 127.0.0.1:${metricsPort}\n}\nvirtual_server 198.18.0.10 80 {\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n${rs(up, 5)}${rs(down, 5)}${rs(drained, 3)}}\n`,
    );
    const daemon = runLvsdMemory({
      file,
      socket: path.join(dir, 'lvsd.sock'),
      stateDir: path.join(dir, 'state'),
      timeoutMs: 90_000,
    });
    try {
      const base = `http://127.0.0.1:${metricsPort}`;
      await until(
        () => execa('node', [bin, 'status', '--socket', path.join(dir, 'lvsd-ro.sock')]),
        (r) => r.exitCode === 0,
      );
      const d = await execa(
        'node',
        [
          bin,
          'drain',
          'tcp:198.18.0.10:80',
          `127.0.0.1:${drained.port}`,
          '--reason',
          `kernel upgrade ${HOSTILE}`,
          '--socket',
          path.join(dir, 'lvsd.sock'),
        ],
        { reject: false, env: { USER: 'alice' } },
      );
      expect(d.exitCode, d.stderr).toBe(0);
      type Json = {
        status: {
          virtualServers: {
            realServers: { name: string; health: { state: string }; admin: { state: string } }[];
          }[];
        };
      };
      await until(
        async () => (await (await fetch(`${base}/status.json`)).json()) as Json,
        (j) => {
          const list = j.status.virtualServers[0]?.realServers ?? [];
          return (
            list.some((r) => r.name.endsWith(`:${down.port}`) && r.health.state === 'down') &&
            list.some((r) => r.name.endsWith(`:${drained.port}`) && r.admin.state === 'drain')
          );
        },
      );

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu'],
      });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${base}/status`);

      const downRow = page.locator(`tr[data-rs="127.0.0.1:${down.port}"]`);
      await expect.poll(() => downRow.getAttribute('class')).toContain('rs-down');
      expect(await downRow.locator('td.health').innerText()).toMatch(/^DOWN/);
      expect(await downRow.innerText()).toMatch(/status 503/);
      const drainRow = page.locator(`tr[data-rs="127.0.0.1:${drained.port}"]`);
      expect(await drainRow.getAttribute('class')).toContain('rs-drain');
      const adminText = await drainRow.locator('td.admin').innerText();
      expect(adminText).toMatch(/^DRAINED by alice/);
      expect(adminText).toContain(`kernel upgrade ${HOSTILE}`); // shown as text …
      expect(await page.evaluate("'pwned' in window")).toBe(false); // … and never run
      expect(await drainRow.locator('img').count()).toBe(0);
      const upRow = page.locator(`tr[data-rs="127.0.0.1:${up.port}"]`);
      expect(await upRow.getAttribute('class')).toContain('rs-up');
      expect(await upRow.locator('td.num').first().innerText()).toBe('5 / 5');
      expect(await page.locator('#events tbody tr').count()).toBeGreaterThan(0);
      expect(await page.locator('#events').innerText()).toMatch(/admin\.drained/);

      mkdirSync(outDir, { recursive: true });
      await page.screenshot({ path: screenshotPath, fullPage: true });
      expect(existsSync(screenshotPath)).toBe(true);

      // It follows the daemon by itself: the down server recovers without a reload.
      down.setStatus(200);
      await expect
        .poll(() => downRow.getAttribute('class'), { timeout: 15_000, interval: 250 })
        .toContain('rs-up');
      expect(await page.locator('#stamp').innerText()).toMatch(/^updated /);

      expect(
        requests.every((u) => u.startsWith(`${base}/status`)),
        requests.join(' '),
      ).toBe(true);
      expect(requests.some((u) => u.endsWith('/status/fragment'))).toBe(true);
      expect(errors, errors.join('\n')).toEqual([]);
    } finally {
      daemon.kill('SIGTERM');
      await daemon;
    }
  }, 90_000);
});
