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
 */
export function decomment(
  text: string,
  unescape: boolean,
): { text: string; map?: number[] | undefined } {
  // Fast path: most lines have no comment characters or escapes at all.
  if (!/[#!]/.test(text)) return { text };
  let inQuote = false;
  let out = '';
  let map: number[] | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '"') inQuote = !inQuote;
    else if (!inQuote && c === '\\' && (text[i + 1] === '#' || text[i + 1] === '!')) {
      if (unescape) {
        map ??= Array.from({ length: out.length }, (_, k) => k);
        out += text.charAt(i + 1);
        map.push(i + 1);
        i++;
        continue;
      }
      out += c + text.charAt(i + 1);
      map?.push(i, i + 1);
      i++;
      continue;
    } else if (!inQuote && (c === '#' || c === '!')) break;
    out += c;
    map?.push(i);
  }
  return map ? { text: out, map } : { text: out };
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
