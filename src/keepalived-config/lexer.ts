/**
 * The lexical layer below the preprocessor: comment removal and splitting a line into words and
 * braces, with the column of every word. Follows keepalived's rules (lib/parser.c): `#` and `!`
 * outside double quotes end the line, `\#` and `\!` are literal, a word that starts with `"` runs
 * to the next `"`, and `{`/`}` outside quotes split the line.
 */

/** One line after preprocessing, with a way back to the columns of the original text. */
export interface LogicalLine {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  /** Column (1-based) of text[0] in the original line, when no substitution moved characters. */
  readonly colBase: number;
  /** Per-character original columns, present only when substitution or unescaping moved text. */
  readonly colMap?: readonly number[];
}

export function columnOf(l: LogicalLine, index: number): number {
  if (l.colMap) return l.colMap[Math.min(index, l.colMap.length - 1)] ?? l.colBase;
  return l.colBase + index;
}

export type Lexeme =
  | {
      readonly kind: 'word';
      readonly text: string;
      readonly quoted: boolean;
      readonly index: number;
    }
  | { readonly kind: 'open' | 'close'; readonly index: number };

export interface LexResult {
  readonly lexemes: Lexeme[];
  /** Index of an unterminated `"`, if any (the rest of the line is taken as the word). */
  readonly unterminatedQuoteAt?: number;
}

/**
 * Cuts a comment off a line. With `unescape`, `\#` and `\!` outside quotes become `#` and `!`;
 * without it they are kept escaped, so a later pass (after $ substitution) still sees them.
 * Returns the kept text and, if unescaping removed characters, the index map to the input.
 *
 * As keepalived's `decomment` (lib/parser.c), a backslash always takes the character after it
 * along: `\"` neither opens nor closes a quote and `\\#` is a backslash pair and a comment.
 * `openQuote` says a `"` was still open at the end of the line: keepalived reports
 * "Unterminated quote" then, even where the words themselves pair up (`"a \" b`).
 */
export function decomment(
  text: string,
  unescape: boolean,
): { text: string; map?: number[] | undefined; openQuote?: boolean } {
  // Fast path: most lines have no comment characters or escapes at all.
  if (!/[#!\\]/.test(text)) return { text };
  let inQuote = false;
  let out = '';
  let map: number[] | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '"') inQuote = !inQuote;
    else if (c === '\\' && i + 1 < text.length) {
      const next = text.charAt(i + 1);
      if (unescape && !inQuote && (next === '#' || next === '!')) {
        map ??= Array.from({ length: out.length }, (_, k) => k);
        out += next;
        map.push(i + 1);
      } else {
        out += c + next;
        map?.push(i, i + 1);
      }
      i++;
      continue;
    } else if (!inQuote && (c === '#' || c === '!')) break;
    out += c;
    map?.push(i);
  }
  const base = map ? { text: out, map } : { text: out };
  return inQuote ? { ...base, openQuote: true } : base;
}

/**
 * keepalived's one rule for a backslash that ends a raw line (lib/parser.c `decomment`): it
 * does not continue the line. It is taken off, the comment and the blanks before it are cut,
 * and it is put back at the end of what is left, so `# note \` becomes the line `\` (keepalived:
 * "Unknown keyword '\'") and `delay_loop 6 # note \` becomes `delay_loop 6\` ("invalid number
 * '6\'"). Only an odd run of backslashes ends the line this way (`\\` is a pair), and a blank
 * after it means it is not the last character. Only multi-line `$NAME=` definitions go on to
 * the next line when the result ends with `\`.
 */
export function trailingBackslash(line: string): boolean {
  let k = line.length;
  while (k > 0 && line.charCodeAt(k - 1) === 92 /* \ */) k--;
  return (line.length - k) % 2 === 1;
}

