/** HostFacts read from this machine (the shell side of src/config). */
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { posix as path } from 'node:path';
import type { ExecutableInfo, HostFacts } from './host.js';

export function nodeHost(env: NodeJS.ProcessEnv = process.env): HostFacts {
  let interfaces: Set<string> | undefined;
  let users: Set<string> | undefined;
  const searchPath = (env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .filter(Boolean);
  return {
    interfaceExists(name) {
      if (!interfaces) {
        // /proc/net/dev follows the network namespace lvsd runs in; /sys/class/net shows the
        // namespace sysfs was mounted in, which after a plain `unshare -n` is the parent's.
        try {
          const lines = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2);
          interfaces = new Set(lines.map((l) => l.split(':')[0]?.trim() ?? '').filter(Boolean));
        } catch {
          try {
            interfaces = new Set(readdirSync('/sys/class/net'));
          } catch {
            return undefined;
          }
        }
      }
      return interfaces.has(name);
    },
    executable(command): ExecutableInfo | undefined {
      const candidates = command.includes('/')
        ? [command]
        : searchPath.map((d) => path.join(d, command));
      for (const c of candidates) {
        try {
          const st = statSync(c);
          if (!st.isFile()) continue;
          accessSync(c, constants.X_OK);
          return { path: c, writableByNonRoot: writableByNonRoot(c) };
        } catch {
          // not here; try the next directory
        }
      }
      return undefined;
    },
    userExists(name) {
      if (!users) {
        try {
          users = new Set(
            readFileSync('/etc/passwd', 'utf8')
              .split('\n')
              .map((l) => l.split(':')[0] ?? ''),
          );
        } catch {
          return undefined;
        }
      }
      return users.has(name);
    },
    userIsRoot: (name) => name === 'root' || name === '0',
  };
}

/** keepalived's rule: the file and every directory above it owned by root, not group/other writable. */
function writableByNonRoot(file: string): boolean {
  let p = path.resolve(file);
  for (let i = 0; i < 64; i++) {
    try {
      const st = statSync(p);
      const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
      if (st.uid !== 0 || (!sticky && (st.mode & 0o022) !== 0)) return true;
    } catch {
      return true;
    }
    if (p === '/') return false;
    p = path.dirname(p);
  }
  return true;
}
