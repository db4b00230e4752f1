/** From a validated check to the checker that runs it, and to the health machine's policies. */
import type { CheckConfig, RealServerConfig } from '../config/index.js';
import type { CancelSignal } from '../health/cancel.js';
import type { CheckerPolicy, RealServerPolicy } from '../health/fsm.js';
import { probeHttp } from '../health/checkers/http.js';
import { probeMisc, type ScriptRun } from '../health/checkers/misc.js';
import { probeTcp } from '../health/checkers/tcp.js';
import type { ProbeResult } from '../health/result.js';

export type Probe = (signal: CancelSignal) => Promise<ProbeResult>;

/** `runScript`: how MISC_CHECK scripts start (the daemon passes its spawner). */
export function probeFor(
  check: CheckConfig,
  scriptSecurity: boolean,
  runScript: ScriptRun = probeMisc,
): Probe {
  switch (check.kind) {
    case 'http':
    case 'https': {
      const target = {
        kind: check.kind,
        address: check.address,
        port: check.port,
        ...(check.bindto === undefined ? {} : { bindto: check.bindto }),
        ...(check.bindPort === undefined ? {} : { bindPort: check.bindPort }),
        connectTimeoutMs: check.connectTimeoutMs,
        urls: check.urls.map((u) => ({
          path: u.path,
          statusRanges: u.statusCodes,
          ...(u.digest === undefined ? {} : { digest: u.digest }),
          ...(u.virtualhost === undefined ? {} : { virtualhost: u.virtualhost }),
        })),
        httpVersion: check.httpVersion,
        maxBodyBytes: check.maxBodyBytes,
        tlsVerify: check.tlsVerify,
        ...(check.sni === undefined ? {} : { sni: check.sni }),
      } as const;
      return (signal) => probeHttp(target, signal);
    }
    case 'tcp': {
      const target = {
        address: check.address,
        port: check.port,
        ...(check.bindto === undefined ? {} : { bindto: check.bindto }),
        ...(check.bindPort === undefined ? {} : { bindPort: check.bindPort }),
        connectTimeoutMs: check.connectTimeoutMs,
        ...(check.send === undefined ? {} : { send: check.send }),
        ...(check.expect === undefined ? {} : { expect: check.expect }),
      };
      return (signal) => probeTcp(target, signal);
    }
    case 'misc': {
      const target = {
        argv: check.script.argv,
        timeoutMs: check.timeoutMs,
        dynamic: check.dynamic,
        user: check.script.user,
        ...(check.script.group === undefined ? {} : { group: check.script.group }),
        scriptSecurity,
      };
      return (signal) => runScript(target, signal);
    }
  }
}

/** The longest one run of a check may take before the scheduler aborts it. */
export function runTimeoutMs(check: CheckConfig): number {
  if (check.kind === 'misc') return check.timeoutMs + 1000;
  // The checkers bound connect and response separately (one connect_timeout each, per url).
  const urls = check.kind === 'tcp' ? 1 : check.urls.length;
  return check.connectTimeoutMs * 2 * urls + 500;
}

export function checkerPolicy(check: CheckConfig): CheckerPolicy {
  const h = check.health;
  return {
    id: check.id,
    delayLoopMs: h.delayLoopMs,
    retry: h.retry,
    delayBeforeRetryMs: h.delayBeforeRetryMs,
    alpha: h.alpha,
    ...(h.rise === undefined ? {} : { rise: h.rise }),
    ...(h.fall === undefined ? {} : { fall: h.fall }),
  };
}

export function realServerPolicy(rs: RealServerConfig): RealServerPolicy {
  return {
    weight: rs.weight,
    removeOnFailure: rs.onFailure === 'remove',
    slowStartMs: rs.health.slowStartMs,
    checkers: rs.checks.map(checkerPolicy),
  };
}
