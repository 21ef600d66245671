/** When the next attempt of a failed delivery is due, or null when the delivery has failed for good. */
export interface RetryPolicy {
  /** Delays after the 1st, 2nd, … failed attempt (HERALD_RETRY_SCHEDULE). */
  scheduleMs: number[];
  /** ±fraction of each delay, so receivers that fail together are not retried together. */
  jitter: number;
  /** Longest Retry-After honoured; a longer one is cut to this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_JITTER = 0.2;

/**
 * `failedAttempts` counts attempts made so far (≥ 1). `maxRetries` is the event's cap (null: the schedule's
 * length). `retryAfter` is the receiver's header on 429/503, in seconds or as an HTTP date. `random` returns
 * [0, 1) — injectable so tests can pin the jitter.
 */
export function nextAttemptDelay(
  policy: RetryPolicy,
  failedAttempts: number,
  maxRetries: number | null,
  retryAfter: string | undefined,
  now: number,
  random: () => number = Math.random,
): number | null {
  const retriesAllowed = Math.min(policy.scheduleMs.length, maxRetries ?? Number.POSITIVE_INFINITY);
  if (failedAttempts > retriesAllowed) return null;
  const fromHeader = retryAfter === undefined ? null : parseRetryAfter(retryAfter, now);
  if (fromHeader !== null) return Math.min(fromHeader, policy.maxRetryAfterMs);
  const base = policy.scheduleMs[failedAttempts - 1] as number;
  return Math.round(base * (1 + policy.jitter * (2 * random() - 1)));
}

/** `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT` → ms from now; null if unusable. */
export function parseRetryAfter(value: string, now: number): number | null {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
