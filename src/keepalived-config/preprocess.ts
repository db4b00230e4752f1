/**
 * The preprocessor: turns a tree of files into one stream of logical lines, the way keepalived's
 * read_line() does: `include` families with globs (relative to the including file; cycle and
 * depth checked), `@ID` / `@^ID` conditional lines, `$NAME=value` parameters (multi-line with
 * `\`), `$NAME` / `${NAME}` substitution, predefined `${_PWD}` & co, and `~SEQ` / `~LST` lines.
 * Unlike keepalived, a UTF-8 BOM is skipped and long lines are never split.
 */
import { posix as path } from 'node:path';
import { decomment, decommentRaw, type LogicalLine } from './lexer.js';
import type { DiagnosticSink, SourcePosition } from './diagnostics.js';
import { expandBraces, globOne, hasMagic } from './glob.js';
import type { SourceReader } from './source.js';

export interface PreprocessOptions {
  readonly source: SourceReader;
  /** The config-id that `@ID` lines are compared with. */
  readonly configId: string;
  /** `${_INSTANCE}`. */
  readonly instance?: string;
  /** Source of `${_RANDOM}` values in [0, 1); injected so the parser stays deterministic in tests. */
  readonly random?: () => number;
  readonly maxIncludeDepth?: number;
}

interface IncludeChecks {
  readable: boolean;
  missing: boolean;
  wildcard: boolean;
  brace: boolean;
}

const NO_CHECKS: IncludeChecks = { readable: false, missing: false, wildcard: false, brace: false };
const INCLUDE_RE = /^(include[rmwba]?)[ \t]+(.*)$/;
const DEF_RE = /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
const SEQ_RE = /^~(SEQ|LST)\(([^)]*)\)[ \t]*(.*)$/;
const MAX_SUBSTITUTION_DEPTH = 20;
const MAX_SEQUENCE_LINES = 100_000;

export interface PreprocessResult {
  /** Every file read, in order. */
  readonly files: string[];
}

/** Streams the logical lines to `onLine` as they are read: nothing holds the whole file. */
export function preprocess(
  mainFile: string,
  options: PreprocessOptions,
  sink: DiagnosticSink,
  onLine: (line: LogicalLine) => void,
): PreprocessResult {
  const pp = new Preprocessor(options, sink, onLine);
  pp.readFile(mainFile, undefined, 0, undefined);
  return { files: pp.files };
}

class Preprocessor {
  readonly files: string[] = [];
  private readonly vars = new Map<string, string>();
  private readonly stack: string[] = [];
  private defaultChecks: IncludeChecks = NO_CHECKS;
  private readonly maxDepth: number;

  constructor(
    private readonly opts: PreprocessOptions,
    private readonly sink: DiagnosticSink,
    private readonly onLine: (line: LogicalLine) => void,
  ) {
    this.maxDepth = opts.maxIncludeDepth ?? 32;
  }

  /** `display` is the name diagnostics use: as written in the include, or the main file's path. */
  readFile(
    file: string,
    from: SourcePosition | undefined,
    depth: number,
    checks: IncludeChecks | undefined,
  ): void {
    const res = this.opts.source.read(file);
    if (!res.ok) {
      if (!from) {
        this.sink.fatal(
          'file-missing',
          `cannot read configuration file ${file}: ${res.detail}`,
          undefined,
          res.reason === 'missing' ? 'check the path, or pass -f FILE' : undefined,
        );
        return;
      }
      const strict = res.reason !== 'missing' ? checks?.readable : checks?.missing;
      const msg = `included file ${file}: ${res.detail}`;
      if (strict) this.sink.security('include-unreadable', msg, from);
      else this.sink.notice('include-unreadable', msg, from);
      return;
    }
    const id = this.opts.source.identity(file);
    if (this.stack.includes(id)) {
      const msg = `${file} includes itself (include cycle: ${[...this.stack, id].map((f) => path.basename(f)).join(' -> ')}); skipped`;
      if (checks && (checks.missing || checks.readable))
        this.sink.security('include-cycle', msg, from);
      else
        this.sink.notice(
          'include-cycle',
          msg,
          from,
          'remove the include line that closes the cycle',
        );
      return;
    }
    if (depth > this.maxDepth) {
      this.sink.error(
        'include-depth',
        `includes nested deeper than ${this.maxDepth}; ${file} skipped`,
        from,
      );
      return;
    }
    this.files.push(file);
    this.stack.push(id);
    let text = res.text;
    if (text.charCodeAt(0) === 0xfeff) {
      text = text.slice(1);
      this.sink.notice(
        'bom-ignored',
        'UTF-8 byte order mark skipped (keepalived would read it as part of the first keyword)',
        { file, line: 1, col: 1 },
      );
    }
    this.readText(text, file, depth);
    this.stack.pop();
  }

