import type { Event } from '../schemas/event.js';
import type { DeliveryAttempt } from '../schemas/delivery.js';
import { liveSecrets } from '../store/subscription-repository.js';
import { traceHeaders } from '../tracing/context.js';
import type { SendResult, WebhookSender } from './sender.js';
import { webhookHeaders } from './signer.js';
import { deliveryBody } from './payload.js';
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
    const { body, contentType } = deliveryBody(event, subscriptionId, subscription);
    const headers = webhookHeaders(liveSecrets(entry?.secrets ?? [], now), event.event_id, Math.floor(now / 1000), body);
    const result = await sender.send(subscription?.callback_url ?? '', { ...headers, ...traceHeaders(event), 'content-type': contentType }, body, signal);
    return { result, startedAt: now, webhookId: headers['webhook-id'] };
  } catch (err) {
    return { result: { status: null, durationMs: 0, error: String(err), body: null, retryAfter: undefined }, startedAt: now, webhookId: event.event_id };
  }
}

/** The attempt-log entry of one HTTP attempt, the `attempt`-th of its delivery. */
export function attemptRecord(run: AttemptRun, attempt: number): DeliveryAttempt {
  const { result } = run;
  return {
    attempt, at: new Date(run.startedAt).toISOString(), status_code: result.status, duration_ms: result.durationMs,
    error: result.error, response_body: result.body, webhook_id: run.webhookId,
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
