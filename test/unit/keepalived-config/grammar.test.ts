import { describe, expect, it } from 'vitest';
import { brief, parse } from './helpers.js';

const vs = (body: string, rs = 'real_server 198.18.1.11 80 {\n  weight 1\n }') =>
  `virtual_server 198.18.0.10 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n${body}\n ${rs}\n}\n`;

describe('braces', () => {
  it('accepts blocks that open on the next line and close on the same line', () => {
    const r = parse(
      'virtual_server 198.18.0.10 80\n{\n lb_algo rr\n real_server 198.18.1.11 80{ weight 2 }\n}\n',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.model.virtualServers[0]?.realServers[0]?.weight).toBe(2);
  });

  it('reports an extra close brace and a missing one with positions', () => {
    expect(brief(parse('global_defs {\n}\n}\n').diagnostics)).toEqual([
      '3:1 warning extra-close-brace',
    ]);
    expect(brief(parse('global_defs {\n router_id a\n').diagnostics)).toEqual([
      '1:13 warning missing-close-brace',
    ]);
  });

  it('skips an unknown block whole and says so once', () => {
    const r = parse(vs(' no_such_block {\n  weight 3\n }'));
    expect(brief(r.diagnostics)).toEqual(['5:2 warning unknown-block']);
    expect(r.model.virtualServers[0]?.realServers).toHaveLength(1);
  });
});

describe('hints', () => {
  it('lb_kind dr: values are case-sensitive', () => {
    const d = parse(vs(' lb_kind dr')).diagnostics[0];
    expect(d?.hint).toBe('values are case-sensitive: did you mean DR?');
    expect(d?.at).toEqual({ file: '/etc/keepalived/keepalived.conf', line: 5, col: 10 });
  });

  it('LB_KIND: keywords are case-sensitive', () => {
    expect(parse(vs(' LB_KIND DR')).diagnostics[0]?.hint).toBe(
      'keywords are case-sensitive: did you mean lb_kind?',
    );
  });

  it('a keyword of another block says where it belongs', () => {
    const d = parse(vs('', 'real_server 198.18.1.11 80 {\n  lb_algo rr\n }')).diagnostics[0];
    expect(d?.hint).toBe("'lb_algo' belongs in virtual_server, not in real_server");
  });

  it('a near miss gets a suggestion', () => {
    expect(parse(vs(' delay_lop 5')).diagnostics[0]?.hint).toBe('did you mean delay_loop?');
  });
});

describe('values', () => {
  it.each([
    ['weight -1', 'bad-number'],
    ['weight 1.5', 'bad-number'],
    ['weight 70000', 'out-of-range'],
  ])('real server %s -> %s', (line, code) => {
    const r = parse(vs('', `real_server 198.18.1.11 80 {\n  ${line}\n }`));
    expect(r.diagnostics.map((d) => d.code)).toEqual([code]);
  });

  it('timers are seconds with up to 6 decimals; a unit gets a hint', () => {
    const r = parse(vs(' delay_loop 1.5\n connect_timeout 500ms'));
    expect(r.model.virtualServers[0]?.delayLoopMs).toBe(1500);
    expect(r.diagnostics[0]?.hint).toContain('without a unit');
  });

  it('status codes and ranges', () => {
    const r = parse(
      vs(
        '',
        'real_server 198.18.1.11 80 {\n  HTTP_GET {\n   url {\n    path /h\n    status_code 200 301-302 200-\n   }\n  }\n }',
      ),
    );
    const c = r.model.virtualServers[0]?.realServers[0]?.checkers[0];
    expect(c).toMatchObject({
      kind: 'HTTP_GET',
      urls: [
        {
          path: '/h',
          statusCodes: [
            [200, 200],
            [301, 302],
          ],
        },
      ],
    });
    expect(brief(r.diagnostics)).toEqual(['10:29 warning bad-status-code']);
  });

  it('a url path is one word: a one-line url block is reported', () => {
    const r = parse(
      vs(
        '',
        'real_server 198.18.1.11 80 {\n  HTTP_GET {\n   url { path /health status_code 200 }\n  }\n }',
      ),
    );
    expect(r.diagnostics.map((d) => d.code)).toEqual(['extra-value']);
    expect(r.model.virtualServers[0]?.realServers[0]?.checkers[0]).toMatchObject({
      urls: [{ path: '/health' }],
    });
  });

  it('protocol is case-insensitive, like keepalived', () => {
    expect(parse(vs(' protocol tcp')).diagnostics).toEqual([]);
  });

  it('unsupported checkers are warnings', () => {
    const r = parse(
      vs('', 'real_server 198.18.1.11 25 {\n  SMTP_CHECK {\n   connect_timeout 3\n  }\n }'),
    );
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([['not-supported', 'warning']]);
  });

  it('script keywords read the command shell-style and warn about words outside the quotes', () => {
    const r = parse(
      vs(
        '',
        'real_server 198.18.1.11 80 {\n  notify_up "/bin/x a b" nobody\n  MISC_CHECK {\n   misc_path /bin/y arg\n  }\n }',
      ),
    );
    const rs = r.model.virtualServers[0]?.realServers[0];
    expect(rs?.notifyUp).toMatchObject({ argv: ['/bin/x', 'a', 'b'], user: 'nobody' });
    expect(r.diagnostics.map((d) => d.code)).toEqual(['script-args']);
    expect(r.diagnostics[0]?.hint).toContain('misc_path "/bin/y arg"');
  });
});

describe('the lvsd block', () => {
  it('reads daemon settings and server options', () => {
    const r = parse(
      'lvsd {\n control_socket /run/x.sock\n timing fast\n server tcp:198.18.0.10:80 198.18.1.11:80 { rise 3 }\n webhook ops { url https://example.invalid/hook\n timeout 2 }\n}\n',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.model.lvsd).toMatchObject({
      controlSocket: '/run/x.sock',
      timingProfile: 'fast',
      servers: [{ virtualServer: 'tcp:198.18.0.10:80', realServer: '198.18.1.11:80', rise: 3 }],
      webhooks: [{ name: 'ops', timeoutMs: 2000 }],
    });
  });

  it('rejects relative paths and unknown keywords', () => {
    const r = parse('lvsd {\n state_dir var/lib\n frob 1\n}\n');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['lvsd-block', 'unknown-keyword']);
  });
});