  private readText(text: string, file: string, depth: number): void {
    // Lines are cut one at a time (not split into an array): on a large file the array of
    // every line outlived its use and made most of the garbage collector's work.
    const raw = new LineCursor(text);
    for (;;) {
      // Most lines are plain (`weight 1`): taken straight from the text with one slice.
      const plain = raw.nextPlain();
      if (plain === PLAIN_LINE) {
        this.onLine({ file, line: raw.lineNo, text: raw.body, colBase: raw.bodyCol });
        continue;
      }
      if (plain === BLANK_LINE) continue;
      let line = raw.next();
      if (line === undefined) break;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      const lineNo = raw.lineNo;
      // Hot path (every line of a 10,000-server file): no allocation unless the line needs it.
      const kept = SPECIAL_RE.test(line) ? this.decommented(line, file, lineNo) : line;
      const lead = leadingBlanks(kept);
      const body = lead === 0 ? kept.trimEnd() : kept.slice(lead).trimEnd();
      if (body === '') continue;
      const c0 = body.charCodeAt(0);
      // Only lines that start with i, @, $ or ~ can be includes, conditionals, definitions or
      // sequences; every other line goes straight on.
      if (c0 !== 105 /* i */ && c0 !== 64 /* @ */ && c0 !== 36 /* $ */ && c0 !== 126 /* ~ */) {
        this.emit(body, file, lineNo, lead + 1);
        continue;
      }
      const inc = c0 === 105 ? INCLUDE_RE.exec(body) : null;
      if (inc) {
        this.include(
          inc[1] ?? 'include',
          (inc[2] ?? '').trim(),
          file,
          { file, line: lineNo, col: lead + 1 },
          depth,
        );
        continue;
      }
      let rest = body;
      let col = lead + 1;
      if (rest.startsWith('@')) {
        const m = /^@(\^?)(\S*)[ \t]*/.exec(rest);
        if (!m) continue;
        const negate = m[1] === '^';
        const matches = m[2] === this.opts.configId;
        if (matches === negate) continue;
        col += m[0].length;
        rest = rest.slice(m[0].length);
        if (rest === '') continue;
      }
      const def = rest.startsWith('$') ? DEF_RE.exec(rest) : null;
      if (def) {
        this.define(def[1] ?? '', def[2] ?? '', raw, { file, line: lineNo, col });
        continue;
      }
      if (rest.startsWith('include_check')) this.noteIncludeCheck(rest);
      const seq = rest.startsWith('~') ? SEQ_RE.exec(rest) : null;
      if (seq) {
        this.sequence(seq, file, lineNo, col);
        continue;
      }
      this.emit(rest, file, lineNo, col);
    }
  }

  /** A raw line with a comment, an escape or a trailing backslash, as keepalived cuts it. */
  private decommented(line: string, file: string, lineNo: number): string {
    const dc = decommentRaw(line);
    if (dc.openQuote && quotesPairUp(dc.text)) {
      // The words pair their quotes up, so the tree will not report it; keepalived does.
      this.sink.warning(
        'unterminated-quote',
        `unterminated quote: ${dc.text.trim()}`,
        { file, line: lineNo, col: leadingBlanks(dc.text) + 1 },
        'a backslash takes the character after it along, so \\" does not close a quote; keepalived reports this line',
      );
    }
    return dc.text;
  }

