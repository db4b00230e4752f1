/**
 * When to try a failed delivery again: exponential backoff with "equal jitter" — half the
 * delay is fixed, half random — so a fleet of directors that lost the same receiver does not
 * retry in lock-step, yet never retries at once. Bounded in count; pure (randomness is an
 * argument).
 */
export interface RetryPolicy {
  /** Delay before the first retry, before jitter. */
  readonly baseMs: number;
  readonly maxDelayMs: number;
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 1000,
  maxDelayMs: 60_000,
  maxAttempts: 6,
};

/**
 * The wait after failed attempt number `attempt` (1-based), or undefined when no attempt is
 * left. `random` is in [0, 1).
 */
export function retryDelayMs(
  attempt: number,
  policy: RetryPolicy,
  random: number,
): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  const exp = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exp / 2 + (exp / 2) * random);
}

/** A receiver's answer decides whether trying again can help. */
export function retryable(status: number | undefined): boolean {
  if (status === undefined) return true; // network error, timeout
  if (status === 408 || status === 425 || status === 429) return true;
  return status >= 500;
}
