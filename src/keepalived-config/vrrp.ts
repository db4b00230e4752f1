/** vrrp_script, vrrp_instance and vrrp_sync_group (keepalived/vrrp/vrrp_parser.c). */
import { addressFamily } from './address.js';
import { setIf } from './checkers.js';
import type {
  NotifyScripts,
  TrackInterface,
  TrackScript,
  VrrpInstance,
  VrrpScript,
  VrrpSyncGroup,
} from './model.js';
import { parseAddressLine, parseRouteLine, parseRuleLine } from './network.js';
import type { Statement } from './tree.js';
import type { Reader } from './values.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function buildVrrpScript(st: Statement, r: Reader): VrrpScript | undefined {
  const name = st.args[0];
  if (!name) {
    r.sink.warning('missing-value', 'vrrp_script needs a name', st.keyword.at);
    return undefined;
  }
  const vs: Mutable<VrrpScript> = {
    name: name.text,
    weightReverse: false,
    initFail: false,
    at: st.keyword.at,
  };
  for (const s of r.body(st)) {
    switch (s.keyword.text) {
      case 'script':
        setIf(vs, 'script', r.script(s, false));
        break;
      case 'interval':
        setIf(vs, 'intervalMs', r.timer(s, 0.000001));
        break;
      case 'timeout':
        setIf(vs, 'timeoutMs', r.timer(s));
        break;
      case 'weight': {
        r.noBlock(s);
        const w = r.arg(s, 0, 'a weight');
        const n = w && r.number(w, -253, 253, false, 'vrrp_script weight');
        if (typeof n === 'number') vs.weight = n;
        if (s.args[1]?.text === 'reverse') vs.weightReverse = true;
        else if (s.args[1])
          r.sink.warning(
            'bad-value',
            `unknown weight option '${s.args[1].text}'`,
            s.args[1].at,
            'the only option is reverse',
          );
        break;
      }
      case 'rise':
        setIf(vs, 'rise', r.uint(s, 1, 2147483647));
        break;
      case 'fall':
        setIf(vs, 'fall', r.uint(s, 1, 2147483647));
        break;
      case 'user': {
        r.noBlock(s);
        const u = r.arg(s, 0, 'a user name');
        if (u) vs.user = s.args[1] ? { user: u.text, group: s.args[1].text } : { user: u.text };
        break;
      }
      case 'init_fail':
        r.noArgs(s);
        vs.initFail = true;
        break;
      default:
        r.unknown(s, 'vrrp_script', `vrrp_script ${vs.name}`);
    }
  }
  if (!vs.script) {
    r.sink.warning(
      'missing-required',
      `vrrp_script ${vs.name} has no script; it is removed`,
      st.block?.close ?? st.keyword.at,
      'add script "/path/to/check args"',
    );
    return undefined;
  }
  return vs;
}

function notifyKeyword(s: Statement, r: Reader, n: Mutable<NotifyScripts>): boolean {
  const map: Record<string, keyof NotifyScripts> = {
    notify: 'generic',
    notify_master: 'master',
    notify_backup: 'backup',
    notify_fault: 'fault',
    notify_stop: 'stop',
    notify_deleted: 'deleted',
    notify_master_rx_lower_pri: 'masterRxLowerPri',
  };
  const key = map[s.keyword.text];
  if (!key) return false;
  const spec = r.script(s, true);
  if (spec) n[key] = spec;
  return true;
}

/** `track_interface { IF [weight N [reverse]] }` and `track_script { NAME [weight N [reverse]] }`. */
function tracked(st: Statement, r: Reader): (TrackInterface & TrackScript)[] {
  const what = st.keyword.text;
  const out: (TrackInterface & TrackScript)[] = [];
  for (const s of r.body(st)) {
    r.noBlock(s);
    const t: Mutable<TrackInterface & TrackScript> = {
      name: s.keyword.text,
      reverse: false,
      at: s.keyword.at,
    };
    const [kw, value, rev] = s.args;
    if (kw) {
      if (kw.text !== 'weight' || !value) {
        r.sink.warning('bad-value', `${what} ${t.name}: expected 'weight N [reverse]'`, kw.at);
      } else {
        const n = r.number(value, -253, 253, false, `${what} weight`);
        if (n !== undefined) t.weight = n;
        if (rev?.text === 'reverse') t.reverse = true;
      }
    }
    out.push(t);
  }
  return out;
}

