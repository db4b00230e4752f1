/**
 * glob(3) as keepalived uses it for `include`: `*`, `?`, `[...]` per path segment and `{a,b}`
 * alternatives (GLOB_BRACE). Matches are sorted, as glob(3) sorts them. Hidden names are matched
 * only by a pattern that starts with a dot, as in the shell.
 */
import { posix as path } from 'node:path';
import type { SourceReader } from './source.js';

const MAX_ALTERNATIVES = 256;
const MAX_MATCHES = 10_000;

/** Expands `{a,b}` alternatives (nested allowed). Bounded so a hostile pattern cannot explode. */
export function expandBraces(pattern: string): string[] {
  const open = findBrace(pattern);
  if (!open) return [pattern];
  const { start, end, parts } = open;
  const out: string[] = [];
  for (const part of parts) {
    for (const rest of expandBraces(pattern.slice(0, start) + part + pattern.slice(end + 1))) {
      out.push(rest);
      if (out.length >= MAX_ALTERNATIVES) return out;
    }
  }
  return out;
}

function findBrace(p: string): { start: number; end: number; parts: string[] } | undefined {
  for (let i = 0; i < p.length; i++) {
    if (p[i] !== '{') continue;
    let depth = 0;
    let partStart = i + 1;
    const parts: string[] = [];
    for (let j = i; j < p.length; j++) {
      const c = p[j];
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (depth === 0) {
          parts.push(p.slice(partStart, j));
          if (parts.length > 1) return { start: i, end: j, parts };
          break; // "{x}" with no comma is literal, as in glob(3)
        }
      } else if (c === ',' && depth === 1) {
        parts.push(p.slice(partStart, j));
        partStart = j + 1;
      }
    }
  }
  return undefined;
}

export function hasMagic(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

function segmentRegExp(segment: string): RegExp {
  let re = '^';
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charAt(i);
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

/** Files matching one brace-free pattern (absolute), sorted. */
export function globOne(pattern: string, source: SourceReader): string[] {
  if (!hasMagic(pattern)) return source.exists(pattern) ? [pattern] : [];
  const segments = pattern.split('/');
  let bases = [segments[0] === '' ? '/' : (segments[0] ?? '')];
  for (let s = 1; s < segments.length; s++) {
    const seg = segments[s] ?? '';
    if (seg === '') continue;
    const next: string[] = [];
    if (!hasMagic(seg)) {
      for (const b of bases) {
        const p = path.join(b, seg);
        if (source.exists(p)) next.push(p);
      }
    } else {
      const re = segmentRegExp(seg);
      for (const b of bases) {
        for (const name of source.list(b) ?? []) {
          if (name.startsWith('.') && !seg.startsWith('.')) continue;
          if (re.test(name)) next.push(path.join(b, name));
          if (next.length > MAX_MATCHES) break;
        }
      }
    }
    bases = next;
    if (bases.length === 0) break;
  }
  return bases.sort();
}
