/**
 * The admin half of a ControlPort, made from an AdminService: what the daemon needs to pass
 * on drain, undrain and maintenance requests from the API (via 'admin-socket').
 */
import type { AdminService } from '../admin/service.js';
import type { ControlPort } from './types.js';

export type AdminPortPart = Pick<
  ControlPort,
  'adminOf' | 'drain' | 'undrain' | 'maintList' | 'maintAdd' | 'maintCancel'
>;

export function adminPortFor(admin: AdminService): AdminPortPart {
  return {
    adminOf: (vs, rs) => admin.drainOf(vs, rs),
    drain: (vs, rs, o) =>
      admin.run({
        type: 'drain',
        vs,
        rs,
        by: o.by,
        via: 'admin-socket',
        ...(o.reason === undefined ? {} : { reason: o.reason }),
      }),
    undrain: (vs, rs, o) => admin.run({ type: 'undrain', vs, rs, by: o.by, via: 'admin-socket' }),
    maintList: () => admin.windows(),
    maintAdd: (w) => admin.run({ type: 'maint-add', ...w }),
    maintCancel: (id, o) => admin.run({ type: 'maint-cancel', id, by: o.by }),
  };
}
