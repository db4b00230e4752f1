/**
 * keepalived's notify FIFOs from the parsed model: the validated Config does not carry them
 * yet, so the daemon passes them in. Scripts go through the same ScriptPolicy as every other
 * script (user, script security); a refused script leaves the FIFO without its reader.
 */
import type { Script } from '../config/types.js';
import type { GlobalDefs, ScriptSpec } from '../keepalived-config/index.js';
import type { NotifyFifoSettings } from '../hooks/notify-service.js';

export function fifoSettings(
  globalDefs: Pick<GlobalDefs, 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo'>,
  resolve: (spec: ScriptSpec) => Script | undefined,
): NotifyFifoSettings {
  const one = (f: { path: string; script?: ScriptSpec } | undefined) => {
    if (f === undefined || f.path === '') return undefined;
    const script = f.script ? resolve(f.script) : undefined;
    return script ? { path: f.path, script } : { path: f.path };
  };
  const all = one(globalDefs.notifyFifo);
  const vrrp = one(globalDefs.vrrpNotifyFifo);
  const lvs = one(globalDefs.lvsNotifyFifo);
  return { ...(all ? { all } : {}), ...(vrrp ? { vrrp } : {}), ...(lvs ? { lvs } : {}) };
}