/** keepalived keywords of vrrp_instance that lvsd accepts and does not act on. */
const acceptedInstance = new Set([
  'unicast_ttl',
  'unicast_fault_no_peer',
  'mcast_src_ip',
  'track_file',
  'track_process',
  'track_bfd',
  'garp_master_refresh_repeat',
  'garp_lower_prio_delay',
  'garp_lower_prio_repeat',
  'garp_extra_if',
  'lower_prio_no_advert',
  'higher_prio_send_advert',
  'track_primary',
  'skip_check_adv_addr',
  'check_unicast_src',
  'strict_mode',
  'vmac_xmit_base',
  'native_ipv6',
  'accept',
  'no_accept',
  'debug',
  'kernel_rx_buf_size',
  'linkbeat_use_polling',
  'old_unicast_checksum',
  'promote_secondaries',
  'evip_other_family',
  'no_vmac_ipv6_ll',
  // Read by src/config (the FIFO's MASTER_PRIORITY/BACKUP_PRIORITY lines), kept as given.
  'notify_priority_changes',
]);

export function buildVrrpInstance(st: Statement, r: Reader): VrrpInstance | undefined {
  const name = st.args[0];
  if (!name) {
    r.sink.warning('missing-value', 'vrrp_instance needs a name', st.keyword.at);
    return undefined;
  }
  const vi: Mutable<VrrpInstance> = {
    name: name.text,
    nopreempt: false,
    preempt: false,
    unicastPeers: [],
    virtualIpaddress: [],
    virtualIpaddressExcluded: [],
    virtualRoutes: [],
    virtualRules: [],
    trackInterface: [],
    trackScript: [],
    notify: {},
    dontTrackPrimary: false,
    useVmac: false,
    accepted: {},
    at: st.keyword.at,
  };
  const where = `vrrp_instance ${vi.name}`;
  for (const s of r.body(st)) {
    const kw = s.keyword.text;
    if (notifyKeyword(s, r, vi.notify)) continue;
    if (acceptedInstance.has(kw)) {
      if (s.block) r.noBlock(s);
      vi.accepted[kw] = s.args.map((a) => a.text);
      continue;
    }
    switch (kw) {
      case 'state': {
        const w = r.word(s, 'MASTER or BACKUP');
        if (w === 'MASTER' || w === 'BACKUP') vi.state = w;
        else if (w !== undefined) {
          const up = w.toUpperCase();
          r.sink.warning(
            'bad-value',
            `(${vi.name}) unknown state '${w}', defaulting to BACKUP`,
            s.args[0]?.at ?? s.keyword.at,
            up === 'MASTER' || up === 'BACKUP'
              ? `values are case-sensitive: did you mean ${up}?`
              : 'use MASTER or BACKUP',
          );
          vi.state = 'BACKUP';
        }
        break;
      }
      case 'interface':
        setIf(vi, 'interface', r.word(s, 'an interface name'));
        vi.interfaceAt = s.args[0]?.at ?? s.keyword.at;
        break;
      case 'virtual_router_id':
        setIf(vi, 'virtualRouterId', r.uint(s, 1, 255));
        break;
      case 'priority':
        setIf(vi, 'priority', r.uint(s, 1, 255));
        break;
      case 'advert_int':
        setIf(vi, 'advertIntMs', r.timer(s, 0.01, 255));
        break;
      case 'version': {
        const v = r.uint(s, 2, 3);
        if (v === 2 || v === 3) vi.version = v;
        break;
      }
      case 'nopreempt':
        r.noArgs(s);
        vi.nopreempt = true;
        break;
      case 'preempt':
        r.noArgs(s);
        vi.preempt = true;
        break;
      case 'preempt_delay':
        setIf(vi, 'preemptDelayMs', r.timer(s, 0, 1000));
        break;
      case 'authentication': {
        let type: 'PASS' | 'AH' | undefined;
        let pass: string | undefined;
        for (const a of r.body(s)) {
          if (a.keyword.text === 'auth_type')
            type = r.oneOf(a, ['PASS', 'AH'], 'authentication type');
          else if (a.keyword.text === 'auth_pass') pass = r.text(a);
          else r.unknown(a, 'authentication', 'authentication');
        }
        if (type)
          vi.authentication = { type, ...(pass === undefined ? {} : { pass }), at: s.keyword.at };
        else
          r.sink.warning(
            'missing-required',
            'authentication without auth_type is ignored',
            s.keyword.at,
            'add auth_type PASS',
          );
        break;
      }
      case 'unicast_src_ip': {
        const w = r.arg(s, 0, 'an IP address');
        const a = w && r.address(w, 'unicast_src_ip');
        if (a) vi.unicastSrcIp = a.address;
        break;
      }
      case 'unicast_peer':
        for (const p of r.body(s)) {
          r.noBlock(p);
          if (addressFamily(p.keyword.text))
            vi.unicastPeers.push({ address: p.keyword.text, at: p.keyword.at });
          else
            r.sink.warning(
              'bad-address',
              `unicast_peer: invalid address '${p.keyword.text}'`,
              p.keyword.at,
            );
        }
        break;
      case 'virtual_ipaddress':
      case 'virtual_ipaddress_excluded': {
        const list = kw === 'virtual_ipaddress' ? vi.virtualIpaddress : vi.virtualIpaddressExcluded;
        for (const a of r.body(s)) {
          const spec = parseAddressLine(a, r, kw);
          if (spec) list.push(spec);
        }
        break;
      }
      case 'virtual_routes':
        for (const a of r.body(s)) {
          const route = parseRouteLine(a, r, true);
          if (route) vi.virtualRoutes.push(route);
        }
        break;
      case 'virtual_rules':
        for (const a of r.body(s)) {
          const rule = parseRuleLine(a, r);
          if (rule) vi.virtualRules.push(rule);
        }
        break;
      case 'track_interface':
        vi.trackInterface.push(...tracked(s, r));
        break;
      case 'track_script':
        vi.trackScript.push(...tracked(s, r));
        break;
      case 'garp_master_delay':
        setIf(vi, 'garpMasterDelayMs', r.timer(s, 0, 255));
        break;
      case 'garp_master_repeat':
        setIf(vi, 'garpMasterRepeat', r.uint(s, 1, 255));
        break;
      case 'garp_master_refresh':
        setIf(vi, 'garpMasterRefreshMs', r.timer(s));
        break;
      case 'lvs_sync_daemon_interface':
        r.sink.warning(
          'deprecated',
          `(${vi.name}) lvs_sync_daemon_interface in a vrrp_instance is deprecated`,
          s.keyword.at,
          'use lvs_sync_daemon IFACE INSTANCE in global_defs',
        );
        setIf(vi, 'lvsSyncDaemonInterface', r.word(s, 'an interface name'));
        break;
      case 'smtp_alert':
        setIf(vi, 'smtpAlert', r.bool(s));
        break;
      case 'dont_track_primary':
        r.noArgs(s);
        vi.dontTrackPrimary = true;
        break;
      case 'use_vmac':
        r.noBlock(s);
        vi.useVmac = true;
        break;
      default:
        r.unknown(s, 'vrrp_instance', where);
    }
  }
  return vi;
}

