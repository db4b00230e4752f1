/** HTTP_GET, SSL_GET, TCP_CHECK, MISC_CHECK and the checkers lvsd recognises but does not run. */
import type { BlockName } from './keywords.js';
import type {
  CheckerCommon,
  Checker,
  HttpCheck,
  HttpUrl,
  MiscCheck,
  TcpCheck,
  UnsupportedCheck,
} from './model.js';
import type { Statement } from './tree.js';
import type { Reader } from './values.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export const unsupportedCheckers = new Set<UnsupportedCheck['kind']>([
  'SMTP_CHECK',
  'DNS_CHECK',
  'BFD_CHECK',
  'PING_CHECK',
  'UDP_CHECK',
  'FILE_CHECK',
]);

export function isCheckerKeyword(word: string): boolean {
  return (
    word === 'HTTP_GET' ||
    word === 'SSL_GET' ||
    word === 'TCP_CHECK' ||
    word === 'MISC_CHECK' ||
    unsupportedCheckers.has(word as UnsupportedCheck['kind'])
  );
}

export function buildChecker(st: Statement, r: Reader): Checker | undefined {
  const kind = st.keyword.text;
  if (kind === 'HTTP_GET' || kind === 'SSL_GET') return buildHttp(st, r, kind);
  if (kind === 'TCP_CHECK') return buildTcp(st, r);
  if (kind === 'MISC_CHECK') return buildMisc(st, r);
  r.sink.warning(
    'not-supported',
    `${kind} is not supported by lvsd yet: this real server would not be checked`,
    st.keyword.at,
    'use HTTP_GET, SSL_GET, TCP_CHECK or MISC_CHECK',
  );
  return { kind: kind as UnsupportedCheck['kind'], at: st.keyword.at };
}

/** Keywords every checker takes; returns false when the keyword is not one of them. */
function common(s: Statement, c: Mutable<CheckerCommon>, r: Reader): boolean {
  switch (s.keyword.text) {
    case 'connect_ip': {
      const w = r.arg(s, 0, 'an IP address');
      const a = w && r.address(w, 'connect_ip address');
      if (a) c.connectIp = a.address;
      return true;
    }
    case 'connect_port':
      setIf(c, 'connectPort', r.uint(s, 1, 65535));
      return true;
    case 'bindto': {
      const w = r.arg(s, 0, 'an IP address');
      const a = w && r.address(w, 'bindto address');
      if (a) c.bindto = a.address;
      return true;
    }
    case 'bind_port':
      setIf(c, 'bindPort', r.uint(s, 1, 65535));
      return true;
    case 'bind_if':
      setIf(c, 'bindIf', r.word(s, 'an interface name'));
      return true;
    case 'connect_timeout':
      setIf(c, 'connectTimeoutMs', r.timer(s, 0.000001));
      return true;
    case 'fwmark':
      setIf(c, 'fwmark', r.uint(s, 0, 4294967295));
      return true;
    case 'retry':
      setIf(c, 'retry', r.uint(s, 0, 2147483647));
      return true;
    case 'delay_before_retry':
      setIf(c, 'delayBeforeRetryMs', r.timer(s));
      return true;
    case 'warmup':
      setIf(c, 'warmupMs', r.timer(s));
      return true;
    case 'delay_loop':
      setIf(c, 'delayLoopMs', r.timer(s, 0.000001));
      return true;
    case 'alpha':
      setIf(c, 'alpha', r.bool(s));
      return true;
    case 'log_all_failures':
      setIf(c, 'logAllFailures', r.bool(s));
      return true;
    case 'rise':
      setIf(c, 'rise', r.uint(s, 1, 1000));
      return true;
    case 'fall':
      setIf(c, 'fall', r.uint(s, 1, 1000));
      return true;
    default:
      return false;
  }
}

function buildHttp(st: Statement, r: Reader, kind: 'HTTP_GET' | 'SSL_GET'): HttpCheck | undefined {
  // The timing fields nearly every checker sets are in the literal (see model.ts).
  const c: Mutable<HttpCheck> = {
    kind,
    connectTimeoutMs: undefined,
    retry: undefined,
    delayBeforeRetryMs: undefined,
    urls: [],
    at: st.keyword.at,
  };
  const urls: HttpUrl[] = [];
  for (const s of r.body(st)) {
    if (common(s, c, r)) continue;
    switch (s.keyword.text) {
      case 'url': {
        const u = buildUrl(s, r, kind);
        if (u) urls.push(u);
        break;
      }
      case 'virtualhost':
        setIf(c, 'virtualhost', r.word(s, 'a host name'));
        break;
      case 'nb_get_retry':
        r.sink.warning(
          'deprecated',
          "nb_get_retry is deprecated: use 'retry'",
          s.keyword.at,
          'rename it to retry; the meaning is the same',
        );
        setIf(c, 'retry', r.uint(s, 0, 2147483647));
        break;
      case 'enable_sni':
        setIf(c, 'enableSni', r.bool(s));
        break;
      case 'fast_recovery':
        setIf(c, 'fastRecovery', r.bool(s));
        break;
      case 'http_protocol':
        setIf(c, 'httpProtocol', r.oneOf(s, ['1.0', '1.1', '1.0C', '1.0K'], 'HTTP protocol'));
        break;
      case 'tls_compliant':
        r.bool(s);
        break;
      case 'max_body_bytes':
        setIf(c, 'maxBodyBytes', r.uint(s, 1, 1 << 30));
        break;
      case 'tls_verify':
        setIf(c, 'tlsVerify', r.bool(s));
        break;
      default:
        r.unknown(s, blockOf(kind), kind);
    }
  }
  c.urls = exact(urls);
  if (c.urls.length === 0) {
    r.sink.warning(
      'missing-required',
      `${kind} has no url with a path; the checker is ignored`,
      st.keyword.at,
      'add url { path /health }',
    );
    return undefined;
  }
  return c;
}

