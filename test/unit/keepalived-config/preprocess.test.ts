import { describe, expect, it } from 'vitest';
import { DiagnosticSink, MemorySource } from '../../../src/keepalived-config/index.js';
import type { LogicalLine } from '../../../src/keepalived-config/lexer.js';
import { preprocess } from '../../../src/keepalived-config/preprocess.js';
import { brief, parse, parseFiles } from './helpers.js';

describe('include', () => {
  it('includes a glob relative to the including file, in sorted order', () => {
    const r = parseFiles({
      '/etc/k/main.conf': 'include conf.d/*.conf\n',
      '/etc/k/conf.d/b.conf': 'vrrp_script b { script "/bin/true" }\n',
      '/etc/k/conf.d/a.conf': 'vrrp_script a { script "/bin/true" }\n',
      '/etc/k/conf.d/skip.txt': 'garbage here\n',
    });
    expect(r.model.vrrpScripts.map((s) => s.name)).toEqual(['a', 'b']);
    expect(r.files).toEqual(['/etc/k/main.conf', '/etc/k/conf.d/a.conf', '/etc/k/conf.d/b.conf']);
    expect(r.diagnostics).toEqual([]);
  });

  it('expands {a,b} alternatives', () => {
    const r = parseFiles({
      '/k/main.conf': 'include {x,y}.conf\n',
      '/k/x.conf': 'vrrp_script x { script "/bin/true" }\n',
      '/k/y.conf': 'vrrp_script y { script "/bin/true" }\n',
    });
    expect(r.model.vrrpScripts.map((s) => s.name)).toEqual(['x', 'y']);
  });

  it('a missing plain include is a notice; a glob matching nothing too', () => {
    const r = parseFiles({ '/k/main.conf': 'include nope.conf\ninclude none.d/*.conf\n' });
    expect(brief(r.diagnostics)).toEqual([
      '1:1 notice include-missing',
      '2:1 notice include-missing',
    ]);
  });

  it('strict includes fail with exit class 6', () => {
    const r = parseFiles({
      '/k/main.conf': 'includem nope.conf\nincludew none.d/*.conf\ninclude none2.d/*.conf\n',
    });
    expect(r.diagnostics.map((d) => d.exitClass)).toEqual([6, 6, 0]);
  });

  it('includer: a directory is an error, a missing file is not', () => {
    const r = parseFiles({ '/k/main.conf': 'includer d\nincluder nope.conf\n', '/k/d/x.conf': '' });
    expect(brief(r.diagnostics)).toEqual([
      '1:1 error include-unreadable',
      '2:1 notice include-missing',
    ]);
  });

  it('detects include cycles instead of recursing', () => {
    const r = parseFiles({ '/k/a.conf': 'include b.conf\n', '/k/b.conf': 'include a.conf\n' });
    expect(brief(r.diagnostics)).toEqual(['1:1 notice include-cycle']);
    expect(r.diagnostics[0]?.at?.file).toBe('/k/b.conf');
    expect(r.diagnostics[0]?.message).toContain('a.conf -> b.conf -> a.conf');
  });

  it('limits include depth', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`/k/${i}.conf`] = `include ${i + 1}.conf\n`;
    files['/k/40.conf'] = '';
    const r = parseFiles(files);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['include-depth']);
  });

  it('diagnostics in an included file name that file and line', () => {
    const r = parseFiles({
      '/k/main.conf': '\ninclude sub/x.conf\n',
      '/k/sub/x.conf': 'global_defs {\n  frob 1\n}\n',
    });
    expect(r.diagnostics[0]?.at).toEqual({ file: '/k/sub/x.conf', line: 2, col: 3 });
  });
});

describe('conditional lines', () => {
  const text = '@a global_defs { router_id A }\n@^a global_defs { router_id notA }\n';
  it('keeps @ID lines for the matching config-id', () => {
    expect(parse(text, 'a').model.globalDefs.routerId).toBe('A');
    expect(parse(text, 'b').model.globalDefs.routerId).toBe('notA');
  });
});

