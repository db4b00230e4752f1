/**
 * How a probe learns that its run is cancelled. The checkers need only this part of AbortSignal,
 * so a real AbortSignal still works (tests, hooks and VRRP tracking pass one), while the
 * scheduler hands out a CancelToken: an AbortController plus an EventTarget listener per run
 * cost about 3 µs of the daemon's per-check CPU (bench/probe-cpu, --cpu-prof), most of it in
 * Node's EventTarget machinery, for a signal that almost never fires.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(
    type: 'abort',
    listener: () => void,
    options?: { readonly once?: boolean },
  ): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A one-shot cancel signal. Listeners run synchronously inside `abort()`, once each, in the order
 * they were added (as AbortSignal's do); a probe registers one at a time, so the first listener
 * has a slot of its own and the array exists only for a second one.
 */
export class CancelToken implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private first: (() => void) | undefined = undefined;
  private more: (() => void)[] | undefined = undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    // An aborted signal never fires again (AbortSignal behaves the same way).
    if (this.aborted) return;
    if (this.first === listener || this.more?.includes(listener) === true) return;
    if (this.first === undefined) this.first = listener;
    else (this.more ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.first === listener) {
      this.first = this.more?.shift();
      return;
    }
    const i = this.more?.indexOf(listener) ?? -1;
    if (i >= 0) this.more?.splice(i, 1);
  }

  /** Fire once with `reason`; later calls do nothing. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const first = this.first;
    const more = this.more;
    this.first = undefined;
    this.more = undefined;
    first?.();
    if (more !== undefined) for (const l of more) l();
  }
}
