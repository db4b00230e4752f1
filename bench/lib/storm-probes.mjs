// bench/hooks-storm.mjs's stand-in for src/daemon/probes.ts, swapped in when the bench bundles
// the daemon (an esbuild plugin redirects daemon.ts's './probes.js' here): the same probes,
// each timed from its start to its result (the check latency the bench reports, event-loop
// delays included), handed to globalThis.__lvsdStormProbe when set. Nothing else changes.
import * as real from '../../src/daemon/probes.ts';

export const runTimeoutMs = real.runTimeoutMs;
export const checkerPolicy = real.checkerPolicy;
export const realServerPolicy = real.realServerPolicy;

export function probeFor(check, scriptSecurity) {
  const probe = real.probeFor(check, scriptSecurity);
  return async (signal) => {
    const t0 = performance.now();
    const r = await probe(signal);
    globalThis.__lvsdStormProbe?.(performance.now() - t0, r.ok);
    return r;
  };
}
