/** virtual_server, real_server and virtual_server_group (keepalived/check/check_parser.c). */
import { addressFamily } from './address.js';
import { buildChecker, exact, isCheckerKeyword, setIf } from './checkers.js';
import type {
  Checker,
  LbKind,
  Protocol,
  RealServer,
  TunnelSpec,
  VirtualServer,
  VirtualServerGroup,
  VirtualServerGroupEntry,
  VirtualServerKey,
} from './model.js';
import type { Statement } from './tree.js';
import type { Reader } from './values.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Every scheduler ipvsadm knows (check_parser.c lvs_schedulers[]). */
export const schedulers = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'sh',
  'mh',
  'dh',
  'fo',
  'ovf',
  'lblcr',
  'sed',
  'nq',
  'twos',
] as const;
const lbKinds: readonly LbKind[] = ['NAT', 'DR', 'TUN'];
const schedulerFlagWords = new Set([
  'ops',
  'hashed',
  'flag-1',
  'flag-2',
  'flag-3',
  'sh-port',
  'sh-fallback',
  'mh-port',
  'mh-fallback',
  'one_packet_scheduling',
]);

/** ipvsadm's weight limit; keepalived accepts up to 2^31-1 but the kernel's ipvsadm caps it. */
export const MAX_WEIGHT = 65535;

export function buildVirtualServer(st: Statement, r: Reader): VirtualServer | undefined {
  const key = virtualServerKey(st, r);
  if (!key) return undefined;
  const vs: Mutable<VirtualServer> = {
    key,
    realServers: [],
    schedulerFlags: [],
    at: st.keyword.at,
  };
  for (const s of r.body(st)) {
    const kw = s.keyword.text;
    if (schedulerFlagWords.has(kw)) {
      r.noArgs(s);
      if (kw === 'ops' || kw === 'one_packet_scheduling') vs.opsScheduling = true;
      else vs.schedulerFlags.push(kw);
      continue;
    }
    switch (kw) {
      case 'delay_loop':
        setIf(vs, 'delayLoopMs', r.timer(s, 0.000001));
        break;
      case 'lb_algo':
      case 'lvs_sched': {
        const v = r.oneOf(s, schedulers, 'scheduler');
        if (v) vs.lbAlgo = v;
        break;
      }
      case 'lb_kind':
      case 'lvs_method': {
        const m = lbMethod(s, r);
        if (m) {
          vs.lbKind = m.kind;
          if (m.tunnel) vs.tunnel = m.tunnel;
        }
        break;
      }
      case 'protocol':
        setIf(vs, 'protocol', r.oneOf<Protocol>(s, ['TCP', 'UDP', 'SCTP'], 'protocol', true));
        break;
      case 'persistence_timeout':
        if (s.args.length === 0) {
          r.noBlock(s);
          vs.persistenceTimeoutS = 360;
        } else setIf(vs, 'persistenceTimeoutS', r.uint(s, 1, 2678400));
        break;
      case 'persistence_granularity':
        setIf(vs, 'persistenceGranularity', r.word(s, 'a netmask or prefix length'));
        break;
      case 'persistence_engine':
        setIf(vs, 'persistenceEngine', r.word(s, 'an engine name'));
        break;
      case 'virtualhost':
        setIf(vs, 'virtualhost', r.word(s, 'a host name'));
        break;
      case 'sorry_server': {
        r.noBlock(s);
        const w = r.arg(s, 0, 'an address');
        const a = w && r.address(w, 'sorry_server address');
        const pw = s.args[1];
        const port = pw ? r.port(pw, 'sorry_server port') : undefined;
        if (a) vs.sorryServer = { ...a, ...(port === undefined ? {} : { port }), at: s.keyword.at };
        break;
      }
      case 'sorry_server_inhibit':
        setIf(vs, 'sorryServerInhibit', r.bool(s));
        break;
      case 'sorry_server_lvs_method': {
        const m = lbMethod(s, r);
        if (m) {
          vs.sorryServerLbKind = m.kind;
          if (m.tunnel) vs.sorryServerTunnel = m.tunnel;
        }
        break;
      }
      case 'quorum':
        setIf(vs, 'quorum', r.uint(s, 1, 2147483647));
        break;
      case 'hysteresis':
        setIf(vs, 'hysteresis', r.uint(s, 0, 2147483647));
        break;
      case 'quorum_up':
        setIf(vs, 'quorumUp', r.script(s, true));
        break;
      case 'quorum_down':
        setIf(vs, 'quorumDown', r.script(s, true));
        break;
      case 'alpha':
        setIf(vs, 'alpha', r.bool(s));
        break;
      case 'omega':
        setIf(vs, 'omega', r.bool(s));
        break;
      case 'inhibit_on_failure':
        setIf(vs, 'inhibitOnFailure', r.bool(s));
        break;
      case 'retry':
        setIf(vs, 'retry', r.uint(s, 0, 2147483647));
        break;
      case 'delay_before_retry':
        setIf(vs, 'delayBeforeRetryMs', r.timer(s));
        break;
      case 'warmup':
        setIf(vs, 'warmupMs', r.timer(s));
        break;
      case 'connect_timeout':
        setIf(vs, 'connectTimeoutMs', r.timer(s, 0.000001));
        break;
      case 'weight':
        setIf(vs, 'weight', weight(s, r));
        break;
      case 'smtp_alert':
        setIf(vs, 'smtpAlert', r.bool(s));
        break;
      case 'ip_family':
        r.oneOf(s, ['inet', 'inet6'], 'address family');
        break;
      case 'real_server': {
        const rs = buildRealServer(s, r);
        if (rs) vs.realServers.push(rs);
        break;
      }
      case 'rise':
        setIf(vs, 'rise', r.uint(s, 1, 1000));
        break;
      case 'fall':
        setIf(vs, 'fall', r.uint(s, 1, 1000));
        break;
      case 'slow_start':
        setIf(vs, 'slowStartMs', r.timer(s));
        break;
      case 'remove_on_failure':
        setIf(vs, 'removeOnFailure', r.bool(s));
        break;
      default:
        r.unknown(s, 'virtual_server', 'virtual_server');
    }
  }
  vs.realServers = exact(vs.realServers);
  return vs;
}