export function buildVrrpSyncGroup(st: Statement, r: Reader): VrrpSyncGroup | undefined {
  const name = st.args[0];
  if (!name) {
    r.sink.warning('missing-value', 'vrrp_sync_group needs a name', st.keyword.at);
    return undefined;
  }
  const g: Mutable<VrrpSyncGroup> = {
    name: name.text,
    members: [],
    notify: {},
    syncGroupTrackingWeight: false,
    trackInterface: [],
    trackScript: [],
    at: st.keyword.at,
  };
  for (const s of r.body(st)) {
    if (notifyKeyword(s, r, g.notify)) continue;
    switch (s.keyword.text) {
      case 'group':
        for (const m of r.body(s)) {
          r.noBlock(m);
          g.members.push({ name: m.keyword.text, at: m.keyword.at });
          for (const extra of m.args) g.members.push({ name: extra.text, at: extra.at });
        }
        break;
      case 'smtp_alert':
        setIf(g, 'smtpAlert', r.bool(s));
        break;
      case 'global_tracking':
      case 'sync_group_tracking_weight':
        r.noArgs(s);
        g.syncGroupTrackingWeight = true;
        break;
      case 'track_interface':
        g.trackInterface.push(...tracked(s, r));
        break;
      case 'track_script':
        g.trackScript.push(...tracked(s, r));
        break;
      case 'track_file':
      case 'track_process':
      case 'track_bfd':
        break;
      default:
        r.unknown(s, 'vrrp_sync_group', `vrrp_sync_group ${g.name}`);
    }
  }
  return g;
}
