/**
 * Time as a port. Core modules never read clocks: they receive `now` (monotonic milliseconds)
 * as an argument. Shell modules get a Clock so tests can drive them with a fake one.
 */
export interface Clock {
  /** Monotonic milliseconds (never jumps with wall-clock changes). */
  monotonicMs(): number;
  /** Wall-clock milliseconds since the epoch, for records shown to people. */
  wallMs(): number;
}

export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
};

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(
    private mono = 0,
    private wall = Date.UTC(2026, 0, 1),
  ) {}
  monotonicMs(): number {
    return this.mono;
  }
  wallMs(): number {
    return this.wall;
  }
  advance(ms: number): void {
    this.mono += ms;
    this.wall += ms;
  }
}