function virtualServerKey(st: Statement, r: Reader): VirtualServerKey | undefined {
  const [a, b] = st.args;
  if (!a) {
    r.sink.warning(
      'missing-value',
      'virtual_server needs an address and port, fwmark N, or group NAME',
      st.keyword.at,
    );
    return undefined;
  }
  if (a.text === 'fwmark') {
    const n = b ? r.number(b, 1, 4294967295, true, 'virtual_server fwmark') : undefined;
    if (!b) r.sink.warning('missing-value', 'virtual_server fwmark needs a mark number', a.at);
    return n === undefined ? undefined : { kind: 'fwmark', fwmark: n };
  }
  if (a.text === 'group') {
    if (!b) {
      r.sink.warning(
        'missing-value',
        'virtual_server group needs a virtual_server_group name',
        a.at,
      );
      return undefined;
    }
    return { kind: 'group', group: b.text };
  }
  const addr = r.address(a, 'virtual server address');
  if (!addr) return undefined;
  if (!b) return { kind: 'address', ...addr };
  const port = r.port(b, 'virtual server port');
  return port === undefined ? undefined : { kind: 'address', ...addr, port };
}

function buildRealServer(st: Statement, r: Reader): RealServer | undefined {
  const [a, b] = st.args;
  const addr = a ? addressFamily(a.text) : undefined;
  const port = b && /^\d+$/.test(b.text) && Number(b.text) <= 65535 ? Number(b.text) : undefined;
  if (!a || !addr || (b && port === undefined)) {
    const shown = a ? `${a.text}${b ? `/${b.text}` : ''}` : '(none)';
    r.sink.warning(
      'bad-address',
      `invalid real server address/port ${shown}; the real server is skipped`,
      a?.at ?? st.keyword.at,
      'write real_server ADDRESS PORT, e.g. real_server 198.18.1.11 80',
    );
    return undefined;
  }
  // port and weight in the literal: nearly every real server has both (see model.ts).
  const rs: Mutable<RealServer> = {
    address: a.text,
    family: addr,
    port,
    weight: undefined,
    checkers: [],
    at: st.keyword.at,
  };
  r.maxArgs(st, 2);
  const checkers: Checker[] = [];
  for (const s of st.block?.statements ?? []) {
    const kw = s.keyword.text;
    if (isCheckerKeyword(kw)) {
      const c = buildChecker(s, r);
      if (c) checkers.push(c);
      continue;
    }
    switch (kw) {
      case 'weight':
        setIf(rs, 'weight', weight(s, r));
        break;
      case 'lvs_method': {
        const m = lbMethod(s, r);
        if (m) {
          rs.lbKind = m.kind;
          if (m.tunnel) rs.tunnel = m.tunnel;
        }
        break;
      }
      case 'inhibit_on_failure':
        setIf(rs, 'inhibitOnFailure', r.bool(s));
        break;
      case 'notify_up':
        setIf(rs, 'notifyUp', r.script(s, true));
        break;
      case 'notify_down':
        setIf(rs, 'notifyDown', r.script(s, true));
        break;
      case 'uthreshold':
        setIf(rs, 'uthreshold', r.uint(s, 0, 2147483647));
        break;
      case 'lthreshold':
        setIf(rs, 'lthreshold', r.uint(s, 0, 2147483647));
        break;
      case 'virtualhost':
        setIf(rs, 'virtualhost', r.word(s, 'a host name'));
        break;
      case 'delay_loop':
        setIf(rs, 'delayLoopMs', r.timer(s, 0.000001));
        break;
      case 'retry':
        setIf(rs, 'retry', r.uint(s, 0, 2147483647));
        break;
      case 'delay_before_retry':
        setIf(rs, 'delayBeforeRetryMs', r.timer(s));
        break;
      case 'warmup':
        setIf(rs, 'warmupMs', r.timer(s));
        break;
      case 'connect_timeout':
        setIf(rs, 'connectTimeoutMs', r.timer(s, 0.000001));
        break;
      case 'alpha':
        setIf(rs, 'alpha', r.bool(s));
        break;
      case 'smtp_alert':
        r.bool(s);
        break;
      case 'rise':
        setIf(rs, 'rise', r.uint(s, 1, 1000));
        break;
      case 'fall':
        setIf(rs, 'fall', r.uint(s, 1, 1000));
        break;
      case 'slow_start':
        setIf(rs, 'slowStartMs', r.timer(s));
        break;
      case 'remove_on_failure':
        setIf(rs, 'removeOnFailure', r.bool(s));
        break;
      default:
        r.unknown(s, 'real_server', 'real_server');
    }
  }
  rs.checkers = exact(checkers);
  return rs;
}