  private include(
    kind: string,
    spec: string,
    file: string,
    at: SourcePosition,
    depth: number,
  ): void {
    const checks = this.checksFor(kind);
    const pattern = spec.replace(/^"(.*)"$/, '$1');
    if (pattern === '') {
      this.sink.warning('missing-value', `${kind} needs a file name or pattern`, at);
      return;
    }
    const dir = path.dirname(file);
    let any = false;
    for (const alt of expandBraces(pattern)) {
      const abs = path.isAbsolute(alt) ? alt : path.join(dir, alt);
      const matches = globOne(abs, this.opts.source);
      if (matches.length === 0) {
        const magic = hasMagic(alt);
        const strict = magic
          ? checks.wildcard
          : checks.missing || (checks.brace && alt !== pattern);
        const msg = magic
          ? `include pattern '${alt}' matched no file`
          : `included file '${alt}' does not exist`;
        if (strict)
          this.sink.security(
            'include-missing',
            msg,
            at,
            'fix the path, or use plain "include" if the file is optional',
          );
        else if (!(checks.brace && alt !== pattern)) this.sink.notice('include-missing', msg, at);
        continue;
      }
      any = true;
      for (const m of matches) this.readFile(m, at, depth + 1, checks);
    }
    if (!any && checks.brace && pattern.includes('{')) {
      this.sink.security(
        'include-brace-unmatched',
        `no alternative of '${pattern}' matched a file`,
        at,
      );
    }
  }

  private checksFor(kind: string): IncludeChecks {
    switch (kind) {
      case 'includer':
        return { ...NO_CHECKS, readable: true };
      case 'includem':
        return { ...NO_CHECKS, readable: true, missing: true };
      case 'includew':
        return { readable: true, missing: true, wildcard: true, brace: false };
      case 'includeb':
        return { readable: true, missing: true, wildcard: false, brace: true };
      case 'includea':
        return { readable: true, missing: true, wildcard: true, brace: true };
      default:
        return this.defaultChecks;
    }
  }

  /** `include_check [readable|missing|wildcard|brace|all]...` changes the checks of later includes. */
  private noteIncludeCheck(line: string): void {
    const words = line.split(/[ \t]+/).slice(1);
    if (words.length === 0) {
      this.defaultChecks = { readable: true, missing: true, wildcard: true, brace: true };
      return;
    }
    const c: IncludeChecks = { ...NO_CHECKS };
    for (const w of words) {
      if (w === 'all')
        Object.assign(c, { readable: true, missing: true, wildcard: true, brace: true });
      else if (w === 'readable' || w === 'missing' || w === 'wildcard' || w === 'brace')
        c[w] = true;
    }
    this.defaultChecks = c;
  }

  /** Handles a `$NAME=value` definition; returns the index of its last raw line. */
  private define(name: string, value: string, raw: LineCursor, at: SourcePosition): void {
    let v = value.trimEnd();
    if (v !== '' && !v.endsWith('\\')) {
      this.vars.set(name, v);
      return;
    }
    // Multi-line: lines end with `\` until one doesn't. keepalived keeps them as separate lines.
    const parts: string[] = [];
    let more = true;
    if (v.endsWith('\\')) {
      parts.push(v.slice(0, -1).trim());
    }
    for (;;) {
      if (!more) break;
      const got = raw.next();
      if (got === undefined) break;
      let next = got.replace(/\r$/, '');
      next = decommentRaw(next).text.trim();
      if (next.endsWith('\\')) next = next.slice(0, -1).trim();
      else more = false;
      parts.push(next);
    }
    if (more)
      this.sink.warning(
        'variable-bad-definition',
        `multi-line definition of $${name} runs to the end of the file`,
        at,
      );
    v = parts.filter((p) => p !== '').join('\n');
    this.vars.set(name, v);
  }

