/**
 * lvsd's exit statuses (docs/cli.md). check-config keeps keepalived -t's meaning for 4, 5 and 6
 * so scripts written for keepalived keep working.
 */
export const exitCodes = {
  ok: 0,
  /** lvsd itself failed (a bug): the message says so. */
  internal: 1,
  /** Bad command line: unknown command or flag, missing value. */
  usage: 2,
  /** run/plan: IPVS cannot be used (no ip_vs in the kernel, no ipvsadm). */
  ipvsUnavailable: 3,
  /** check-config: the configuration cannot run (fatal problems only); run: refused to start. */
  cannotRun: 4,
  /** check-config: errors or warnings; lvsd would run with them. */
  problems: 5,
  /** check-config: script security, or a strict include failed. */
  security: 6,
  /** drain --wait: the timeout passed with connections still active (the drain stays). */
  drainTimeout: 7,
  /** lvsd is not reachable: no socket, connection refused, or no answer in time. */
  notRunning: 8,
  /** Not allowed: the read-only socket, or no permission on the admin socket. */
  notAllowed: 9,
  /** Refused: no such server, an ambiguous name, a bad request. */
  refused: 10,
  /** events --follow: lvsd cut this reader off because it fell too far behind (SLOW_CONSUMER). */
  cutOff: 11,
  /**
   * run: stopped by SIGUSR2 for a restart (VIPs kept, ruling 14). EX_TEMPFAIL, so a service
   * manager can be told to start lvsd again at once (the unit's RestartForceExitStatus).
   */
  restart: 75,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];
