/**
 * Who a MISC_CHECK script runs as, and whether it may run at all (ruling 6: keepalived's
 * `script_user` / `enable_script_security` apply from the first script lvsd runs).
 *
 * - `user` / `group` may be names or numeric ids. Names are resolved once per process with
 *   `id` / `getent` (the same NSS view the admin's shell has) and cached.
 * - Only root can switch users. A non-root lvsd asked to run as someone else refuses rather
 *   than silently running the script as itself.
 * - With script security on, a script is refused when a non-root user could change what runs:
 *   the file or any directory above it (after resolving symlinks) is owned by a non-root user,
 *   writable by a group other than root's, or writable by everyone. This is keepalived's rule
 *   (lib/notify.c check_script_secure) in spirit; it is re-checked on every run because files
 *   change under a running daemon.
 */
import { constants as fsConstants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { execa } from 'execa';

export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

const idCache = new Map<string, Promise<number | undefined>>();

function cached(
  key: string,
  lookup: () => Promise<number | undefined>,
): Promise<number | undefined> {
  let p = idCache.get(key);
  if (p === undefined) {
    p = lookup();
    idCache.set(key, p);
  }
  return p;
}

async function run(file: string, args: string[]): Promise<string | undefined> {
  const r = await execa(file, args, { reject: false, timeout: 5000, stdin: 'ignore' });
  return r.exitCode === 0 && typeof r.stdout === 'string' ? r.stdout.trim() : undefined;
}

function numeric(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  return /^\d+$/.test(v) ? Number(v) : undefined;
}

function userId(user: string | number): Promise<number | undefined> {
  const n = numeric(user);
  if (n !== undefined) return Promise.resolve(n);
  return cached(`u:${user}`, async () =>
    numeric((await run('id', ['-u', '--', String(user)])) ?? ''),
  );
}

function primaryGroupOf(user: string | number): Promise<number | undefined> {
  return cached(`pg:${user}`, async () =>
    numeric((await run('id', ['-g', '--', String(user)])) ?? ''),
  );
}

function groupId(group: string | number): Promise<number | undefined> {
  const n = numeric(group);
  if (n !== undefined) return Promise.resolve(n);
  // getent group NAME → "name:x:GID:members"
  return cached(`g:${group}`, async () =>
    numeric((await run('getent', ['group', String(group)]))?.split(':')[2] ?? ''),
  );
}

/**
 * The uid/gid to pass to the child, `undefined` for "as lvsd itself", or a refusal reason.
 * Without `user`, keepalived's default script user is the caller's business (the config
 * module resolves `script_user`); this function only turns names into ids.
 */
export async function resolveRunAs(
  user: string | number | undefined,
  group: string | number | undefined,
): Promise<{ runAs?: RunAs; refusal?: string }> {
  if (user === undefined && group === undefined) return {};
  const uid = user === undefined ? process.getuid?.() : await userId(user);
  if (uid === undefined) return { refusal: `unknown user ${String(user)}` };
  // No group: the user's primary group; a bare uid with no passwd entry gets gid = uid.
  const gid =
    group !== undefined
      ? await groupId(group)
      : user !== undefined
        ? ((await primaryGroupOf(user)) ?? numeric(user))
        : process.getgid?.();
  if (gid === undefined) return { refusal: `unknown group ${String(group ?? user)}` };
  const me = process.getuid?.();
  if (me !== 0) {
    if (uid === me && gid === process.getgid?.()) return {};
    return {
      refusal: `cannot run as ${String(user ?? uid)}:${String(group ?? gid)}: lvsd is not running as root`,
    };
  }
  return { runAs: { uid, gid } };
}

/** argv[0] as the kernel will find it: absolute, or the first executable match on PATH. */
export async function resolveExecutable(file: string): Promise<string | undefined> {
  if (isAbsolute(file) || file.includes('/')) return file;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, file);
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here; next PATH entry
    }
  }
  return undefined;
}

/** Why a non-root user could alter this script, or undefined when it is safe. */
export async function insecureReason(file: string): Promise<string | undefined> {
  const resolved = await resolveExecutable(file);
  if (resolved === undefined) return undefined; // spawn will report "not found"
  let path: string;
  try {
    path = await realpath(resolved);
  } catch {
    return undefined; // missing: spawn reports it
  }
  for (let p = path; ; p = dirname(p)) {
    const st = await stat(p);
    if (st.uid !== 0) return `${p} is owned by uid ${st.uid}`;
    if ((st.mode & 0o002) !== 0) return `${p} is writable by everyone`;
    if ((st.mode & 0o020) !== 0 && st.gid !== 0) return `${p} is writable by group ${st.gid}`;
    if (p === dirname(p)) return undefined;
  }
}
