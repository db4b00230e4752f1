/**
 * Builds the block structure from logical lines: a statement is a keyword and its words up to
 * the end of the line or a brace; `{` opens a block for the statement before it (on the same
 * line, or on the line before: `name\n{` works), `}` closes the innermost block.
 *
 * It streams: each top-level statement is handed on as soon as it is complete, so a 10 MB file
 * is never held as a tree. Word positions are computed only when asked for (most words never
 * appear in a diagnostic), which keeps the allocation count per word at one.
 */
import { columnOf, type LogicalLine } from './lexer.js';
import type { DiagnosticSink, SourcePosition } from './diagnostics.js';

export class Word {
  constructor(
    readonly text: string,
    readonly quoted: boolean,
    private readonly line: LogicalLine,
    private readonly index: number,
  ) {}

  /** Where the word is, as a fresh plain object (safe to keep in models and diagnostics). */
  get at(): SourcePosition {
    return { file: this.line.file, line: this.line.line, col: columnOf(this.line, this.index) };
  }
}

export interface Statement {
  readonly keyword: Word;
  readonly args: readonly Word[];
  /** The statement's text after the keyword, for keywords that re-read it shell-style. */
  readonly rest: string;
  block?: Block;
}

/** A statement whose `rest` is cut from its line only when a script keyword asks for it. */
class LineStatement implements Statement {
  block?: Block;
  constructor(
    readonly keyword: Word,
    readonly args: readonly Word[],
    private readonly text: string,
    private readonly start: number,
    private readonly end: number,
  ) {}
  get rest(): string {
    return this.text.slice(this.start, this.end).trim();
  }
}

export interface Block {
  readonly open: SourcePosition;
  close?: SourcePosition;
  readonly statements: Statement[];
}

export class TreeBuilder {
  private readonly root: Block = { open: { file: '', line: 0, col: 0 }, statements: [] };
  private readonly stack: Block[] = [this.root];
  /** The statement a `{` at the start of the next line would open. */
  private pending: Statement | undefined;
  private readonly scratch: Word[] = [];

  constructor(
    private readonly sink: DiagnosticSink,
    /** Receives each complete top-level statement, in order. */
    private readonly onTop: (st: Statement) => void,
  ) {}

  push(l: LogicalLine): void {
    // The lexer's rules (lexer.ts `lex`), inlined: this runs for every line of the file, and
    // building an intermediate lexeme list per line doubled the garbage on large files.
    const text = l.text;
    const n = text.length;
    let keyword: Word | undefined;
    // The words after the keyword gather in a reused scratch list that is copied out at its
    // exact length (argsOf): a list grown by push() has room for 16 more, and most statements
    // have one value, so that room was the biggest allocation per line. The scratch list is
    // overwritten, not emptied: setting its length to 0 would free its storage every line.
    const scratch = this.scratch;
    let nArgs = 0;
    let start = 0;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9) {
        i++;
        continue;
      }
      if (c === 123 /* { */ || c === 125 /* } */) {
        if (keyword) {
          this.add(new LineStatement(keyword, argsOf(scratch, nArgs), text, start, i));
          keyword = undefined;
          nArgs = 0;
          this.pending = c === 123 ? this.lastAdded : undefined;
        }
        if (c === 123) this.open(l, i);
        else this.close(l, i);
        i++;
        continue;
      }
      let word: string;
      let quoted = false;
      const at = i;
      if (c === 34 /* " */) {
        const q = text.indexOf('"', i + 1);
        if (q < 0) {
          this.sink.warning(
            'unterminated-quote',
            `unterminated quote: ${text}`,
            pos(l, i),
            'close the double quote on the same line',
          );
          i = n;
          break; // the word is dropped, as keepalived does
        }
        word = text.slice(i + 1, q);
        quoted = true;
        i = q + 1;
      } else {
        while (i < n) {
          const d = text.charCodeAt(i);
          if (d === 32 || d === 9 || d === 123 || d === 125 || d === 34) break;
          i++;
        }
        word = text.slice(at, i);
      }
      const w = new Word(word, quoted, l, at);
      this.pending = undefined;
      if (keyword) scratch[nArgs++] = w;
      else {
        keyword = w;
        start = i;
      }
    }
    if (keyword) {
      const st = new LineStatement(keyword, argsOf(scratch, nArgs), text, start, n);
      this.add(st);
      this.pending = st;
    } else if (n > 0 && text.charCodeAt(n - 1) !== 123) {
      this.pending = undefined;
    }
  }

  private open(l: LogicalLine, index: number): void {
    const owner = this.pending;
    this.pending = undefined;
    const stack = this.stack;
    const block: Block = { open: pos(l, index), statements: [] };
    if (owner && !owner.block) {
      owner.block = block;
      stack.push(block);
      return;
    }
    this.sink.warning(
      'unexpected-open-brace',
      "unexpected '{' (no keyword before it opens a block); its lines are read at the current level",
      block.open,
    );
    // Keep the block's statements at the current level, as keepalived does.
    stack.push({ open: block.open, statements: stack[stack.length - 1]?.statements ?? [] });
  }

  private close(l: LogicalLine, index: number): void {
    this.pending = undefined;
    const stack = this.stack;
    if (stack.length <= 1) {
      this.sink.warning(
        'extra-close-brace',
        "extra '}' closes no block",
        pos(l, index),
        'remove it, or look for a missing "{" above',
      );
      return;
    }
    const closed = stack.pop();
    if (closed) closed.close = pos(l, index);
    if (stack.length === 1) this.emitTop();
  }

  end(): void {
    this.pending = undefined;
    if (this.stack.length > 1) {
      const open = this.stack[this.stack.length - 1]?.open;
      this.sink.warning(
        'missing-close-brace',
        `${this.stack.length - 1} missing '}' at the end of the configuration`,
        open,
        "the innermost unclosed '{' is here",
      );
      this.stack.length = 1;
    }
    this.emitTop();
  }

  private lastAdded: Statement | undefined;

  private add(st: Statement): void {
    if (this.stack.length === 1) this.emitTop();
    this.stack[this.stack.length - 1]?.statements.push(st);
    this.lastAdded = st;
  }

  /** Hands on the finished top-level statements (all but one still open). */
  private emitTop(): void {
    const list = this.root.statements;
    if (list.length === 0) return;
    const last = list[list.length - 1];
    const open = this.stack.length > 1 || (last === this.pending && last !== undefined);
    const ready = open ? list.slice(0, -1) : list.slice();
    list.splice(0, ready.length);
    for (const st of ready) this.onTop(st);
  }
}

/** Whole-input convenience (tests): the top-level statements of some lines. */
export function buildTree(lines: readonly LogicalLine[], sink: DiagnosticSink): Block {
  const statements: Statement[] = [];
  const b = new TreeBuilder(sink, (st) => statements.push(st));
  for (const l of lines) b.push(l);
  b.end();
  return { open: { file: lines[0]?.file ?? '', line: 0, col: 0 }, statements };
}

/** Shared by every statement without values (nothing writes to a statement's args). */
const NO_WORDS: readonly Word[] = Object.freeze([]);

/** The first n words of the scratch list (it is reused, never shortened: see push()). */
function argsOf(scratch: Word[], n: number): readonly Word[] {
  return n === 0 ? NO_WORDS : scratch.slice(0, n);
}

function pos(l: LogicalLine, index: number): SourcePosition {
  return { file: l.file, line: l.line, col: columnOf(l, index) };
}
