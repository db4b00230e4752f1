/**
 * An in-process Daemon for integration tests: the real clock and timers, the real config
 * reader, a loopback-only host and the memory driver; a test overrides what it is about.
 */
import { posix as path } from 'node:path';
import { describedHost } from '../../src/config/index.js';
import { Daemon, type DaemonOptions } from '../../src/daemon/daemon.js';
import { systemTimers } from '../../src/health/timer-port.js';
import { MemoryIpvsDriver } from '../../src/ipvs/drivers/memory.js';
import { nodeSource } from '../../src/keepalived-config/index.js';
import { systemClock } from '../../src/lib/clock.js';
import { EventBus } from '../../src/lib/events.js';

export const loopbackHost = describedHost({ interfaces: ['lo'], executables: [] });

export function startTestDaemon(
  file: string,
  overrides: Partial<DaemonOptions> = {},
): Promise<Daemon> {
  return Daemon.start({
    file,
    configId: 'test',
    hostname: 'test',
    source: nodeSource(),
    host: loopbackHost,
    driver: new MemoryIpvsDriver(),
    bus: new EventBus(systemClock),
    clock: systemClock,
    timers: systemTimers,
    tickMs: 10,
    ...overrides,
  });
}

/** Control sockets in `dir`: lvsd.sock (admin) and lvsd-ro.sock (read-only). */
export function controlSocketsIn(dir: string): { adminPath: string; roPath: string } {
  return { adminPath: path.join(dir, 'lvsd.sock'), roPath: path.join(dir, 'lvsd-ro.sock') };
}
