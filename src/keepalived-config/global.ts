/** global_defs (keepalived/core/global_parser.c) and lvsd's own extension block. */
import { addressFamily } from './address.js';
import { setIf } from './checkers.js';
import { keywords } from './keywords.js';
import type {
  GlobalDefs,
  LvsdBlock,
  LvsdMaintenance,
  LvsdServerOptions,
  LvsdWebhook,
} from './model.js';
import type { SourcePosition } from './diagnostics.js';
import type { Statement } from './tree.js';
import type { Reader } from './values.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function emptyGlobalDefs(at: SourcePosition): GlobalDefs {
  return {
    notificationEmail: [],
    enableScriptSecurity: false,
    vrrpStrict: false,
    accepted: {},
    at,
  };
}

const globalKeywords = new Set(keywords.global_defs);

export function readGlobalDefs(st: Statement, r: Reader, g: Mutable<GlobalDefs>): void {
  for (const s of r.body(st)) {
    const kw = s.keyword.text;
    switch (kw) {
      case 'router_id': {
        const v = r.text(s);
        if (v !== undefined && v !== '') g.routerId = v;
        else r.sink.warning('missing-value', 'router_id name missing; ignored', s.keyword.at);
        break;
      }
      case 'notification_email':
        if (!s.block || s.block.statements.length === 0) {
          r.sink.warning('missing-value', 'notification_email block is empty', s.keyword.at);
        }
        for (const e of s.block?.statements ?? [])
          g.notificationEmail.push([e.keyword, ...e.args].map((w) => w.text).join(' '));
        break;
      case 'notification_email_from':
        setIf(g, 'notificationEmailFrom', r.text(s));
        break;
      case 'smtp_server': {
        r.noBlock(s);
        const host = r.arg(s, 0, 'an address');
        if (!host) break;
        const pw = s.args[1];
        const port = pw ? r.port(pw, 'smtp_server port') : 25;
        if (!addressFamily(host.text)) {
          r.sink.notice(
            'no-effect',
            `smtp_server '${host.text}' is a host name; lvsd does not send mail, so it is not resolved`,
            host.at,
          );
        }
        if (port !== undefined) g.smtpServer = { host: host.text, port };
        break;
      }
      case 'smtp_connect_timeout':
        setIf(g, 'smtpConnectTimeoutMs', r.timer(s, 0.000001));
        break;
      case 'enable_script_security':
      case 'script_security':
        r.noArgs(s);
        g.enableScriptSecurity = true;
        break;
      case 'script_user': {
        r.noBlock(s);
        const u = r.arg(s, 0, 'a user name');
        if (u)
          g.scriptUser = s.args[1]
            ? { user: u.text, group: s.args[1].text, at: u.at }
            : { user: u.text, at: u.at };
        r.maxArgs(s, 2);
        break;
      }
      case 'vrrp_strict':
        r.noArgs(s);
        g.vrrpStrict = true;
        break;
      case 'vrrp_version': {
        // The default `version` of every vrrp_instance (keepalived global_defs).
        const v = r.uint(s, 2, 3);
        if (v === 2 || v === 3) g.vrrpVersion = v;
        break;
      }
      case 'max_auto_priority':
        if (s.args.length === 0) g.maxAutoPriority = 99;
        else setIf(g, 'maxAutoPriority', r.int(s, -1, 99));
        break;
      case 'vrrp_garp_master_delay':
        setIf(g, 'vrrpGarpMasterDelayMs', r.timer(s, 0, 255));
        break;
      case 'vrrp_garp_master_repeat':
        setIf(g, 'vrrpGarpMasterRepeat', r.uint(s, 1, 255));
        break;
      case 'vrrp_garp_interval':
      case 'vrrp_gna_interval': {
        const ms = r.timer(s);
        if (ms === 0)
          r.sink.warning(
            'out-of-range',
            `${kw} 0 is invalid`,
            s.args[0]?.at ?? s.keyword.at,
            'use a positive interval, e.g. 0.001',
          );
        g.accepted[kw] = s.args.map((a) => a.text);
        break;
      }
      case 'lvs_sync_daemon': {
        r.noBlock(s);
        const ifc = r.arg(s, 0, 'an interface name');
        if (!ifc) break;
        const d: Mutable<NonNullable<GlobalDefs['lvsSyncDaemon']>> = {
          interface: ifc.text,
          at: s.keyword.at,
        };
        const rest = s.args.slice(1);
        let i = 0;
        if (rest[0] && !['id', 'maxlen', 'port', 'ttl', 'group'].includes(rest[0].text)) {
          d.instance = rest[0].text;
          i = 1;
        }
        for (; i < rest.length; i += 2) {
          const k = rest[i];
          const v = rest[i + 1];
          if (!k) break;
          if (!v) {
            r.sink.warning('missing-value', `lvs_sync_daemon: '${k.text}' needs a value`, k.at);
            break;
          }
          if (k.text === 'id') setIf(d, 'id', r.number(v, 0, 255, true, 'lvs_sync_daemon id'));
          else if (k.text === 'maxlen')
            setIf(d, 'maxlen', r.number(v, 1, 65507, true, 'lvs_sync_daemon maxlen'));
          else if (k.text === 'port')
            setIf(d, 'port', r.number(v, 1, 65535, true, 'lvs_sync_daemon port'));
          else if (k.text === 'ttl')
            setIf(d, 'ttl', r.number(v, 1, 255, true, 'lvs_sync_daemon ttl'));
          else if (k.text === 'group') d.group = v.text;
          else
            r.sink.warning(
              'bad-value',
              `lvs_sync_daemon: unknown option '${k.text}'`,
              k.at,
              'options are id, maxlen, port, ttl, group',
            );
        }
        g.lvsSyncDaemon = d;
        break;
      }
      case 'notify_fifo':
      case 'vrrp_notify_fifo':
      case 'lvs_notify_fifo': {
        const key =
          kw === 'notify_fifo'
            ? 'notifyFifo'
            : kw === 'vrrp_notify_fifo'
              ? 'vrrpNotifyFifo'
              : 'lvsNotifyFifo';
        const path = r.arg(s, 0, 'a FIFO path');
        if (path) g[key] = { ...g[key], path: path.text };
        break;
      }
      case 'notify_fifo_script':
      case 'vrrp_notify_fifo_script':
      case 'lvs_notify_fifo_script': {
        const key =
          kw === 'notify_fifo_script'
            ? 'notifyFifo'
            : kw === 'vrrp_notify_fifo_script'
              ? 'vrrpNotifyFifo'
              : 'lvsNotifyFifo';
        const script = r.script(s, true);
        if (script) g[key] = { path: g[key]?.path ?? '', script };
        break;
      }
      default:
        if (globalKeywords.has(kw)) {
          // keepalived settings for things lvsd does differently (SNMP, DBus, process
          // priorities, netlink buffers, …): accepted so keepalived's files stay clean.
          g.accepted[kw] = [s.keyword, ...s.args].slice(1).map((a) => a.text);
          continue;
        }
        r.unknown(s, 'global_defs', 'global_defs');
    }
  }
}

