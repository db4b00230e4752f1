/**
 * Status answers within about a second even when the kernel read does not: a read that hangs
 * (ipvsadm slow on a loaded box, or stuck) leaves status to the last table read, dated by
 * `ipvsReadAt`, and `lvsd status` says how old it is. Real daemon, real control socket, the
 * in-memory IPVS driver with a read the test holds back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix as path } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderStatus } from '../../../src/cli/commands/status.js';
import { ControlClient } from '../../../src/control/client.js';
import type { StatusSnapshot } from '../../../src/control/types.js';
import { STATUS_KERNEL_WAIT_MS } from '../../../src/daemon/control-port.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { startSwitchableBackend, type SwitchableBackend } from '../../../src/demo/backend.js';
import type { ObservedTable } from '../../../src/ipvs/driver.js';
import { MemoryIpvsDriver } from '../../../src/ipvs/drivers/memory.js';
import { controlSocketsIn, startTestDaemon } from '../../helpers/test-daemon.js';

/** The memory driver, whose reads wait while the test holds them. */
class HeldReads extends MemoryIpvsDriver {
  private gate: Promise<void> | undefined;
  private open: () => void = () => undefined;
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open();
    this.gate = undefined;
  }
  override async read(): Promise<ObservedTable> {
    if (this.gate) await this.gate;
    return super.read();
  }
}

let dir: string;
let backend: SwitchableBackend;
let daemon: Daemon | undefined;
let driver: HeldReads;
let client: ControlClient;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'lvsd-slow-kernel-'));
  backend = await startSwitchableBackend();
  driver = new HeldReads();
  const file = path.join(dir, 'lvsd.conf');
  writeFileSync(
    file,
    `virtual_server 198.18.0.10 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 127.0.0.1 ${backend.port} {
    weight 4
    TCP_CHECK {
      connect_timeout 0.5
      delay_loop 0.2
    }
  }
}
`,
  );
  const control = controlSocketsIn(dir);
  daemon = await startTestDaemon(file, {
    driver,
    stateDir: path.join(dir, 'state'),
    control,
  });
  client = new ControlClient({ socketPath: control.roPath, timeoutMs: 5_000 });
});
afterEach(async () => {
  driver.release();
  await client.close();
  await daemon?.stop('test');
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timedStatus(): Promise<{ s: StatusSnapshot; ms: number }> {
  const t0 = performance.now();
  const s = await client.call<StatusSnapshot>('GET', '/v1/status');
  return { s, ms: performance.now() - t0 };
}

const weight = (s: StatusSnapshot) => s.virtualServers[0]?.realServers[0]?.currentWeight;

describe('status while the kernel read hangs', () => {
  it('answers within the bound from the last read, dated, and fresh again once the read returns', async () => {
    let first = await timedStatus();
    for (let i = 0; i < 50 && weight(first.s) !== 4; i++) {
      await sleep(100);
      first = await timedStatus();
    }
    expect(weight(first.s)).toBe(4);
    expect(first.s.ipvsReadAt).toBeGreaterThan(first.s.at - 1000);
    expect(renderStatus(first.s)).not.toContain('IPVS table as read');

    driver.hold();
    await sleep(600); // past the shared read's 500 ms: the next status starts a read that hangs
    const held = await timedStatus();
    expect(held.ms).toBeGreaterThanOrEqual(STATUS_KERNEL_WAIT_MS - 50);
    expect(held.ms).toBeLessThan(STATUS_KERNEL_WAIT_MS + 1500);
    expect(weight(held.s)).toBe(4);
    expect(held.s.ipvsReadAt).toBe(first.s.ipvsReadAt);

    await sleep(1500);
    const older = await timedStatus();
    expect(older.ms).toBeLessThan(STATUS_KERNEL_WAIT_MS + 1500);
    expect(older.s.at - (older.s.ipvsReadAt ?? 0)).toBeGreaterThan(2000);
    expect(renderStatus(older.s)).toMatch(
      /IPVS table as read \S+ ago: the kernel read since has not finished/,
    );

    driver.release();
    await sleep(50);
    const fresh = await timedStatus();
    expect(fresh.ms).toBeLessThan(STATUS_KERNEL_WAIT_MS);
    expect(fresh.s.ipvsReadAt).toBeGreaterThan(first.s.ipvsReadAt ?? 0);
    expect(renderStatus(fresh.s)).not.toContain('IPVS table as read');
  });
});
