/**
 * Value readers shared by the block builders. Each takes a statement, checks its words and
 * returns the value, or reports a diagnostic (with keepalived's wording where it helps people
 * who know keepalived's messages) and returns undefined. Nothing here throws.
 */
import { parsePrefix } from './address.js';
import type { DiagnosticSink, SourcePosition } from './diagnostics.js';
import { blocksWithKeyword, keywords, type BlockName } from './keywords.js';
import { splitShellWords, TRAILING_BACKSLASH_HINT } from './lexer.js';
import type { ScriptSpec } from './model.js';
import type { Statement, Word } from './tree.js';

const BOOL_TRUE = new Set(['on', 'true', 'yes']);
const BOOL_FALSE = new Set(['off', 'false', 'no']);

export class Reader {
  constructor(readonly sink: DiagnosticSink) {}

  /**
   * Values that thousands of blocks of one file repeat (a url's path, its status code) are
   * kept once: the model of a 10,000-server file holds them for as long as it lives, and each
   * copy is one more object for the garbage collector to move. Nothing writes to model values.
   */
  private readonly texts = new Map<string, string>();
  private readonly codeLists = new Map<number, [number, number][]>();

  /** The one copy of a text (see above). */
  shared(text: string): string {
    const known = this.texts.get(text);
    if (known !== undefined) return known;
    this.texts.set(text, text);
    return text;
  }

  /** The one list holding just the status code range [lo, hi] (see above). */
  sharedCodeList(lo: number, hi: number): [number, number][] {
    const key = lo * 1000 + hi;
    let list = this.codeLists.get(key);
    if (!list) {
      list = [[lo, hi]];
      this.codeLists.set(key, list);
    }
    return list;
  }

  /** The statements of a keyword's block; warns when the block is missing. */
  body(st: Statement, what = st.keyword.text): Statement[] {
    if (!st.block) {
      this.sink.warning('missing-value', `${what} needs a { ... } block`, st.keyword.at);
      return [];
    }
    return st.block.statements;
  }

  /** For keywords that take no block: report a block given anyway. */
  noBlock(st: Statement): void {
    if (st.block) {
      this.sink.warning(
        'unexpected-open-brace',
        `'${st.keyword.text}' takes no { ... } block; the block is ignored`,
        st.block.open,
      );
    }
  }

  unknown(st: Statement, block: BlockName, where: string): void {
    const word = st.keyword.text;
    const hint = keywordHint(word, block);
    if (st.block) {
      this.sink.warning(
        'unknown-block',
        `unknown keyword '${word}' in ${where}; its block is skipped`,
        st.keyword.at,
        hint,
      );
    } else {
      this.sink.warning(
        'unknown-keyword',
        `unknown keyword '${word}' in ${where}`,
        st.keyword.at,
        hint,
      );
    }
  }

  arg(st: Statement, i = 0, what = 'a value'): Word | undefined {
    const w = st.args[i];
    if (!w) this.sink.warning('missing-value', `'${st.keyword.text}' needs ${what}`, st.keyword.at);
    return w;
  }

  noArgs(st: Statement): void {
    this.noBlock(st);
    const extra = st.args[0];
    if (extra)
      this.sink.warning(
        'extra-value',
        `'${st.keyword.text}' takes no value (got '${extra.text}')`,
        extra.at,
      );
  }

  maxArgs(st: Statement, n: number): void {
    const extra = st.args[n];
    if (extra) {
      this.sink.warning(
        'extra-value',
        `'${st.keyword.text}' takes ${n === 1 ? 'one value' : `${n} values`}; '${extra.text}' and what follows are ignored`,
        extra.at,
      );
    }
  }

  word(st: Statement, what = 'a value'): string | undefined {
    this.noBlock(st);
    const w = this.arg(st, 0, what);
    if (w) this.maxArgs(st, 1);
    return w?.text;
  }

  /** The rest of the line as one string (router_id "a b", notification_email_from). */
  text(st: Statement): string | undefined {
    this.noBlock(st);
    if (st.args.length === 0) return this.arg(st)?.text;
    return st.args.map((a) => a.text).join(' ');
  }

