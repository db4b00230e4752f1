/**
 * keepalived's notify FIFOs (`notify_fifo`, `vrrp_notify_fifo`, `lvs_notify_fifo`, each with
 * an optional `_script` reader). Scripts go through the same ScriptPolicy as every other
 * script (user, script security); a refused script leaves the FIFO without its reader.
 */
import type { GlobalDefs } from '../keepalived-config/index.js';
import type { ScriptPolicy } from './scripts.js';
import type { NotifyFifo, NotifyFifos } from './types.js';

export function buildNotifyFifos(
  globalDefs: Pick<GlobalDefs, 'notifyFifo' | 'vrrpNotifyFifo' | 'lvsNotifyFifo'>,
  scripts: ScriptPolicy,
): NotifyFifos {
  const one = (f: GlobalDefs['notifyFifo']): NotifyFifo | undefined => {
    if (f === undefined || f.path === '') return undefined;
    const script = f.script ? scripts.resolve(f.script, 'vrrp-notify')?.script : undefined;
    return script ? { path: f.path, script } : { path: f.path };
  };
  const all = one(globalDefs.notifyFifo);
  const vrrp = one(globalDefs.vrrpNotifyFifo);
  const lvs = one(globalDefs.lvsNotifyFifo);
  return { ...(all ? { all } : {}), ...(vrrp ? { vrrp } : {}), ...(lvs ? { lvs } : {}) };
}