  private sequence(m: RegExpExecArray, file: string, line: number, col: number): void {
    const kind = m[1];
    const args = (m[2] ?? '').split(',').map((s) => s.trim());
    const rest = m[3] ?? '';
    const at = { file, line, col };
    const name = args[0] ?? '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || args.length < 2) {
      this.sink.warning(
        'sequence-bad',
        `~${kind}(${m[2] ?? ''}) needs a parameter name and values`,
        at,
      );
      return;
    }
    let values: string[];
    if (kind === 'LST') values = args.slice(1);
    else {
      const nums = args.slice(1).map(Number);
      if (nums.some((x) => !Number.isInteger(x))) {
        this.sink.warning(
          'sequence-bad',
          `~SEQ(${m[2] ?? ''}): start, step and end must be integers`,
          at,
        );
        return;
      }
      const [start, step, end] =
        nums.length === 1
          ? [1, 1, nums[0] ?? 0]
          : nums.length === 2
            ? [nums[0] ?? 0, 1, nums[1] ?? 0]
            : [nums[0] ?? 0, nums[1] ?? 1, nums[2] ?? 0];
      if (step === 0 || Math.abs((end - start) / step) > MAX_SEQUENCE_LINES) {
        this.sink.warning(
          'sequence-bad',
          `~SEQ(${m[2] ?? ''}) would repeat too many times (limit ${MAX_SEQUENCE_LINES})`,
          at,
        );
        return;
      }
      values = [];
      for (let x = start; step > 0 ? x <= end : x >= end; x += step) values.push(String(x));
    }
    const saved = this.vars.get(name);
    for (const v of values) {
      this.vars.set(name, v);
      this.emit(rest, file, line, col + m[0].length - rest.length);
    }
    if (saved === undefined) this.vars.delete(name);
    else this.vars.set(name, saved);
  }

  /** Substitutes parameters, removes comments (again) and pushes the resulting line(s). */
  private emit(text: string, file: string, line: number, col: number): void {
    if (!text.includes('$')) {
      if (!text.includes('\\')) {
        // Comments were cut already; without an escape there is nothing left to undo.
        this.onLine({ file, line, text, colBase: col });
        return;
      }
      const dc = decomment(text, true);
      const t = dc.text.trimEnd();
      if (t === '') return;
      this.onLine(
        dc.map
          ? { file, line, text: t, colBase: col, colMap: dc.map.map((k) => col + k) }
          : { file, line, text: t, colBase: col },
      );
      return;
    }
    const sub = this.substitute(text, col, file, line, 0);
    // A multi-line parameter value becomes several lines, all at the line that used it.
    let start = 0;
    for (let k = 0; k <= sub.text.length; k++) {
      if (k < sub.text.length && sub.text[k] !== '\n') continue;
      const piece = sub.text.slice(start, k);
      const pieceCols = sub.cols.slice(start, k);
      start = k + 1;
      const dc = decomment(piece, true);
      const cols = dc.map ? dc.map.map((x) => pieceCols[x] ?? col) : pieceCols;
      const lead = leadingBlanks(dc.text);
      const t = dc.text.slice(lead).trimEnd();
      if (t === '') continue;
      this.onLine({
        file,
        line,
        text: t,
        colBase: cols[lead] ?? col,
        colMap: cols.slice(lead, lead + t.length),
      });
    }
  }

  private substitute(
    text: string,
    col: number,
    file: string,
    line: number,
    depth: number,
  ): { text: string; cols: number[] } {
    let out = '';
    const cols: number[] = [];
    const at = { file, line, col };
    for (let i = 0; i < text.length; i++) {
      const c = text.charAt(i);
      if (c !== '$') {
        out += c;
        cols.push(col + i);
        continue;
      }
      let name: string | undefined;
      let args = '';
      let end = i;
      if (text[i + 1] === '{') {
        const close = text.indexOf('}', i + 2);
        if (close > 0) {
          const inner = text.slice(i + 2, close).trim();
          const sp = inner.search(/[ \t]/);
          name = sp < 0 ? inner : inner.slice(0, sp);
          args = sp < 0 ? '' : inner.slice(sp + 1).trim();
          end = close;
        }
      } else {
        const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
        const after = m ? text[i + 1 + m[0].length] : undefined;
        if (
          m &&
          (after === undefined || after === ' ' || after === '\t' || after === ',' || after === ')')
        ) {
          name = m[0];
          end = i + m[0].length;
        }
      }
      const value = name === undefined ? undefined : this.lookup(name, args, file);
      if (value === undefined) {
        if (name !== undefined && !name.startsWith('_')) {
          this.sink.notice(
            'variable-undefined',
            `parameter $${name} is not defined; kept as written`,
            { ...at, col: col + i },
          );
        }
        out += c;
        cols.push(col + i);
        continue;
      }
      let expanded = value;
      if (value.includes('$')) {
        if (depth >= MAX_SUBSTITUTION_DEPTH) {
          this.sink.warning(
            'variable-recursion',
            `parameter $${name ?? ''} expands into itself (more than ${MAX_SUBSTITUTION_DEPTH} levels)`,
            { ...at, col: col + i },
          );
        } else expanded = this.substitute(value, col + i, file, line, depth + 1).text;
      }
      out += expanded;
      for (let k = 0; k < expanded.length; k++) cols.push(col + i);
      i = end;
    }
    return { text: out, cols };
  }

  private lookup(name: string, args: string, file: string): string | undefined {
    switch (name) {
      case '_PWD':
        return path.dirname(file);
      case '_INSTANCE':
        return this.opts.instance ?? '';
      case '_HASH':
        return '\\#';
      case '_BANG':
        return '\\!';
      case '_RANDOM': {
        const [lo, hi] = args
          .split(/[ \t]+/)
          .filter(Boolean)
          .map(Number);
        const min = Number.isFinite(lo) ? (lo ?? 0) : 0;
        const max = Number.isFinite(hi) ? (hi ?? 32767) : 32767;
        const r = this.opts.random ? this.opts.random() : 0;
        return String(Math.floor(min + r * (max - min + 1)));
      }
      default:
        return this.vars.get(name);
    }
  }
}