  /** `<BOOL>`: a bare keyword means true. */
  bool(st: Statement): boolean | undefined {
    this.noBlock(st);
    const w = st.args[0];
    if (!w) return true;
    this.maxArgs(st, 1);
    if (BOOL_TRUE.has(w.text)) return true;
    if (BOOL_FALSE.has(w.text)) return false;
    const lower = w.text.toLowerCase();
    const hint =
      BOOL_TRUE.has(lower) || BOOL_FALSE.has(lower)
        ? `values are case-sensitive: did you mean ${lower}?`
        : 'use on|off|true|false|yes|no';
    this.sink.warning('bad-value', `invalid value '${w.text}' for ${st.keyword.text}`, w.at, hint);
    return undefined;
  }

  uint(st: Statement, min: number, max: number, i = 0): number | undefined {
    if (i === 0) this.noBlock(st);
    const w = this.arg(st, i, 'a number');
    if (!w) return undefined;
    if (i === 0) this.maxArgs(st, 1);
    return this.number(w, min, max, true, st.keyword.text);
  }

  int(st: Statement, min: number, max: number, i = 0): number | undefined {
    if (i === 0) this.noBlock(st);
    const w = this.arg(st, i, 'a number');
    if (!w) return undefined;
    if (i === 0) this.maxArgs(st, 1);
    return this.number(w, min, max, false, st.keyword.text);
  }

  number(w: Word, min: number, max: number, unsigned: boolean, what: string): number | undefined {
    if (unsigned && /^-\d+$/.test(w.text)) {
      this.sink.warning(
        'bad-number',
        `${what}: negative number '${w.text}'`,
        w.at,
        `use a number from ${min} to ${max}`,
      );
      return undefined;
    }
    if (!/^[-+]?\d+$/.test(w.text)) {
      this.sink.warning(
        'bad-number',
        `${what}: '${w.text}' is not a whole number`,
        w.at,
        w.text.endsWith('\\') ? TRAILING_BACKSLASH_HINT : `use a number from ${min} to ${max}`,
      );
      return undefined;
    }
    const n = Number(w.text);
    if (n < min || n > max) {
      this.sink.warning(
        'out-of-range',
        `${what}: number '${w.text}' outside range [${min}, ${max}]`,
        w.at,
      );
      return undefined;
    }
    return n;
  }

  /** `<TIMER>`: seconds with up to six decimals, returned in milliseconds. */
  timer(st: Statement, minS = 0, maxS = 2_147_483, i = 0): number | undefined {
    if (i === 0) this.noBlock(st);
    const w = this.arg(st, i, 'a time in seconds');
    if (!w) return undefined;
    if (i === 0) this.maxArgs(st, 1);
    return this.timerWord(w, st.keyword.text, minS, maxS);
  }

  timerWord(w: Word, what: string, minS = 0, maxS = 2_147_483): number | undefined {
    if (!/^\d+(\.\d{1,6})?$/.test(w.text)) {
      const hint = /^\d+(\.\d+)?(ms|s)$/.test(w.text)
        ? 'times are plain seconds, without a unit: 0.5 for half a second'
        : w.text.endsWith('\\')
          ? TRAILING_BACKSLASH_HINT
          : 'a time is seconds, with up to 6 decimals';
      this.sink.warning('bad-number', `${what}: invalid time '${w.text}'`, w.at, hint);
      return undefined;
    }
    const s = Number(w.text);
    if (s < minS || s > maxS) {
      this.sink.warning(
        'out-of-range',
        `${what}: time '${w.text}' outside range [${minS}, ${maxS}] seconds`,
        w.at,
      );
      return undefined;
    }
    return Math.round(s * 1_000_000) / 1000;
  }

  /** A value from a fixed set; case mistakes get a hint (keepalived's values are case-sensitive). */
  oneOf<T extends string>(
    st: Statement,
    values: readonly T[],
    what: string,
    caseInsensitive = false,
  ): T | undefined {
    const w = this.word(st, what);
    if (w === undefined) return undefined;
    const found = values.find((v) =>
      caseInsensitive ? v.toLowerCase() === w.toLowerCase() : v === w,
    );
    if (found) return found;
    const ci = values.find((v) => v.toLowerCase() === w.toLowerCase());
    const hint = ci
      ? `values are case-sensitive: did you mean ${ci}?`
      : `use one of: ${values.join(', ')}`;
    this.sink.warning(
      'bad-value',
      `unknown ${what} '${w}' for ${st.keyword.text}`,
      st.args[0]?.at ?? st.keyword.at,
      hint,
    );
    return undefined;
  }

