/** Time zones for maintenance windows, pure: lvsd accepts only names the runtime knows. */

/** Why `timezone` is not a usable IANA zone; undefined when it is. */
export function timezoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return undefined;
  } catch {
    return `unknown time zone '${timezone}' (use an IANA name such as UTC or Europe/Berlin)`;
  }
}

/** The zone this process runs in (what a CLI user means by "local time"). */
export function localTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