describe('$NAME parameters', () => {
  it('substitutes $NAME and ${NAME}, multi-line values, and keeps columns', () => {
    const r = parse(
      '$PORT=80\n$CHK=TCP_CHECK { \\\n  connect_timeout 2 \\\n}\nvirtual_server 198.18.0.10 ${PORT} {\n lb_algo rr\n lb_kind DR\n protocol TCP\n real_server 198.18.1.11 $PORT {\n  $CHK\n }\n}\n',
    );
    expect(r.diagnostics).toEqual([]);
    const vs = r.model.virtualServers[0];
    expect(vs?.key).toEqual({ kind: 'address', address: '198.18.0.10', family: 4, port: 80 });
    expect(vs?.realServers[0]?.checkers[0]).toMatchObject({
      kind: 'TCP_CHECK',
      connectTimeoutMs: 2000,
    });
  });

  it('undefined names stay as written (notice)', () => {
    const r = parse('global_defs {\n router_id $NOPE\n}\n');
    expect(r.model.globalDefs.routerId).toBe('$NOPE');
    expect(brief(r.diagnostics)).toEqual(['2:12 notice variable-undefined']);
  });

  it('stops self-recursive parameters', () => {
    const r = parse('$A=${A}x\nglobal_defs {\n router_id $A\n}\n');
    expect(r.diagnostics.some((d) => d.code === 'variable-recursion')).toBe(true);
  });

  it('${_HASH} and ${_BANG} are literal, not comments', () => {
    const r = parse('global_defs {\n router_id a${_HASH}b${_BANG}c\n}\n');
    expect(r.model.globalDefs.routerId).toBe('a#b!c');
  });

  it('~SEQ repeats a line', () => {
    const r = parse(
      'vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n~SEQ(n, 1, 1, 3) 198.18.0.${n}/32\n }\n}\n',
    );
    expect(r.model.vrrpInstances[0]?.virtualIpaddress.map((a) => a.address)).toEqual([
      '198.18.0.1',
      '198.18.0.2',
      '198.18.0.3',
    ]);
  });
});

describe('line endings and encodings', () => {
  it('reads CRLF files', () => {
    const r = parse('global_defs {\r\n router_id a\r\n}\r\n');
    expect(r.model.globalDefs.routerId).toBe('a');
    expect(r.diagnostics).toEqual([]);
  });

  it('skips a UTF-8 BOM with a notice', () => {
    const r = parse('\ufeffglobal_defs {\n router_id a\n}\n');
    expect(r.model.globalDefs.routerId).toBe('a');
    expect(brief(r.diagnostics)).toEqual(['1:1 notice bom-ignored']);
  });

  it('reads a very long line whole', () => {
    const id = 'x'.repeat(100_000);
    expect(parse(`global_defs {\n router_id ${id}\n}\n`).model.globalDefs.routerId).toBe(id);
  });

  // Plain lines take a shortcut (one slice of the text); these are the edges where it must hand
  // the line to the general path or give exactly what that path gives.
  it('cuts blanks, CR and comments the same on every kind of line', () => {
    const text = [
      '  weight 1  \r',
      '\tweight\t1\t',
      'weight 2\u00a0',
      'weight 3\v',
      '   \r',
      '\r  x',
      'inhibit_on_failure',
      'a ! comment',
      '\t',
      '  caf\u00e9 au lait',
      'last',
    ].join('\n');
    const lines: LogicalLine[] = [];
    preprocess(
      '/k.conf',
      { source: new MemorySource({ '/k.conf': text }), configId: 'x' },
      new DiagnosticSink(),
      (l) => lines.push(l),
    );
    expect(lines.map((l) => [l.line, l.text, l.colBase])).toEqual([
      [1, 'weight 1', 3],
      [2, 'weight\t1', 2],
      [3, 'weight 2', 1],
      [4, 'weight 3', 1],
      [6, '\r  x', 1],
      [7, 'inhibit_on_failure', 1],
      [8, 'a', 1],
      [10, 'caf\u00e9 au lait', 3],
      [11, 'last', 1],
    ]);
  });
});
