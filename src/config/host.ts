/**
 * What the configuration depends on that is not in the file: interfaces, scripts, users, the
 * default route. keepalived checks these while validating; so does lvsd, through this port, so
 * tests can pin the host (the corpus's "main", "bare" and "scripts" environments).
 */
export interface ExecutableInfo {
  /** The resolved path (after a PATH search for a bare name). */
  readonly path: string;
  /** True if a non-root user could change the file or a directory above it. */
  readonly writableByNonRoot: boolean;
}

export interface HostFacts {
  /** Undefined when unknown (the check is skipped). */
  interfaceExists(name: string): boolean | undefined;
  /** Resolves a script's argv[0]; undefined if it does not exist or is not executable. */
  executable(command: string): ExecutableInfo | undefined;
  userExists(name: string): boolean | undefined;
  userIsRoot(name: string): boolean;
}

/** A host that knows nothing: every host check is skipped. */
export const unknownHost: HostFacts = {
  interfaceExists: () => undefined,
  executable: (command) => ({ path: command, writableByNonRoot: false }),
  userExists: () => undefined,
  userIsRoot: (name) => name === 'root',
};

/** A host described by lists, for tests and for `check-config --host-facts`. */
export function describedHost(facts: {
  interfaces: readonly string[];
  executables: readonly string[];
  path?: readonly string[];
  users?: readonly string[];
  insecure?: readonly string[];
}): HostFacts {
  const ifaces = new Set(facts.interfaces);
  const exes = new Set(facts.executables);
  const users = new Set(facts.users ?? ['root']);
  const insecure = new Set(facts.insecure ?? []);
  const searchPath = facts.path ?? [
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ];
  return {
    interfaceExists: (n) => ifaces.has(n),
    executable(command) {
      const candidates = command.includes('/')
        ? [command]
        : searchPath.map((d) => `${d}/${command}`);
      const found = candidates.find((c) => exes.has(c));
      return found ? { path: found, writableByNonRoot: insecure.has(found) } : undefined;
    },
    userExists: (n) => users.has(n),
    userIsRoot: (n) => n === 'root' || n === '0',
  };
}
