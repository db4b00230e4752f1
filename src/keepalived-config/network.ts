/** Address, route and rule lines: virtual_ipaddress, static_ipaddress, *_routes, *_rules. */
import { parsePrefix } from './address.js';
import type { IpAddressSpec, RouteSpec, RuleSpec } from './model.js';
import type { Statement, Word } from './tree.js';
import type { Reader } from './values.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ADDRESS_FLAGS = new Set([
  'no_track',
  'noprefixroute',
  'home',
  'nodad',
  'mngtmpaddr',
  'autojoin',
  '-',
]);
const ADDRESS_OPTIONS = new Set([
  'brd',
  'broadcast',
  'dev',
  'scope',
  'label',
  'peer',
  'preferred_lft',
  'valid_lft',
  'track_group',
]);

/** Words of one line inside an address/route/rule block (the "keyword" is the first word). */
function words(s: Statement): Word[] {
  return [s.keyword, ...s.args];
}

export function parseAddressLine(
  s: Statement,
  r: Reader,
  where: string,
): IpAddressSpec | undefined {
  r.noBlock(s);
  const [first, ...rest] = words(s);
  if (!first) return undefined;
  const p = parsePrefix(first.text);
  if (!p) {
    r.sink.warning(
      'bad-address',
      `${where}: invalid IP address '${first.text}'; skipped`,
      first.at,
      'write ADDRESS[/PREFIX] [dev IFACE], e.g. 198.18.0.10/24 dev eth0',
    );
    return undefined;
  }
  const a: Mutable<IpAddressSpec> = {
    address: p.address,
    family: p.family,
    noPrefixRoute: false,
    at: first.at,
  };
  if (p.prefix !== undefined) a.prefix = p.prefix;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    if (!w) continue;
    if (ADDRESS_FLAGS.has(w.text)) {
      if (w.text === 'noprefixroute') a.noPrefixRoute = true;
      continue;
    }
    if (!ADDRESS_OPTIONS.has(w.text)) {
      r.sink.warning(
        'bad-value',
        `${where}: unknown address option '${w.text}'`,
        w.at,
        'options are brd, dev, scope, label, peer, no_track, noprefixroute',
      );
      continue;
    }
    const v = rest[++i];
    if (!v) {
      r.sink.warning('missing-value', `${where}: '${w.text}' needs a value`, w.at);
      break;
    }
    if (w.text === 'dev') a.dev = v.text;
    else if (w.text === 'brd' || w.text === 'broadcast') a.broadcast = v.text;
    else if (w.text === 'scope') a.scope = v.text;
    else if (w.text === 'label') a.label = v.text;
  }
  return a;
}

const ROUTE_TYPES = new Set([
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'local',
  'broadcast',
  'unicast',
  'anycast',
  'multicast',
  'nat',
]);
const ROUTE_OPTIONS = new Set([
  'src',
  'via',
  'gw',
  'or',
  'dev',
  'oif',
  'scope',
  'table',
  'metric',
  'priority',
  'preference',
  'proto',
  'protocol',
  'realms',
  'mtu',
  'advmss',
  'rtt',
  'rttvar',
  'reordering',
  'window',
  'cwnd',
  'ssthresh',
  'initcwnd',
  'initrwnd',
  'features',
  'quickack',
  'congctl',
  'pref',
  'expires',
  'nexthop',
  'weight',
  'onlink',
  'encap',
  'fastopen_no_cookie',
  'ttl-propagate',
  'tos',
  'dsfield',
  'hoplimit',
  'rto_min',
  'lock',
]);

/**
 * A route line. keepalived tracks virtual routes by interface: one without `dev` cannot be
 * tracked (it warns), and `or` is the deprecated spelling of a multipath `nexthop`.
 */
export function parseRouteLine(s: Statement, r: Reader, virtual: boolean): RouteSpec | undefined {
  r.noBlock(s);
  const ws = words(s);
  const route: Mutable<RouteSpec> = { text: ws.map((w) => w.text).join(' '), at: s.keyword.at };
  let dest: string | undefined;
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i];
    if (!w) continue;
    if (ROUTE_TYPES.has(w.text) && dest === undefined) continue;
    if (ROUTE_OPTIONS.has(w.text)) {
      const v = ws[++i];
      if (w.text === 'or')
        r.sink.warning(
          'deprecated',
          '"or" for routes is deprecated: use "nexthop"',
          w.at,
          'write: nexthop via A nexthop via B',
        );
      if (!v) {
        r.sink.warning('missing-value', `route: '${w.text}' needs a value`, w.at);
        break;
      }
      if (w.text === 'dev' || w.text === 'oif') route.dev = v.text;
      if (
        (w.text === 'src' || w.text === 'via' || w.text === 'gw' || w.text === 'or') &&
        !parsePrefix(v.text)
      ) {
        r.sink.warning('bad-address', `route: invalid address '${v.text}'`, v.at);
      }
      continue;
    }
    if (dest === undefined) {
      dest = w.text;
      if (w.text !== 'default' && !parsePrefix(w.text)) {
        r.sink.warning(
          'bad-address',
          `route: invalid destination '${w.text}'`,
          w.at,
          'write PREFIX/LEN [via GW] [dev IFACE]',
        );
      }
      continue;
    }
    r.sink.warning('bad-value', `route: unknown option '${w.text}'`, w.at);
  }
  if (dest === undefined) r.sink.warning('missing-value', 'route has no destination', s.keyword.at);
  if (virtual && route.dev === undefined) {
    r.sink.warning(
      'missing-value',
      `cannot track route ${dest ?? ''} with no interface specified; not tracking it`,
      s.keyword.at,
      'add dev IFACE so the route moves with the instance',
    );
  }
  return route;
}

const RULE_OPTIONS = new Set([
  'from',
  'to',
  'table',
  'lookup',
  'preference',
  'prio',
  'priority',
  'fwmark',
  'iif',
  'oif',
  'tos',
  'dsfield',
  'realms',
  'goto',
  'suppress_prefixlength',
  'suppress_ifgroup',
  'uidrange',
  'l3mdev',
  'protocol',
  'ipproto',
  'sport',
  'dport',
  'no_track',
  'not',
  'nat',
]);
const RULE_FLAGS = new Set(['no_track', 'not', 'l3mdev']);

export function parseRuleLine(s: Statement, r: Reader): RuleSpec | undefined {
  r.noBlock(s);
  const ws = words(s);
  const rule: Mutable<RuleSpec> = { text: ws.map((w) => w.text).join(' '), at: s.keyword.at };
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i];
    if (!w) continue;
    if (RULE_FLAGS.has(w.text)) continue;
    if (!RULE_OPTIONS.has(w.text)) {
      r.sink.warning('bad-value', `rule: unknown option '${w.text}'`, w.at);
      continue;
    }
    const v = ws[++i];
    if (!v) {
      r.sink.warning('missing-value', `rule: '${w.text}' needs a value`, w.at);
      break;
    }
    if ((w.text === 'from' || w.text === 'to') && v.text !== 'all' && !parsePrefix(v.text)) {
      r.sink.warning('bad-address', `rule: invalid ${w.text} address '${v.text}'`, v.at);
    }
    if (w.text === 'preference' || w.text === 'prio' || w.text === 'priority') {
      const n = r.number(v, 0, 4294967295, true, `rule ${w.text}`);
      if (n !== undefined) rule.preference = n;
    }
  }
  if (rule.preference === undefined) {
    r.sink.warning(
      'default-applied',
      'rule has no preference; 16384 is used, which is probably not what you want',
      s.keyword.at,
      'add preference N (lower runs first)',
    );
  }
  return rule;
}
