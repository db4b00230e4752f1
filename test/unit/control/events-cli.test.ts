/** `lvsd events` without a daemon: its line format, terminal-safe text, usage errors, help. */
import { describe, expect, it } from 'vitest';
import { eventLine, printable } from '../../../src/cli/commands/events.js';
import { main } from '../../../src/cli/main.js';
import type { Io } from '../../../src/cli/io.js';
import { pageEvents } from '../../integration/status-page/fixture.js';

function io(): Io & { text: () => string; errors: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => (out += t),
    err: (t) => (err += t),
    cwd: '/',
    env: {},
    tty: false,
    text: () => out,
    errors: () => err,
  };
}

describe('lvsd events output', () => {
  it('one line per event: seq, time, name, subject, message', () => {
    const [down] = pageEvents();
    if (!down) throw new Error('no event');
    expect(eventLine(down)).toMatch(
      /^#1 \d{4}-\d\d-\d\dT[\d:.]+Z rs\.down tcp:198\.18\.0\.10:80\/198\.18\.1\.12:80 real server 198\.18\.1\.12:80 of tcp:198\.18\.0\.10:80 DOWN: status 503/,
    );
  });

  it('shows control characters from names and reasons as \\xNN', () => {
    expect(printable('a\u001b[2Jb\nc\u009bd')).toBe('a\\x1b[2Jb\\x0ac\\x9bd');
  });
});

describe('lvsd events command line', () => {
  it('--since must be a seq; no arguments; --help documents exit 11', async () => {
    const a = io();
    expect(await main(['events', '--since', 'yesterday'], a)).toBe(2);
    expect(a.errors()).toMatch(/--since needs an event sequence number/);
    expect(await main(['events', 'extra'], io())).toBe(2);
    const h = io();
    expect(await main(['events', '--help'], h)).toBe(0);
    expect(h.text()).toMatch(/^Usage: lvsd events \[--follow\] \[--since SEQ\] \[--json\]/);
    expect(h.text()).toMatch(/\n11 cut off by lvsd/);
    const top = io();
    await main(['--help'], top);
    expect(top.text()).toMatch(/\n {2}events +print the event stream/);
  });

  it('an absent daemon is exit 8', async () => {
    const a = io();
    expect(await main(['events', '--socket', '/nonexistent/lvsd-ro.sock'], a)).toBe(8);
    expect(a.errors()).toMatch(/lvsd is not running/);
  });
});
