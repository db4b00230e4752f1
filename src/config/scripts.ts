/**
 * Scripts as keepalived decides about them (lib/notify.c, ruling 6): which user runs each one,
 * whether it exists, and script security — a script that exists and would run as root needs
 * `enable_script_security`, which in turn refuses scripts a non-root user could change.
 */
import type { DiagnosticSink, ScriptSpec, SourcePosition } from '../keepalived-config/index.js';
import type { HostFacts } from './host.js';
import type { Script } from './types.js';

export type ScriptRole = 'vrrp-track' | 'vrrp-notify' | 'check' | 'check-notify';

export function positionText(at: SourcePosition): string {
  return `${at.file}:${at.line}:${at.col}`;
}

export class ScriptPolicy {
  private violationVrrp = false;
  private violationCheck = false;
  private defaultUserReported = false;

  constructor(
    private readonly host: HostFacts,
    private readonly sink: DiagnosticSink,
    private readonly security: boolean,
    private readonly scriptUser: { user: string; group?: string } | undefined,
  ) {}

  /**
   * Resolves one script that lvsd would run. Returns undefined when the script must not run
   * (no user can be set; refused as insecure); `missing` when its file does not exist.
   */
  resolve(
    spec: ScriptSpec,
    role: ScriptRole,
    own?: { user: string; group?: string },
  ): { script: Script; missing: boolean } | undefined {
    const user = this.userFor(spec, own);
    if (!user) return undefined;
    const argv0 = spec.argv[0] ?? '';
    const exe = this.host.executable(argv0);
    const script: Script = {
      argv: exe ? [exe.path, ...spec.argv.slice(1)] : spec.argv,
      user: user.user,
      ...(user.group === undefined ? {} : { group: user.group }),
      at: positionText(spec.at),
    };
    if (!exe) return { script, missing: true };
    if (this.security) {
      if (exe.writableByNonRoot) {
        this.sink.security(
          'script-insecure',
          `script ${exe.path} could be changed by a non-root user; it will not be run`,
          spec.at,
          'make the file and every directory above it owned by root and not group/other writable',
        );
        return undefined;
      }
    } else if (this.host.userIsRoot(user.user)) {
      const vrrp = role === 'vrrp-track' || role === 'vrrp-notify';
      if (vrrp && !this.violationVrrp) {
        this.violationVrrp = true;
        this.sink.security(
          'script-insecure',
          'SECURITY VIOLATION - scripts would run as root but enable_script_security is not set',
          spec.at,
          'add enable_script_security to global_defs (and script_user USER for scripts that need not be root)',
        );
      } else if (!vrrp && !this.violationCheck) {
        this.violationCheck = true;
        this.sink.security(
          'script-insecure',
          'SECURITY VIOLATION - check scripts would run as root but enable_script_security is not set',
          spec.at,
          'add enable_script_security to global_defs (and script_user USER for scripts that need not be root)',
        );
      }
    }
    return { script, missing: false };
  }

  private userFor(
    spec: ScriptSpec,
    own: { user: string; group?: string } | undefined,
  ): { user: string; group?: string } | undefined {
    if (spec.user !== undefined)
      return spec.group === undefined
        ? { user: spec.user }
        : { user: spec.user, group: spec.group };
    if (own) return own;
    if (this.scriptUser) return this.scriptUser;
    // keepalived's default: keepalived_script if that user exists, else root — but with
    // script security on, falling back to root is refused.
    const exists = this.host.userExists('keepalived_script');
    if (exists === true) return { user: 'keepalived_script' };
    if (this.security && exists === false) {
      if (!this.defaultUserReported) {
        this.defaultUserReported = true;
        this.sink.warning(
          'user-missing',
          'unable to set the default user keepalived_script for scripts; they will not be run',
          spec.at,
          'set script_user USER in global_defs, or create the keepalived_script user',
        );
      }
      return undefined;
    }
    return { user: 'root' };
  }
}
