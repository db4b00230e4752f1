/**
 * Diagnostics: every problem the parser finds, with where it is and what to do about it.
 *
 * Severity is what a reader sees (error, warning, notice). The exit class is keepalived's
 * `keepalived -t` status for the problem: 4 "cannot run" (fatal), 5 "would run, with problems",
 * 6 script security or a failed strict include. A notice has class 0 and keeps the file clean.
 */
export type Severity = 'error' | 'warning' | 'notice';
export type ExitClass = 0 | 4 | 5 | 6;

export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly exitClass: ExitClass;
  readonly message: string;
  readonly hint?: string;
  /** Absent for problems that belong to the configuration as a whole. */
  readonly at?: SourcePosition;
}

/**
 * The catalogue of diagnostic codes. A code is never reused for another meaning; docs/errors.md
 * lists every one (a test keeps them in step).
 */
export const diagnosticCodes = {
  // lexical layer
  'file-missing': 'a configuration file does not exist',
  'file-unreadable': 'a configuration file cannot be read',
  'include-missing': 'an include pattern matched no file',
  'include-cycle': 'a file includes itself, directly or through others',
  'include-depth': 'includes nested deeper than the limit',
  'include-unreadable': 'an included path is a directory or cannot be read',
  'include-brace-unmatched': 'an includeb/includea brace alternative matched nothing',
  'bom-ignored': 'a UTF-8 byte order mark was skipped',
  'unterminated-quote': 'a double quote is never closed',
  'extra-close-brace': "a '}' closes no block",
  'missing-close-brace': "a '{' is never closed",
  'unexpected-open-brace': "a '{' follows a keyword that takes no block",
  'variable-undefined': 'a $NAME parameter is used but never defined',
  'variable-recursion': 'a $NAME parameter expands into itself',
  'variable-bad-definition': 'a $NAME= definition is malformed',
  'sequence-bad': 'a ~SEQ or ~LST line is malformed',
  'input-too-large': 'a file is larger than the limit',
  // grammar
  'unknown-keyword': 'a keyword is not known in this block',
  'unknown-block': 'a keyword that is not known opens a block',
  'missing-value': 'a keyword needs a value',
  'extra-value': 'a keyword was given more values than it takes',
  'bad-number': 'a value is not a number of the expected kind',
  'out-of-range': 'a number is outside the allowed range',
  'bad-value': 'a value is not one of the allowed ones',
  'bad-address': 'an IP address or prefix is malformed',
  'bad-status-code': 'an HTTP status code or range is malformed',
  deprecated: 'a keyword is deprecated; it still works',
  'not-supported': 'keepalived accepts this, but lvsd does not act on it',
  'no-effect': 'lvsd accepts this keyword but it has no effect in lvsd',
  // model and cross-checks
  'default-applied': 'a required setting is missing and a default was applied',
  'duplicate-name': 'two blocks have the same name',
  'duplicate-real-server': 'a real server appears twice in one virtual server',
  'duplicate-vrid': 'two VRRP instances use the same VRID on one interface',
  'no-real-servers': 'a virtual server has no real servers',
  'family-mismatch': 'a real server and its virtual server are of different address families',
  'missing-required': 'a block lacks a required setting',
  'unknown-reference': 'a name refers to something that is not defined',
  'value-adjusted': 'a value was changed to one that works',
  'weak-auth': 'VRRP authentication is weak or missing',
  'script-args': 'a script command line is split in a way that loses arguments',
  'interface-missing': 'an interface named in the configuration does not exist on this host',
  'script-missing': 'a script file does not exist or is not executable',
  'script-insecure':
    'a script would run as root without enable_script_security, or is writable by others',
  'user-missing': 'a script user does not exist',
  'no-default-route': 'an address without dev needs a default route',
  'lvsd-block': 'a problem in the lvsd extension block',
} as const;

export type DiagnosticCode = keyof typeof diagnosticCodes;

/** keepalived's rule: the exit status is the highest class reported (security > config > fatal). */
export function exitStatus(diagnostics: readonly Diagnostic[]): ExitClass {
  let status: ExitClass = 0;
  for (const d of diagnostics) if (d.exitClass > status) status = d.exitClass;
  return status;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.at ? `${d.at.file}:${d.at.line}:${d.at.col}: ` : '';
  const hint = d.hint ? `\n  hint: ${d.hint}` : '';
  return `${where}${d.severity}: ${d.message}${hint}`;
}

/** Collects diagnostics; builders take one so that nothing is ever thrown for bad input. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];

  add(d: Diagnostic): void {
    this.items.push(d);
  }
  error(code: DiagnosticCode, message: string, at?: SourcePosition, hint?: string): void {
    this.push(code, 'error', 5, message, at, hint);
  }
  warning(code: DiagnosticCode, message: string, at?: SourcePosition, hint?: string): void {
    this.push(code, 'warning', 5, message, at, hint);
  }
  notice(code: DiagnosticCode, message: string, at?: SourcePosition, hint?: string): void {
    this.push(code, 'notice', 0, message, at, hint);
  }
  fatal(code: DiagnosticCode, message: string, at?: SourcePosition, hint?: string): void {
    this.push(code, 'error', 4, message, at, hint);
  }
  security(code: DiagnosticCode, message: string, at?: SourcePosition, hint?: string): void {
    this.push(code, 'error', 6, message, at, hint);
  }
  private push(
    code: DiagnosticCode,
    severity: Severity,
    exitClass: ExitClass,
    message: string,
    at: SourcePosition | undefined,
    hint: string | undefined,
  ): void {
    this.items.push({
      code,
      severity,
      exitClass,
      message,
      ...(hint === undefined ? {} : { hint }),
      ...(at === undefined ? {} : { at }),
    });
  }
}