/** The characters that make a line need readText()'s general path. */
const SPECIALS = ['#', '!', '$', '\\'];
/** nextPlain() results. */
const NOT_PLAIN = 0;
const BLANK_LINE = 1;
const PLAIN_LINE = 2;

/** Hands out a text's lines one by one, counting them. */
class LineCursor {
  private pos = 0;
  lineNo = 0;
  /** After nextPlain() returned PLAIN_LINE: the line without its blanks, and its column. */
  body = '';
  bodyCol = 0;
  /**
   * Where the next `#`, `!`, `$` and `\\` are, each at or after some earlier position (the
   * text's length if there is none). Each is searched for again only once passed, so the
   * searches cover the text once per character, whatever the file's mix of lines.
   */
  private readonly specials = [-1, -1, -1, -1];
  constructor(private readonly text: string) {}

  private nextSpecial(from: number): number {
    const sp = this.specials;
    let first = this.text.length;
    for (let k = 0; k < 4; k++) {
      let at = sp[k] ?? -1;
      if (at < from) {
        at = this.text.indexOf(SPECIALS[k] ?? '', from);
        if (at < 0) at = this.text.length;
        sp[k] = at;
      }
      if (at < first) first = at;
    }
    return first;
  }

  /**
   * Takes the next line if nothing in it needs the preprocessor: no comment, escape or `$`, not
   * a line that could be an include, conditional, definition or sequence (first character i, @,
   * $ or ~), and nothing at its end that trimEnd() would cut other than spaces, tabs and CR.
   * Such a line becomes one slice of the text; readText()'s general path (two slices and five
   * scans a line) would give the same text and column. Returns NOT_PLAIN, leaving the line for
   * next(), otherwise BLANK_LINE or PLAIN_LINE (with body and bodyCol set).
   */
  nextPlain(): number {
    const text = this.text;
    const from = this.pos;
    const n = text.length;
    if (from >= n) return NOT_PLAIN; // the end (or a last empty line): next() handles it
    let nl = text.indexOf('\n', from);
    if (nl < 0) nl = n;
    if (this.nextSpecial(from) < nl) return NOT_PLAIN;
    let start = from;
    let c = text.charCodeAt(start);
    while (c === 32 || c === 9) c = text.charCodeAt(++start);
    let end = nl;
    while (end > start) {
      const b = text.charCodeAt(end - 1);
      if (b !== 32 && b !== 9 && b !== 13) break;
      end--;
    }
    if (end > start) {
      if (c === 105 /* i */ || c === 64 /* @ */ || c === 126 /* ~ */) return NOT_PLAIN;
      // Characters other than ASCII (and VT, FF) may be white space to trimEnd().
      const cl = text.charCodeAt(end - 1);
      if (cl > 126 || cl === 11 || cl === 12) return NOT_PLAIN;
    }
    this.pos = nl + 1;
    this.lineNo++;
    if (end === start) return BLANK_LINE;
    this.body = text.slice(start, end);
    this.bodyCol = start - from + 1;
    return PLAIN_LINE;
  }

  next(): string | undefined {
    if (this.pos > this.text.length) return undefined;
    const nl = this.text.indexOf('\n', this.pos);
    const end = nl < 0 ? this.text.length : nl;
    const line = this.text.slice(this.pos, end);
    this.pos = end + 1;
    this.lineNo++;
    return line;
  }
}

function leadingBlanks(s: string): number {
  let i = 0;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

/** What decommenting acts on: comment characters and backslashes. */
const SPECIAL_RE = /[#!\\]/;

/** Whether a line's `"`s pair up, as the word splitter reads them (no escapes). */
function quotesPairUp(text: string): boolean {
  let n = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) n++;
  return n % 2 === 0;
}
