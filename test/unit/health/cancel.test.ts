import { describe, expect, it } from 'vitest';
import { CancelToken, type CancelSignal } from '../../../src/health/cancel.js';

describe('CancelToken', () => {
  it('fires each listener once, in order, with the reason set first', () => {
    const t = new CancelToken();
    const seen: string[] = [];
    t.addEventListener('abort', () => seen.push(`a:${String(t.reason)}`));
    t.addEventListener('abort', () => seen.push(`b:${String(t.aborted)}`));
    t.abort('why');
    t.abort('again');
    expect(seen).toEqual(['a:why', 'b:true']);
    expect(t.reason).toBe('why');
  });

  it('does not fire removed listeners, nor a listener twice when added twice', () => {
    const t = new CancelToken();
    let a = 0;
    let b = 0;
    const la = (): void => {
      a++;
    };
    const lb = (): void => {
      b++;
    };
    t.addEventListener('abort', la);
    t.addEventListener('abort', la);
    t.addEventListener('abort', lb);
    t.removeEventListener('abort', la);
    t.abort(undefined);
    expect([a, b]).toEqual([0, 1]);
  });

  it('ignores listeners added after the abort, as AbortSignal does', () => {
    const t = new CancelToken();
    t.abort('x');
    let fired = false;
    t.addEventListener('abort', () => (fired = true));
    expect(fired).toBe(false);
  });

  it('a real AbortSignal is a CancelSignal (checkers take either)', () => {
    const c = new AbortController();
    const s: CancelSignal = c.signal;
    let fired = false;
    s.addEventListener('abort', () => (fired = true), { once: true });
    c.abort('r');
    expect([fired, s.aborted, s.reason]).toEqual([true, true, 'r']);
  });
});