/** The text of a raw line after comment removal, with keepalived's trailing-backslash rule. */
export function decommentRaw(line: string): { text: string; openQuote?: boolean } {
  if (!trailingBackslash(line)) {
    if (!/[#!\\]/.test(line)) return { text: line };
    const dc = decomment(line, false);
    return dc.openQuote ? { text: dc.text, openQuote: true } : { text: dc.text };
  }
  const dc = decomment(line.slice(0, -1), false);
  const kept = trimBlanksEnd(dc.text);
  // A comment-only line leaves the backslash alone: keep it at its own column.
  const text = (kept.trim() === '' ? ' '.repeat(line.length - 1) : kept) + '\\';
  return dc.openQuote ? { text, openQuote: true } : { text };
}

/** Hint for a word that ends in the backslash a line ended with (see trailingBackslash). */
export const TRAILING_BACKSLASH_HINT =
  "a '\\' at the end of a line is kept, even after a comment: keepalived does not continue lines (only $NAME= definitions); remove it";

function trimBlanksEnd(s: string): string {
  let e = s.length;
  while (e > 0 && (s.charCodeAt(e - 1) === 32 || s.charCodeAt(e - 1) === 9)) e--;
  return s.slice(0, e);
}

/** Splits a decommented line into words and braces. */
export function lex(text: string): LexResult {
  const lexemes: Lexeme[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    if (c === 123 /* { */ || c === 125 /* } */) {
      lexemes.push({ kind: c === 123 ? 'open' : 'close', index: i });
      i++;
      continue;
    }
    if (c === 34 /* " */) {
      const close = text.indexOf('"', i + 1);
      if (close < 0) {
        lexemes.push({ kind: 'word', text: text.slice(i + 1), quoted: true, index: i });
        return { lexemes, unterminatedQuoteAt: i };
      }
      lexemes.push({ kind: 'word', text: text.slice(i + 1, close), quoted: true, index: i });
      i = close + 1;
      continue;
    }
    const start = i;
    while (i < n) {
      const d = text.charCodeAt(i);
      if (d === 32 || d === 9 || d === 123 || d === 125 || d === 34) break;
      i++;
    }
    lexemes.push({ kind: 'word', text: text.slice(start, i), quoted: false, index: start });
  }
  return { lexemes };
}

/**
 * Shell-style splitting of a script command line, as keepalived re-reads script keywords:
 * `"` and `'` quote, backslash escapes `\n \t \xHH \ooo \cC` and any other `\c` as `c`.
 * Returns the words, or an error message for an unterminated quote.
 */
export function splitShellWords(text: string): { words: string[]; error?: string } {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) {
        const { value, used } = unescapeAt(text, i + 1);
        cur += value;
        i += used;
      } else cur += c;
      continue;
    }
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '"' || c === "'") quote = c;
    else if (c === '\\' && i + 1 < text.length) {
      const { value, used } = unescapeAt(text, i + 1);
      cur += value;
      i += used;
    } else cur += c;
  }
  if (quote) return { words: inWord ? [...words, cur] : words, error: `unterminated ${quote}` };
  if (inWord) words.push(cur);
  return { words };
}

function unescapeAt(text: string, i: number): { value: string; used: number } {
  const c = text.charAt(i);
  switch (c) {
    case 'n':
      return { value: '\n', used: 1 };
    case 't':
      return { value: '\t', used: 1 };
    case 'r':
      return { value: '\r', used: 1 };
    case 'x': {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 1, i + 3));
      if (hex) return { value: String.fromCharCode(parseInt(hex[0], 16)), used: 1 + hex[0].length };
      return { value: 'x', used: 1 };
    }
    case 'c': {
      const next = text.charAt(i + 1);
      if (next)
        return { value: String.fromCharCode(next.toUpperCase().charCodeAt(0) ^ 64), used: 2 };
      return { value: 'c', used: 1 };
    }
    default: {
      const oct = /^[0-7]{1,3}/.exec(text.slice(i, i + 3));
      if (oct)
        return { value: String.fromCharCode(parseInt(oct[0], 8) & 255), used: oct[0].length };
      return { value: c, used: 1 };
    }
  }
}
