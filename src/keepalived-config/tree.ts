/**
 * Builds the block structure from logical lines: a statement is a keyword and its words up to
 * the end of the line or a brace; `{` opens a block for the statement before it (on the same
 * line, or on the line before: `name\n{` works), `}` closes the innermost block.
 */
import { columnOf, lex, type LogicalLine } from './lexer.js';
import type { DiagnosticSink, SourcePosition } from './diagnostics.js';

export interface Word {
  readonly text: string;
  readonly quoted: boolean;
  readonly at: SourcePosition;
}

export interface Statement {
  readonly keyword: Word;
  readonly args: readonly Word[];
  /** The statement's text after the keyword, for keywords that re-read it shell-style. */
  readonly rest: string;
  block?: Block;
}

export interface Block {
  readonly open: SourcePosition;
  close?: SourcePosition;
  readonly statements: Statement[];
}

export function buildTree(lines: readonly LogicalLine[], sink: DiagnosticSink): Block {
  const root: Block = { open: { file: lines[0]?.file ?? '', line: 0, col: 0 }, statements: [] };
  const stack: Block[] = [root];
  /** The statement a `{` at the start of the next line would open. */
  let pending: Statement | undefined;

  for (const l of lines) {
    const { lexemes, unterminatedQuoteAt } = lex(l.text);
    if (unterminatedQuoteAt !== undefined) {
      sink.warning(
        'unterminated-quote',
        `unterminated quote: ${l.text}`,
        pos(l, unterminatedQuoteAt),
        'close the double quote on the same line',
      );
    }
    let current: { keyword: Word; args: Word[]; start: number } | undefined;
    const flush = (end: number): Statement | undefined => {
      if (!current) return undefined;
      const st: Statement = {
        keyword: current.keyword,
        args: current.args,
        rest: l.text.slice(current.start, end).trim(),
      };
      stack[stack.length - 1]?.statements.push(st);
      current = undefined;
      return st;
    };
    for (const lx of lexemes) {
      if (lx.kind === 'word') {
        if (lx.quoted && lx.index === unterminatedQuoteAt) continue; // reported; the word is dropped
        const w: Word = { text: lx.text, quoted: lx.quoted, at: pos(l, lx.index) };
        if (current) current.args.push(w);
        else
          current = {
            keyword: w,
            args: [],
            start: lx.index + (lx.quoted ? lx.text.length + 2 : lx.text.length),
          };
        pending = undefined;
        continue;
      }
      if (lx.kind === 'open') {
        const owner = flush(lx.index) ?? pending;
        pending = undefined;
        const block: Block = { open: pos(l, lx.index), statements: [] };
        if (owner && !owner.block) owner.block = block;
        else {
          sink.warning(
            'unexpected-open-brace',
            "unexpected '{' (no keyword before it opens a block); its lines are read at the current level",
            pos(l, lx.index),
          );
          // Keep the block's statements at the current level, as keepalived does.
          stack.push({ open: block.open, statements: stack[stack.length - 1]?.statements ?? [] });
          continue;
        }
        stack.push(block);
        continue;
      }
      // close
      flush(lx.index);
      pending = undefined;
      if (stack.length <= 1) {
        sink.warning(
          'extra-close-brace',
          "extra '}' closes no block",
          pos(l, lx.index),
          'remove it, or look for a missing "{" above',
        );
        continue;
      }
      const closed = stack.pop();
      if (closed) closed.close = pos(l, lx.index);
    }
    const last = flush(l.text.length);
    if (last && !last.block) pending = last;
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1]?.open;
    sink.warning(
      'missing-close-brace',
      `${stack.length - 1} missing '}' at the end of the configuration`,
      open,
      "the innermost unclosed '{' is here",
    );
  }
  return root;
}

function pos(l: LogicalLine, index: number): SourcePosition {
  return { file: l.file, line: l.line, col: columnOf(l, index) };
}