function weight(s: Statement, r: Reader): number | undefined {
  const w = s.args[0];
  if (w && /^\d+$/.test(w.text) && Number(w.text) > MAX_WEIGHT && Number(w.text) <= 2147483647) {
    r.sink.warning(
      'out-of-range',
      `weight ${w.text} is above ${MAX_WEIGHT}, the most IPVS accepts`,
      w.at,
      `use a weight from 0 to ${MAX_WEIGHT}; keepalived accepts larger values but ipvsadm refuses them`,
    );
    return undefined;
  }
  return r.uint(s, 0, MAX_WEIGHT);
}

const TUNNEL_SYNTAX = 'TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]';

/**
 * `lvs_method` / `lb_kind` / `sorry_server_lvs_method`: NAT, DR or TUN, then the tunnel options
 * as keepalived 2.2.7 reads them (check_parser.c `svr_forwarding_handler`): `type`, `port` and
 * a checksum word in any order, the last checksum word winning; a gue tunnel needs a port and
 * only gue takes one; ipip takes no checksum and gre no remcsum. keepalived has no separate
 * `tun_type`/`tun_port` keywords. The first bad option drops the options (the method stays),
 * as keepalived returns there. keepalived reads the options after NAT and DR too, uses them
 * for nothing and says nothing; lvsd checks them the same way and adds a notice.
 */
function lbMethod(s: Statement, r: Reader): { kind: LbKind; tunnel?: TunnelSpec } | undefined {
  r.noBlock(s);
  const w = r.arg(s, 0, 'NAT, DR or TUN');
  if (!w) return undefined;
  const kind = lbKinds.find((k) => k === w.text);
  if (!kind) {
    const ci = lbKinds.find((k) => k === w.text.toUpperCase());
    r.sink.warning(
      'bad-value',
      `unknown routing method '${w.text}' for ${s.keyword.text}`,
      w.at,
      ci ? `values are case-sensitive: did you mean ${ci}?` : 'use NAT, DR or TUN',
    );
    return undefined;
  }
  const tunnel = tunnelOptions(s, r);
  if (kind === 'TUN') return tunnel ? { kind, tunnel } : { kind };
  const first = s.args[1];
  if (tunnel && first)
    r.sink.notice(
      'no-effect',
      `tunnel options after ${kind} have no effect; lvsd ignores them`,
      first.at,
      `they apply to ${TUNNEL_SYNTAX}`,
    );
  return { kind };
}

