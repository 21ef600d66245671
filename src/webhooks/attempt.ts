import type { Event } from '../schemas/event.js';
import type { DeliveryAttempt, DeliveryStatus } from '../schemas/delivery.js';
import { liveSecrets } from '../store/subscription-repository.js';
import { traceHeaders } from '../tracing/context.js';
import { nextAttemptDelay, type RetryPolicy } from './retry-policy.js';
import type { SendResult, WebhookSender } from './sender.js';
import { webhookHeaders } from './signer.js';
import type { SubscriptionIndex } from './subscription-index.js';

/** One HTTP attempt of a delivery, as both the log dispatcher and the retry worker make it. */
export interface AttemptRun {
  result: SendResult;
  startedAt: number;
  webhookId: string;
}

/** Signs and POSTs `event` to its subscription; never throws (a crash is a failed attempt). */
export async function attemptDelivery(
  index: SubscriptionIndex, sender: WebhookSender, subscriptionId: string, event: Event, now: number, signal: AbortSignal,
): Promise<AttemptRun> {
  try {
    const entry = index.get(subscriptionId);
    const subscription = entry?.subscription;
    const body = JSON.stringify({ event, subscription: { id: subscriptionId, subscriber: subscription?.subscriber_name ?? null } });
    const headers = webhookHeaders(liveSecrets(entry?.secrets ?? [], now), event.event_id, Math.floor(now / 1000), body);
    const result = await sender.send(subscription?.callback_url ?? '', { ...headers, ...traceHeaders(event) }, body, signal);
    return { result, startedAt: now, webhookId: headers['webhook-id'] };
  } catch (err) {
    return { result: { status: null, durationMs: 0, error: String(err), body: null, retryAfter: undefined }, startedAt: now, webhookId: event.event_id };
  }
}

export const isSuccess = (result: SendResult): boolean => result.status !== null && result.status >= 200 && result.status < 300;

/** The next state of a delivery after its `attempts`-th attempt (docs/webhooks.md, "Attempts, retries and statuses"). */
export function outcomeOf(
  run: AttemptRun, attempts: number, maxRetries: number | null, retry: RetryPolicy, now: number,
): { status: DeliveryStatus; next: number | null; error: string | null; attempt: DeliveryAttempt } {
  const { result } = run;
  let status: DeliveryStatus = 'delivered';
  let next: number | null = null;
  let error = result.error;
  if (!isSuccess(result)) {
    if (result.status === 410) {
      status = 'failed';
      error = 'HTTP 410 Gone: the receiver asked to stop; the subscription was disabled';
    } else {
      const retryAfter = result.status === 429 || result.status === 503 ? result.retryAfter : undefined;
      const delay = nextAttemptDelay(retry, attempts, maxRetries, retryAfter, now);
      if (delay === null) status = 'failed';
      else {
        status = 'retrying';
        next = now + delay;
      }
    }
  }
  return {
    status, next, error,
    attempt: {
      attempt: attempts, at: new Date(run.startedAt).toISOString(), status_code: result.status, duration_ms: result.durationMs,
      error: result.error, response_body: result.body, webhook_id: run.webhookId,
    },
  };
}

/** Why a delivery of `event` gets no attempt (its subscription went away or stopped), or null when it does. */
export function noAttemptReason(index: SubscriptionIndex, subscriptionId: string): string | null {
  const entry = index.get(subscriptionId);
  if (!entry) return 'the subscription was deleted';
  const sub = entry.subscription;
  if (!sub.is_active) return `the subscription is disabled${sub.disabled_reason ? `: ${sub.disabled_reason}` : ''}`;
  if (sub.callback_url === null) return 'the subscription has no callback_url';
  return null;
}
