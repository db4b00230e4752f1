// A TimerPort driven by a FakeClock: tests move time by hand and never sleep.
import { DueQueue } from '../../../src/health/due-queue.js';
import type { CancelSignal, TimerHandle, TimerPort } from '../../../src/health/scheduler.js';
import { FakeClock } from '../../../src/lib/clock.js';

/** Let every queued promise callback run (setImmediate runs after the microtask queue). */
export async function flush(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

export class ManualTimers implements TimerPort {
  readonly clock = new FakeClock();
  /** Timer callbacks run so far: the scheduler's wake-ups plus any the fake probes armed. */
  fired = 0;
  private readonly queue = new DueQueue<{ id: number; callback: () => void }>();
  private readonly live = new Set<number>();
  private nextId = 1;

  now(): number {
    return this.clock.monotonicMs();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.live.add(id);
    this.queue.push(this.now() + Math.max(0, delayMs), { id, callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.live.delete(handle);
  }

  get pending(): number {
    return this.live.size;
  }

  /** Move time forward by `ms`, firing timers in order and flushing promises after each. */
  async advance(ms: number): Promise<void> {
    // Callbacks already queued run at the current time, before it moves.
    await flush();
    const end = this.now() + ms;
    for (;;) {
      const top = this.queue.peek();
      if (top === undefined || top.atMs > end) break;
      this.queue.pop();
      if (!this.live.delete(top.value.id)) continue;
      if (top.atMs > this.now()) this.clock.advance(top.atMs - this.now());
      this.fired++;
      top.value.callback();
      await flush();
    }
    if (end > this.now()) this.clock.advance(end - this.now());
    await flush();
  }

  /** A promise that resolves after `ms` of fake time (for fake probe latency). */
  sleep(ms: number, signal?: CancelSignal): Promise<'done' | 'aborted'> {
    return new Promise((resolve) => {
      const handle = this.setTimeout(() => {
        resolve('done');
      }, ms);
      signal?.addEventListener(
        'abort',
        () => {
          this.clearTimeout(handle);
          resolve('aborted');
        },
        { once: true },
      );
    });
  }
}
