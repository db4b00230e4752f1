import { describe, expect, it } from 'vitest';
import { decomment, lex, splitShellWords } from '../../../src/keepalived-config/lexer.js';

describe('decomment', () => {
  it.each([
    ['router_id a # c', 'router_id a '],
    ['router_id a ! c', 'router_id a '],
    ['auth_pass Test123!', 'auth_pass Test123'],
    ['x "a # b" # c', 'x "a # b" '],
    ["x 'a # b'", "x 'a "],
  ])('%j -> %j', (input, out) => {
    expect(decomment(input, true).text).toBe(out);
  });

  it('keeps \\# escaped until the last pass, then makes it literal', () => {
    expect(decomment('a \\# b', false).text).toBe('a \\# b');
    expect(decomment('a \\# b', true).text).toBe('a # b');
  });
});

describe('lex', () => {
  it('splits words, quotes and braces with their columns', () => {
    const { lexemes } = lex('real_server 198.18.1.11 80{ weight "2 3" }');
    expect(
      lexemes.map((l) => (l.kind === 'word' ? `${l.text}@${l.index}` : `${l.kind}@${l.index}`)),
    ).toEqual([
      'real_server@0',
      '198.18.1.11@12',
      '80@24',
      'open@26',
      'weight@28',
      '2 3@35',
      'close@41',
    ]);
  });

  it('reports an unterminated quote', () => {
    const r = lex('router_id "edge director');
    expect(r.unterminatedQuoteAt).toBe(10);
  });

  it('a quote inside a word starts a new word', () => {
    expect(lex('ab"c d"').lexemes.map((l) => (l.kind === 'word' ? l.text : l.kind))).toEqual([
      'ab',
      'c d',
    ]);
  });
});

describe('splitShellWords (script keywords)', () => {
  it.each([
    ['"/bin/x a b" user grp', ['/bin/x a b', 'user', 'grp']],
    ['\'/bin/x\' "y z"', ['/bin/x', 'y z']],
    ['a\\ b', ['a b']],
    ['"tab\\there"', ['tab\there']],
    ['"\\x41\\101"', ['AA']],
  ])('%j', (input, words) => {
    expect(splitShellWords(input).words).toEqual(words);
  });

  it('reports an unterminated quote', () => {
    expect(splitShellWords('"/bin/x a').error).toBeDefined();
  });
});