function blockOf(kind: string): BlockName {
  return kind === 'SSL_GET' ? 'HTTP_GET' : (kind as BlockName);
}

function buildUrl(st: Statement, r: Reader, kind: string): HttpUrl | undefined {
  const u: Mutable<HttpUrl> = {
    path: undefined,
    statusCodes: [],
    regexNoMatch: false,
    at: st.keyword.at,
  };
  const codes: [number, number][] = [];
  for (const s of r.body(st, 'url')) {
    switch (s.keyword.text) {
      case 'path': {
        // One word: `url { path /health status_code 200 }` on one line would otherwise make the
        // path "/health status_code 200" and every check fail.
        const path = r.word(s, 'a URL path');
        if (path !== undefined) u.path = r.shared(path);
        break;
      }
      case 'digest': {
        const d = r.word(s, 'an MD5 digest');
        if (d === undefined) break;
        if (!/^[0-9a-fA-F]{32}$/.test(d)) {
          r.sink.warning(
            'bad-value',
            `invalid digest '${d}': an MD5 digest is 32 hexadecimal digits`,
            s.args[0]?.at ?? s.keyword.at,
            'compute it with: curl -s URL | md5sum',
          );
          break;
        }
        u.digest = d.toLowerCase();
        break;
      }
      case 'status_code':
        r.noBlock(s);
        if (s.args.length === 0) r.arg(s, 0, 'a status code or range');
        for (const w of s.args) {
          const m = /^(\d{3})(?:-(\d{3}))?$/.exec(w.text);
          const lo = m ? Number(m[1]) : NaN;
          const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
          if (!m || lo < 100 || hi > 599 || hi < lo) {
            r.sink.warning(
              'bad-status-code',
              `invalid ${kind} status code '${w.text}'`,
              w.at,
              'use a code (200) or a range (200-299) between 100 and 599',
            );
            continue;
          }
          codes.push([lo, hi]);
        }
        break;
      case 'virtualhost':
        setIf(u, 'virtualhost', r.word(s, 'a host name'));
        break;
      case 'regex':
        setIf(u, 'regex', r.script(s, false)?.command);
        r.sink.warning(
          'not-supported',
          'url regex is not supported by lvsd yet; the body is not matched',
          s.keyword.at,
          'use digest, or a MISC_CHECK',
        );
        break;
      case 'regex_no_match':
        u.regexNoMatch = r.bool(s) ?? false;
        break;
      case 'regex_options':
      case 'regex_stack':
      case 'regex_min_offset':
      case 'regex_max_offset':
        r.noBlock(s);
        break;
      default:
        r.unknown(s, 'url', 'url');
    }
  }
  const [only] = codes;
  u.statusCodes = codes.length === 1 && only ? r.sharedCodeList(only[0], only[1]) : exact(codes);
  if (u.path === undefined) {
    r.sink.warning(
      'missing-required',
      'url has no path; it is ignored',
      st.keyword.at,
      'add path /health',
    );
    return undefined;
  }
  return u;
}

function buildTcp(st: Statement, r: Reader): TcpCheck {
  const c: Mutable<TcpCheck> = {
    kind: 'TCP_CHECK',
    connectTimeoutMs: undefined,
    retry: undefined,
    delayBeforeRetryMs: undefined,
    at: st.keyword.at,
  };
  for (const s of st.block?.statements ?? []) {
    if (common(s, c, r)) continue;
    switch (s.keyword.text) {
      case 'send':
        setIf(c, 'send', r.script(s, false)?.command);
        break;
      case 'expect':
        setIf(c, 'expect', r.script(s, false)?.command);
        break;
      default:
        r.unknown(s, 'TCP_CHECK', 'TCP_CHECK');
    }
  }
  return c;
}

function buildMisc(st: Statement, r: Reader): MiscCheck | undefined {
  const c: Mutable<MiscCheck> = { kind: 'MISC_CHECK', dynamic: false, at: st.keyword.at };
  for (const s of r.body(st)) {
    if (common(s, c, r)) continue;
    switch (s.keyword.text) {
      case 'misc_path':
        setIf(c, 'script', r.script(s, false));
        break;
      case 'misc_timeout':
        setIf(c, 'timeoutMs', r.timer(s, 0.000001));
        break;
      case 'misc_dynamic':
        c.dynamic = r.bool(s) ?? false;
        break;
      case 'user': {
        r.noBlock(s);
        const u = r.arg(s, 0, 'a user name');
        if (u) c.user = s.args[1] ? { user: u.text, group: s.args[1].text } : { user: u.text };
        break;
      }
      default:
        r.unknown(s, 'MISC_CHECK', 'MISC_CHECK');
    }
  }
  if (!c.script) {
    r.sink.warning(
      'missing-required',
      'MISC_CHECK has no misc_path; the checker is ignored',
      st.keyword.at,
      'add misc_path "/path/to/check args"',
    );
    return undefined;
  }
  return c;
}

export function setIf<T extends object, K extends keyof T>(
  obj: T,
  key: K,
  value: T[K] | undefined,
): void {
  if (value !== undefined) obj[key] = value;
}

/**
 * A list with no spare capacity. A list that grew by push() keeps room for 16 more elements, and
 * the model's lists (a real server's checkers, a checker's urls, a url's status codes) mostly
 * hold one or two: their spare room was a third of the model's memory on 10,000 real servers,
 * all of it copied by every scavenge. slice() allocates exactly the length.
 */
export function exact<T>(list: T[]): T[] {
  return list.length === 0 ? [] : list.slice();
}
