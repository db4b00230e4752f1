/** Human output: diagnostics in the compiler style operators' editors understand. */
import { posix as path } from 'node:path';
import type { Diagnostic } from '../keepalived-config/index.js';

export function relativeTo(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') ? rel : file;
}

export function renderDiagnostic(d: Diagnostic, cwd: string, color: boolean): string {
  const where = d.at ? `${relativeTo(cwd, d.at.file)}:${d.at.line}:${d.at.col}: ` : '';
  const sev = color ? paint(d.severity) : d.severity;
  const hint = d.hint ? `\n    hint: ${d.hint}` : '';
  return `${where}${sev}: ${d.message} [${d.code}]${hint}`;
}

function paint(sev: Diagnostic['severity']): string {
  const code = sev === 'error' ? '31' : sev === 'warning' ? '33' : '36';
  return `\u001b[${code}m${sev}\u001b[0m`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
