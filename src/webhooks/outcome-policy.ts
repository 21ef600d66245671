import { nextAttemptDelay, parseRetryAfter, type RetryPolicy } from './retry-policy.js';
import type { SendResult } from './sender.js';

/** What the policy needs to know about a delivery: nothing of how it is stored. */
export interface DeliveryProgress {
  /** Attempts made before this one. */
  attempts: number;
  /** The event's `max_retries` (null: the schedule's length). */
  maxRetries: number | null;
  /** Epoch ms after which the event is not delivered any more (null: never). */
  expiresAt: number | null;
}

export interface OutcomePolicy {
  retry: RetryPolicy;
  /** Longest endpoint pause a `Retry-After` may ask for (HERALD_WEBHOOK_MAX_PAUSE). */
  maxPauseMs: number;
}

/** The delivery's next state after one attempt. */
export type NextState =
  | { status: 'delivered' }
  | { status: 'retrying'; nextAttemptAt: number }
  | { status: 'failed' | 'expired'; error: string };

/**
 * What one attempt says about the endpoint, for its circuit (endpoint-health.ts): a 2xx is a `success`;
 * a 410 is `gone` (the receiver asked to stop); anything else is a `failure`. A 429/503 with a usable
 * `Retry-After` is a `failure` that also pauses the whole endpoint until `pauseUntil`.
 */
export type HealthSignal =
  | { kind: 'success' }
  | { kind: 'gone' }
  | { kind: 'failure'; pauseUntil?: number };

export interface Settled {
  attempts: number;
  next: NextState;
  /** The error the delivery records for this attempt (null on success). */
  error: string | null;
  health: HealthSignal;
}

export const GONE_ERROR = 'HTTP 410 Gone: the receiver asked to stop; the subscription was disabled';
export const EXPIRED_ERROR = 'the event expired before it was delivered';

/** True when the delivery's event expired: it is settled `expired` without (another) attempt. */
export const isExpired = (delivery: DeliveryProgress, now: number): boolean => delivery.expiresAt !== null && delivery.expiresAt <= now;

/**
 * Turns one HTTP attempt into the delivery's next state and a health signal for its endpoint. The retry
 * delay follows the schedule with jitter, or a 429/503's `Retry-After` (cut to `retry.maxRetryAfterMs`); a
 * failure past `maxRetries` fails for good; a retry that would only come due after the event expires
 * settles it `expired` now rather than later. `random` pins the jitter in tests.
 */
export function settle(
  delivery: DeliveryProgress,
  result: Pick<SendResult, 'status' | 'error' | 'retryAfter'>,
  policy: OutcomePolicy,
  now: number,
  random: () => number = Math.random,
): Settled {
  const attempts = delivery.attempts + 1;
  const { status } = result;
  if (status !== null && status >= 200 && status < 300) return { attempts, next: { status: 'delivered' }, error: null, health: { kind: 'success' } };
  if (status === 410) return { attempts, next: { status: 'failed', error: GONE_ERROR }, error: GONE_ERROR, health: { kind: 'gone' } };

  const error = result.error ?? (status === null ? 'no response' : `HTTP ${status}`);
  const retryAfter = status === 429 || status === 503 ? result.retryAfter : undefined;
  const pause = retryAfter === undefined ? null : parseRetryAfter(retryAfter, now);
  const health: HealthSignal = pause === null ? { kind: 'failure' } : { kind: 'failure', pauseUntil: now + Math.min(pause, policy.maxPauseMs) };
  const delay = nextAttemptDelay(policy.retry, attempts, delivery.maxRetries, retryAfter, now, random);
  if (delay === null) return { attempts, next: { status: 'failed', error }, error, health };
  const nextAttemptAt = now + delay;
  if (delivery.expiresAt !== null && nextAttemptAt >= delivery.expiresAt) return { attempts, next: { status: 'expired', error: EXPIRED_ERROR }, error, health };
  return { attempts, next: { status: 'retrying', nextAttemptAt }, error, health };
}