  address(w: Word, what: string): { address: string; family: 4 | 6 } | undefined {
    const p = parsePrefix(w.text);
    if (!p || p.prefix !== undefined) {
      this.sink.warning(
        'bad-address',
        `invalid ${what} '${w.text}'`,
        w.at,
        'write an IPv4 address like 198.18.0.10 or an IPv6 address like 2001:db8::10',
      );
      return undefined;
    }
    return { address: p.address, family: p.family };
  }

  port(w: Word, what: string): number | undefined {
    return this.number(w, 0, 65535, true, what);
  }

  /**
   * A script keyword, read shell-style as keepalived does: the first word is the command line
   * (itself split into argv), the following words are `user [group]` where `withUser` is set.
   * Arguments left outside the quotes are the classic mistake: warn about them.
   */
  script(st: Statement, withUser: boolean): ScriptSpec | undefined {
    this.noBlock(st);
    const { words, error } = splitShellWords(st.rest);
    if (error)
      this.sink.warning(
        'unterminated-quote',
        `${st.keyword.text}: ${error} quote in the command`,
        st.keyword.at,
      );
    const first = words[0];
    if (first === undefined || first === '') {
      this.sink.warning('missing-value', `'${st.keyword.text}' needs a command`, st.keyword.at);
      return undefined;
    }
    const argv = splitShellWords(first).words;
    const spec: { -readonly [K in keyof ScriptSpec]: ScriptSpec[K] } = {
      command: first,
      argv,
      at: st.args[0]?.at ?? st.keyword.at,
    };
    const extra = words.slice(1);
    const commandQuoted = /^["']/.test(st.rest.trimStart());
    if (extra.length > 0 && withUser && commandQuoted && extra.length <= 2) {
      // keepalived's documented form: "command line" [user [group]]
      spec.user = extra[0] ?? '';
      if (extra[1] !== undefined) spec.group = extra[1];
    } else if (extra.length > 0) {
      const quoted = `"${[first, ...extra].join(' ')}"`;
      if (
        withUser &&
        extra.length <= 2 &&
        !extra.some((w) => w.startsWith('-') || w.includes('/'))
      ) {
        spec.user = extra[0] ?? '';
        if (extra[1] !== undefined) spec.group = extra[1];
        this.sink.warning(
          'script-args',
          `${st.keyword.text}: '${extra.join(' ')}' after the command is read as the user (and group) to run it as, not as arguments`,
          st.args[1]?.at ?? st.keyword.at,
          `if they are arguments, quote the whole command line: ${st.keyword.text} ${quoted}`,
        );
      } else {
        this.sink.warning(
          'script-args',
          `${st.keyword.text}: '${extra.join(' ')}' outside the quotes is not passed to the command`,
          st.args[1]?.at ?? st.keyword.at,
          `quote the whole command line: ${st.keyword.text} ${quoted}`,
        );
      }
    }
    return spec;
  }
}

/** A hint for an unknown keyword: a case mistake, a keyword of another block, or a near miss. */
export function keywordHint(word: string, block: BlockName): string | undefined {
  if (word.endsWith('\\')) return TRAILING_BACKSLASH_HINT;
  if (/^tun_(type|port|nocsum|csum|remcsum)$/.test(word))
    return 'keepalived has no tun_* keywords: the tunnel goes on the method, lvs_method TUN type ipip|gue|gre [port N] [nocsum|csum|remcsum]';
  if (word === 'lb_kind' && block === 'real_server')
    return 'in a real_server keepalived knows only lvs_method (lb_kind is the virtual_server spelling)';
  const own = keywords[block];
  const ci = own.find((k) => k.toLowerCase() === word.toLowerCase());
  if (ci) return `keywords are case-sensitive: did you mean ${ci}?`;
  const elsewhere = blocksWithKeyword(word).filter((b) => b !== block && b !== 'top');
  if (elsewhere.length > 0)
    return `'${word}' belongs in ${elsewhere.map(blockLabel).join(' or ')}, not in ${blockLabel(block)}`;
  let best: string | undefined;
  let bestD = 3;
  for (const k of own) {
    const d = editDistance(word, k, bestD);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best ? `did you mean ${best}?` : undefined;
}

function blockLabel(b: BlockName): string {
  if (b === 'top') return 'the top level';
  if (b === 'HTTP_GET') return 'HTTP_GET/SSL_GET';
  return b;
}

/** Levenshtein distance, giving up once it exceeds `limit` (keeps hints cheap on long words). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= limit) return limit;
    prev = cur;
  }
  return prev[b.length] ?? limit;
}

export type { SourcePosition };
