/**
 * keepalived 2.2.7 does not continue a line that ends with `\` (lib/parser.c `decomment`, and
 * the oracle runs recorded in test/fixtures/keepalived-config/backslash): it takes the `\` off,
 * cuts the comment and the blanks before it, and puts the `\` back at the end of what is left.
 * Only multi-line `$NAME=` definitions read on when the result ends with `\`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decomment,
  decommentRaw,
  trailingBackslash,
} from '../../../src/keepalived-config/lexer.js';
import { brief, parse } from './helpers.js';

describe('decommentRaw: the raw-line rule', () => {
  it.each([
    ['  # comment \\', '            \\'],
    ['! comment \\', '          \\'],
    ['delay_loop 6 # note \\', 'delay_loop 6\\'],
    ['delay_loop 6 ! note \\', 'delay_loop 6\\'],
    ['delay_loop 6 \\', 'delay_loop 6\\'],
    ['delay_loop 6\\', 'delay_loop 6\\'],
    ['delay_loop 6 \t\\', 'delay_loop 6\\'],
    ['global_defs { # c \\', 'global_defs {\\'],
    // A blank after the backslash: it is not the last character, so the line is a comment.
    ['# comment \\   ', ''],
    ['# comment \\\t', ''],
    // A backslash pair is not a trailing backslash; an odd run ends in one.
    ['# c \\\\', ''],
    ['x \\\\\\', 'x \\\\\\'],
    // In a quoted string too (keepalived then reports the open quote).
    ['router_id "abc \\', 'router_id "abc\\'],
  ])('%j -> %j', (line, out) => {
    expect(decommentRaw(line).text).toBe(out);
  });

  it('counts only an odd run of backslashes as the last character', () => {
    expect(['a\\', 'a\\\\', 'a\\\\\\', 'a\\ ', ''].map(trailingBackslash)).toEqual([
      true,
      false,
      true,
      false,
      false,
    ]);
  });

  it('a backslash takes the next character along: \\" does not close a quote', () => {
    expect(decomment('router_id "abc \\" # c', false)).toEqual({
      text: 'router_id "abc \\" # c',
      openQuote: true,
    });
    // Outside quotes, \\ is a pair, so the # after it starts a comment.
    expect(decomment('router_id a\\\\#b', true).text).toBe('router_id a\\\\');
    expect(decomment('router_id a\\#b', true).text).toBe('router_id a#b');
  });

  it('property: the raw pass leaves nothing for a second pass, and keeps a backslash only when the line ended in one', () => {
    const line = fc
      .array(fc.constantFrom('a', ' ', '\t', '#', '!', '"', '\\', '{', 'x'), { maxLength: 24 })
      .map((cs) => cs.join(''));
    fc.assert(
      fc.property(line, (s) => {
        const once = decommentRaw(s).text;
        expect(decomment(once, false).text).toBe(once);
        if (trailingBackslash(s)) expect(once.endsWith('\\')).toBe(true);
        else expect(once.length).toBeLessThanOrEqual(s.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('a second pass leaves the kept backslash alone', () => {
    const once = decommentRaw('vrrp_garp_interval 1 # c \\').text;
    expect(decomment(once, true).text).toBe(once);
  });
});

describe('trailing backslash in a configuration', () => {
  it('a "#" comment line ending in \\ is the keyword \\ at the backslash, not a continuation', () => {
    const r = parse('global_defs {\n  # comment \\\n  router_id edge1\n}\n');
    expect(brief(r.diagnostics)).toEqual(['2:13 warning unknown-keyword']);
    expect(r.diagnostics[0]?.message).toBe("unknown keyword '\\' in global_defs");
    expect(r.diagnostics[0]?.hint).toContain('does not continue lines');
    expect(r.model.globalDefs.routerId).toBe('edge1');
  });

  it('a "!" comment line too, and at the top level', () => {
    const r = parse('! comment \\\nglobal_defs {\n  router_id edge1\n}\n');
    expect(brief(r.diagnostics)).toEqual(['1:11 warning unknown-keyword']);
    expect(r.model.globalDefs.routerId).toBe('edge1');
  });

  it('after a value, the backslash joins the value', () => {
    const r = parse('global_defs {\n  vrrp_garp_interval 1 # wait \\\n}\n');
    expect(brief(r.diagnostics)).toEqual(['2:22 warning bad-number']);
    expect(r.diagnostics[0]?.message).toContain("'1\\'");
    expect(r.diagnostics[0]?.hint).toContain('does not continue lines');
    const s = parse('global_defs {\n  router_id edge1 # c \\\n}\n');
    expect(s.model.globalDefs.routerId).toBe('edge1\\');
  });

  it('after a keyword without value, the keyword is unknown', () => {
    const r = parse('global_defs {\n  enable_script_security # c \\\n}\n');
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      "unknown keyword 'enable_script_security\\' in global_defs",
    ]);
  });

  it('a blank after the backslash keeps the line a plain comment', () => {
    const r = parse('global_defs {\n  # comment \\  \n  router_id edge1 # c \\\t\n}\n');
    expect(r.diagnostics).toEqual([]);
    expect(r.model.globalDefs.routerId).toBe('edge1');
  });

  it('consecutive lines each keep their own backslash', () => {
    const r = parse('global_defs {\n  # c1 \\\n  router_id edge1 \\\n  # c2 \\\n}\n');
    expect(brief(r.diagnostics)).toEqual([
      '2:8 warning unknown-keyword',
      '4:8 warning unknown-keyword',
    ]);
    expect(r.model.globalDefs.routerId).toBe('edge1\\');
  });

  it('the last line of a file, with or without a newline', () => {
    for (const end of ['# c \\', '# c \\\n', '# c \\\r\n']) {
      const r = parse(`global_defs {\n  router_id edge1\n}\n${end}`);
      expect(brief(r.diagnostics), JSON.stringify(end)).toEqual(['4:5 warning unknown-keyword']);
    }
  });

  it('CRLF lines: the CR is not a blank after the backslash', () => {
    const r = parse('global_defs {\r\n  # comment \\\r\n  router_id edge1\r\n}\r\n');
    expect(brief(r.diagnostics)).toEqual(['2:13 warning unknown-keyword']);
  });

  it('inside a quoted string: the quote stays open', () => {
    const r = parse('global_defs {\n  router_id "abc \\\n}\n');
    expect(r.diagnostics.map((d) => d.code)).toContain('unterminated-quote');
    expect(r.model.globalDefs.routerId).toBeUndefined();
  });

  it('\\" inside quotes does not close them: reported like keepalived', () => {
    const r = parse('global_defs {\n  router_id "abc \\" # c\n}\n');
    expect(brief(r.diagnostics)).toEqual(['2:3 warning unterminated-quote']);
  });

  it('a value block item, as keepalived: no diagnostic', () => {
    const r = parse('global_defs {\n  notification_email {\n    a@b.c\n    # c \\\n  }\n}\n');
    expect(r.diagnostics.filter((d) => d.severity !== 'notice')).toEqual([]);
  });

  describe('multi-line $NAME= definitions read on', () => {
    it('through a value with a comment ending in \\', () => {
      const r = parse('$DEF=\\\n  router_id x # comment \\\n  bogus1\nglobal_defs {\n  $DEF\n}\n');
      expect(brief(r.diagnostics)).toEqual(['5:3 warning unknown-keyword']);
      expect(r.diagnostics[0]?.message).toContain("'bogus1'");
      expect(r.model.globalDefs.routerId).toBe('x');
    });

    it('through a comment-only line ending in \\', () => {
      const r = parse(
        '$DEF=\\\n  router_id x \\\n  # comment \\\n  bogus1\nglobal_defs {\n  $DEF\n}\n',
      );
      expect(brief(r.diagnostics)).toEqual(['6:3 warning unknown-keyword']);
    });

    it('through a line whose backslash has blanks after it (the blanks are cut first)', () => {
      const r = parse('$DEF=\\\n  router_id x \\ \n  bogus1\nglobal_defs {\n  $DEF\n}\n');
      expect(brief(r.diagnostics)).toEqual(['5:3 warning unknown-keyword']);
    });

    it('not past a blank line or a comment-only line without \\', () => {
      for (const stop of ['', '  # comment']) {
        const r = parse(`$DEF=\\\n  router_id x \\\n${stop}\n  bogus1\nglobal_defs {\n  $DEF\n}\n`);
        expect(brief(r.diagnostics), JSON.stringify(stop)).toEqual(['4:3 warning unknown-keyword']);
        expect(r.model.globalDefs.routerId).toBe('x');
      }
    });

    it('from a one-line definition whose comment ends in \\', () => {
      const r = parse('$DEF=router_id y # c \\\nglobal_defs {\n  $DEF\n}\n');
      // The definition took `global_defs {`, so $DEF is used at the top level.
      expect(r.diagnostics.map((d) => `${d.at?.line}: ${d.message}`)).toEqual([
        "3: unknown keyword 'router_id' in the top level",
      ]);
    });
  });
});
