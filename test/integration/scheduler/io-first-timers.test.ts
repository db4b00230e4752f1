/**
 * After a stall (CPU starvation, a long GC pause) Node runs every expired timer before it reads
 * the sockets. lvsd's timers (src/health/timer-port.ts) and probe deadlines
 * (src/health/checkers/deadline.ts) wait for that read: an advert or an answer that arrived
 * during the stall is seen before a deadline is judged. Real sockets, real timers; the stall is
 * a busy loop in a setImmediate callback, so the next thing Node does is its timers phase.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { armDeadline, cancelDeadline } from '../../../src/health/checkers/deadline.js';
import { systemTimers } from '../../../src/health/timer-port.js';

let socket: Socket;
let port = 0;

beforeEach(async () => {
  socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  port = socket.address().port;
});

afterEach(() => {
  socket.close();
});

function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: nothing else runs
  }
}

/** In a check-phase callback: arm `arm()` (due in 20 ms), send a datagram, stall 100 ms. */
function afterStall(arm: () => void): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(() => {
      arm();
      socket.send('advert', port, '127.0.0.1');
      stall(100);
      setTimeout(resolve, 200);
    });
  });
}

describe('timers after a stall', () => {
  it("Node's own setTimeout fires before the datagram that came during the stall is read", async () => {
    const order: string[] = [];
    socket.on('message', () => order.push('datagram'));
    await afterStall(() => setTimeout(() => order.push('timer'), 20));
    // The hazard the port exists for; if Node ever changes this, the port is merely redundant.
    expect(order).toEqual(['timer', 'datagram']);
  });

  it('systemTimers: the datagram is read first, then the timer fires', async () => {
    const order: string[] = [];
    socket.on('message', () => order.push('datagram'));
    await afterStall(() => systemTimers.setTimeout(() => order.push('timer'), 20));
    expect(order).toEqual(['datagram', 'timer']);
  });

  it('systemTimers: a timer cleared by the datagram never fires', async () => {
    let fired = false;
    let handle: unknown;
    socket.on('message', () => {
      systemTimers.clearTimeout(handle);
    });
    await afterStall(() => {
      handle = systemTimers.setTimeout(() => (fired = true), 20);
    });
    expect(fired).toBe(false);
  });

  it('a probe deadline: the answer that came during the stall cancels it; it does not fire', async () => {
    let fired = false;
    let answered = false;
    let d: ReturnType<typeof armDeadline> | undefined;
    socket.on('message', () => {
      answered = true;
      cancelDeadline(d);
    });
    await afterStall(() => {
      d = armDeadline(20, () => (fired = true));
    });
    expect(answered).toBe(true);
    expect(fired).toBe(false);
  });

  it('a probe deadline with no answer still fires', async () => {
    let fired = false;
    await afterStall(() => {
      armDeadline(20, () => (fired = true));
    });
    expect(fired).toBe(true);
  });
});