/** The tunnel options after the method word, or undefined after the first bad one. */
function tunnelOptions(s: Statement, r: Reader): TunnelSpec | undefined {
  const t: Mutable<TunnelSpec> = { type: 'ipip' };
  const opts = s.args;
  for (let i = 1; i < opts.length; i++) {
    const o = opts[i];
    if (!o) break;
    if (o.text === 'type' || o.text === 'port') {
      const v = opts[++i];
      if (!v) {
        const what = o.text === 'type' ? 'ipip, gue or gre' : 'a port number';
        r.sink.warning('missing-value', `${s.keyword.text}: '${o.text}' needs ${what}`, o.at);
        return undefined;
      }
      if (o.text === 'port') {
        const port = r.number(v, 1, 65535, true, 'gue tunnel port');
        if (port === undefined) return undefined;
        t.port = port;
      } else if (v.text === 'ipip' || v.text === 'gue' || v.text === 'gre') t.type = v.text;
      else {
        const ci = ['ipip', 'gue', 'gre'].find((k) => k === v.text.toLowerCase());
        r.sink.warning(
          'bad-value',
          `unknown tunnel type '${v.text}'`,
          v.at,
          ci ? `values are case-sensitive: did you mean ${ci}?` : 'use ipip, gue or gre',
        );
        return undefined;
      }
    } else if (o.text === 'nocsum' || o.text === 'csum' || o.text === 'remcsum') {
      delete t.nocsum;
      delete t.csum;
      delete t.remcsum;
      t[o.text] = true;
    } else {
      r.sink.warning(
        'bad-value',
        `unknown tunnel option '${o.text}'`,
        o.at,
        `the options are ${TUNNEL_SYNTAX}`,
      );
      return undefined;
    }
  }
  const at = s.keyword.at;
  if (t.type === 'gue' && t.port === undefined) {
    r.sink.warning('missing-value', 'a gue tunnel needs a port', at, 'e.g. TUN type gue port 6080');
    return undefined;
  }
  if (t.type !== 'gue' && t.port !== undefined) {
    r.sink.warning(
      'bad-value',
      `only a gue tunnel takes a port (this one is ${t.type})`,
      at,
      'add type gue, or drop the port',
    );
    return undefined;
  }
  if (t.type === 'ipip' && (t.csum || t.remcsum)) {
    r.sink.warning(
      'bad-value',
      'an ipip tunnel takes no checksum option',
      at,
      'csum and remcsum are for gue (and csum for gre)',
    );
    return undefined;
  }
  if (t.type === 'gre' && t.remcsum) {
    r.sink.warning('bad-value', 'a gre tunnel does not support remcsum', at, 'use csum or nocsum');
    return undefined;
  }
  return t;
}

export function buildVirtualServerGroup(st: Statement, r: Reader): VirtualServerGroup | undefined {
  const name = st.args[0];
  if (!name) {
    r.sink.warning('missing-value', 'virtual_server_group needs a name', st.keyword.at);
    return undefined;
  }
  const entries: VirtualServerGroupEntry[] = [];
  for (const s of r.body(st)) {
    if (s.keyword.text === 'fwmark') {
      const n = r.uint(s, 1, 4294967295);
      if (n !== undefined) entries.push({ kind: 'fwmark', fwmark: n, at: s.keyword.at });
      continue;
    }
    // ADDR[-LAST] PORT: a range replaces the address's last part.
    const text = s.keyword.text;
    const dash = text.lastIndexOf('-');
    const addrText = dash > 0 ? text.slice(0, dash) : text;
    const rangeEnd = dash > 0 ? text.slice(dash + 1) : undefined;
    const family = addressFamily(addrText);
    const pw = s.args[0];
    const port =
      pw && /^\d+$/.test(pw.text) && Number(pw.text) <= 65535 ? Number(pw.text) : undefined;
    const endOk =
      rangeEnd === undefined ||
      (family === 4
        ? /^\d{1,3}$/.test(rangeEnd) && Number(rangeEnd) <= 255
        : /^[0-9a-fA-F]{1,4}$/.test(rangeEnd));
    if (!family || !endOk || (pw && port === undefined)) {
      r.sink.warning(
        'bad-address',
        `invalid virtual_server_group entry '${[text, ...s.args.map((a) => a.text)].join(' ')}'`,
        s.keyword.at,
        'write ADDRESS[-LAST] PORT or fwmark N',
      );
      continue;
    }
    entries.push({
      kind: 'range',
      address: addrText,
      family,
      ...(rangeEnd === undefined ? {} : { rangeEnd }),
      ...(port === undefined ? {} : { port }),
      at: s.keyword.at,
    });
  }
  return { name: name.text, entries, at: st.keyword.at };
}