/**
 * lvsd's extension block (docs/config.md). keepalived does not know it (its lines are "Unknown
 * keyword" there): a file with it is an lvsd file. Keep keepalived.conf pure by putting the block
 * in a small lvsd file that includes it.
 */
export function buildLvsdBlock(
  st: Statement,
  r: Reader,
  into: Mutable<LvsdBlock> | undefined,
): LvsdBlock {
  const b: Mutable<LvsdBlock> = into ?? {
    webhooks: [],
    servers: [],
    replicationPeers: [],
    maintenance: [],
    at: st.keyword.at,
  };
  for (const s of r.body(st)) {
    switch (s.keyword.text) {
      case 'control_socket':
        setIf(b, 'controlSocket', absolutePath(s, r));
        break;
      case 'control_socket_ro':
        setIf(b, 'controlSocketReadOnly', absolutePath(s, r));
        break;
      case 'control_group':
        setIf(b, 'controlGroup', r.word(s, 'a group name'));
        break;
      case 'read_group':
        setIf(b, 'readGroup', r.word(s, 'a group name'));
        break;
      case 'state_dir':
        setIf(b, 'stateDir', absolutePath(s, r));
        break;
      case 'metrics_address': {
        const v = r.word(s, 'ADDRESS:PORT');
        if (v === undefined) break;
        if (!/^(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/.test(v) && v !== 'off') {
          r.sink.warning(
            'lvsd-block',
            `metrics_address '${v}' is not ADDRESS:PORT`,
            s.args[0]?.at,
            'e.g. 127.0.0.1:9405 or [::1]:9405, or off',
          );
          break;
        }
        b.metricsAddress = v;
        break;
      }
      case 'ipvs_driver':
        setIf(b, 'ipvsDriver', r.oneOf(s, ['ipvsadm', 'memory'], 'IPVS driver'));
        break;
      case 'timing':
        setIf(b, 'timingProfile', r.oneOf(s, ['keepalived', 'fast'], 'timing profile'));
        break;
      case 'key_file':
        setIf(b, 'keyFile', absolutePath(s, r));
        break;
      case 'on_failure':
        setIf(b, 'onFailure', r.oneOf(s, ['weight0', 'remove'], 'failure action'));
        break;
      case 'check_concurrency':
        setIf(b, 'checkConcurrency', r.uint(s, 1, 100000));
        break;
      case 'max_body_bytes':
        setIf(b, 'maxBodyBytes', r.uint(s, 1, 1 << 30));
        break;
      case 'replication_peer': {
        // One or more addresses per line; repeatable.
        for (const a of s.args) b.replicationPeers.push({ address: a.text, at: a.at });
        if (s.args.length === 0) r.word(s, 'ADDRESS');
        break;
      }
      case 'replication_port':
        setIf(b, 'replicationPort', r.uint(s, 1, 65535));
        break;
      case 'replication_listen':
        setIf(b, 'replicationListen', r.word(s, 'ADDRESS'));
        break;
      case 'restart_grace':
        setIf(b, 'restartGraceMs', r.timer(s, 0, 3600));
        break;
      case 'maintenance': {
        const m = buildMaintenance(s, r);
        if (m) b.maintenance.push(m);
        break;
      }
      case 'webhook': {
        const hook = buildWebhook(s, r);
        if (hook) b.webhooks.push(hook);
        break;
      }
      case 'server': {
        const opts = buildServerOptions(s, r);
        if (opts) b.servers.push(opts);
        break;
      }
      default:
        r.unknown(s, 'lvsd', 'lvsd');
    }
  }
  return b;
}

function absolutePath(s: Statement, r: Reader): string | undefined {
  const v = r.word(s, 'a path');
  if (v !== undefined && !v.startsWith('/')) {
    r.sink.warning(
      'lvsd-block',
      `${s.keyword.text} must be an absolute path (got '${v}')`,
      s.args[0]?.at,
    );
    return undefined;
  }
  return v;
}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90`, `90s`, `30m`, `2h`, `1h30m` → ms (as `lvsd maint --for`). */
function durationMs(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const re = /(\d+(?:\.\d+)?)([smhd])/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 0);
    end = re.lastIndex;
  }
  return end === text.length && total > 0 ? Math.round(total) : undefined;
}

function buildMaintenance(st: Statement, r: Reader): LvsdMaintenance | undefined {
  const [vs, rs] = st.args;
  if (!vs || !rs) {
    r.sink.warning(
      'lvsd-block',
      'maintenance needs a virtual server and a real server, as in lvsd status',
      st.keyword.at,
      'e.g. maintenance tcp:198.18.0.10:80 198.18.1.11:80 { at "0 3 * * 0"; for 30m; timezone UTC }',
    );
    return undefined;
  }
  const m: Mutable<LvsdMaintenance> = {
    virtualServer: vs.text,
    realServer: rs.text,
    at: st.keyword.at,
  };
  for (const s of r.body(st)) {
    switch (s.keyword.text) {
      case 'at':
        setIf(m, 'cron', r.text(s));
        break;
      case 'for': {
        const w = r.word(s, 'a duration');
        if (w === undefined) break;
        const d = durationMs(w);
        if (d === undefined)
          r.sink.warning(
            'lvsd-block',
            `'${w}' is not a duration`,
            s.args[0]?.at,
            'e.g. 90s, 30m, 2h, 1h30m',
          );
        else m.durationMs = d;
        break;
      }
      case 'timezone':
        setIf(m, 'timezone', r.word(s, 'an IANA time zone'));
        break;
      case 'reason':
        setIf(m, 'reason', r.text(s));
        break;
      default:
        r.sink.warning(
          'lvsd-block',
          `unknown keyword '${s.keyword.text}' in maintenance`,
          s.keyword.at,
          'maintenance takes at, for, timezone, reason',
        );
    }
  }
  if (m.cron === undefined || m.durationMs === undefined) {
    r.sink.warning(
      'lvsd-block',
      `maintenance ${vs.text} ${rs.text} needs at CRON and for DURATION; it is not scheduled`,
      st.keyword.at,
    );
    return undefined;
  }
  return m;
}

function buildWebhook(st: Statement, r: Reader): LvsdWebhook | undefined {
  const name = st.args[0];
  if (!name) {
    r.sink.warning('lvsd-block', 'webhook needs a name', st.keyword.at);
    return undefined;
  }
  const h: Mutable<LvsdWebhook> = { name: name.text, events: [], at: st.keyword.at };
  for (const s of r.body(st)) {
    switch (s.keyword.text) {
      case 'url': {
        const u = r.word(s, 'a URL');
        if (u !== undefined && !/^https?:\/\/\S+$/.test(u))
          r.sink.warning('lvsd-block', `webhook url '${u}' is not an http(s) URL`, s.args[0]?.at);
        else setIf(h, 'url', u);
        break;
      }
      case 'secret_file':
        setIf(h, 'secretFile', absolutePath(s, r));
        break;
      case 'timeout':
        setIf(h, 'timeoutMs', r.timer(s, 0.001, 300));
        break;
      case 'events':
        r.noBlock(s);
        h.events.push(...s.args.map((a) => a.text));
        break;
      default:
        r.sink.warning(
          'lvsd-block',
          `unknown keyword '${s.keyword.text}' in webhook ${h.name}`,
          s.keyword.at,
          'webhook takes url, secret_file, timeout, events',
        );
    }
  }
  if (!h.url) r.sink.warning('lvsd-block', `webhook ${h.name} has no url`, st.keyword.at);
  return h;
}

/** `server VS [RS] { rise N; fall N; slow_start T; remove_on_failure }`, names as in `lvsd status`. */
function buildServerOptions(st: Statement, r: Reader): LvsdServerOptions | undefined {
  const vs = st.args[0];
  if (!vs) {
    r.sink.warning(
      'lvsd-block',
      'server needs a virtual server name (tcp:ADDR:PORT, fwm:N, group:NAME) and optionally a real server ADDR:PORT',
      st.keyword.at,
    );
    return undefined;
  }
  const o: Mutable<LvsdServerOptions> = { virtualServer: vs.text, at: st.keyword.at };
  if (st.args[1]) o.realServer = st.args[1].text;
  for (const s of r.body(st)) {
    switch (s.keyword.text) {
      case 'rise':
        setIf(o, 'rise', r.uint(s, 1, 1000));
        break;
      case 'fall':
        setIf(o, 'fall', r.uint(s, 1, 1000));
        break;
      case 'slow_start':
        setIf(o, 'slowStartMs', r.timer(s));
        break;
      case 'remove_on_failure':
        setIf(o, 'removeOnFailure', r.bool(s));
        break;
      default:
        r.sink.warning(
          'lvsd-block',
          `unknown keyword '${s.keyword.text}' in server options`,
          s.keyword.at,
          'server takes rise, fall, slow_start, remove_on_failure',
        );
    }
  }
  return o;
}
