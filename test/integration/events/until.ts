/** Polls `f` every 100 ms until `ok` holds (bounded in time and tries); errors mean "not yet". */
export async function until<T>(
  f: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 20_000,
): Promise<T> {
  const t0 = Date.now();
  for (let i = 0; i < 2000; i++) {
    try {
      const v = await f();
      if (ok(v)) return v;
    } catch {
      // not up yet
    }
    if (Date.now() - t0 > ms) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not reached within ${ms} ms`);
}
