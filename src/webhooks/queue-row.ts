import type { DeliveryAttempt, DeliveryDetail, DeliveryStatus } from '../schemas/delivery.js';
import type { Event } from '../schemas/event.js';
import { PRIORITY_RANK, cursorDeliveryId, deliveryId, listKey, newDelivery, queueKey, type DeliveryRow } from '../store/delivery-rows.js';

/** How a first attempt from the log ended when it did not deliver (or why none was made). */
export interface FirstOutcome {
  status: DeliveryStatus;
  next?: number | null;
  error: string | null;
  attempt?: DeliveryAttempt;
}

/** The retry-queue row of an event whose first attempt from the log did not deliver it (id: cursorDeliveryId). */
export function queueRow(subscriptionId: string, event: Event, nowMs: number, outcome: FirstOutcome): DeliveryRow {
  const row = newDelivery(cursorDeliveryId(subscriptionId, event.seq), event, subscriptionId, nowMs);
  const next = outcome.next ?? null;
  const at = outcome.attempt?.at ?? null;
  const { queue_key: _unused, ...rest } = row;
  return {
    ...rest,
    status: outcome.status,
    attempts: outcome.attempt ? 1 : 0,
    next_attempt_at: next,
    ...(next !== null ? { queue_key: queueKey(row.rank, next) } : { settled_at: nowMs }),
    created_at: at ?? row.created_at,
    last_attempt_at: at,
    last_status_code: outcome.attempt?.status_code ?? null,
    last_error: outcome.error,
    attempts_log: outcome.attempt ? [outcome.attempt] : [],
  };
}

/** A retry-queue row for a manual retry of a delivery the attempt log holds: due now, its attempts kept. */
export function retryRowOf(d: DeliveryDetail, nowMs: number): DeliveryRow {
  const rank = PRIORITY_RANK[d.priority];
  return {
    id: deliveryId(d.delivery_id), event_id: d.event_id, subscription_id: d.subscription_id, event_type: d.event_type, priority: d.priority,
    rank, seq: d.seq, status: 'retrying', attempts: d.attempts, next_attempt_at: nowMs, queue_key: queueKey(rank, nowMs),
    expires_at: null, max_retries: null, list_key: listKey(d.subscription_id, d.seq, d.delivery_id), created_at: d.created_at,
    updated_at: new Date(nowMs).toISOString(), last_attempt_at: d.last_attempt_at, last_status_code: d.last_status_code,
    last_error: d.last_error, attempts_log: d.attempts_log,
  };
}
