import { RecordId } from 'surrealdb';
import type { Delivery, DeliveryAttempt, DeliveryStatus } from '../schemas/delivery.js';
import type { Event, Priority } from '../schemas/event.js';
import { SEQ_MAX, padSeq } from './segment-rows.js';

/** Claim order: critical first, then high, normal, low. */
export const PRIORITY_RANK: Record<Priority, number> = { critical: 0, high: 1, normal: 2, low: 3 };
export const RANKS = [0, 1, 2, 3] as const;
/**
 * `queue_key` = rank × 10¹³ + due time in epoch ms: one ascending number per claimable delivery, so a claim
 * reads each rank's due rows as one bounded range of a single-field index (a range with nothing else in the
 * WHERE is the only shape SurrealDB 3.0.2 serves correctly with LIMIT; see docs/storage.md). Epoch ms stay
 * below 10¹³ until the year 2286. A delivery that is leased, delivered, failed or expired has no queue_key.
 */
export const RANK_SPAN = 1e13;
export const queueKey = (rank: number, dueMs: number): number => rank * RANK_SPAN + dueMs;
export const rankRange = (rank: number, nowMs: number): { lo: number; hi: number } => ({ lo: rank * RANK_SPAN, hi: rank * RANK_SPAN + nowMs });

/** A subscription's deliveries newest event first: `<subscription>|<reverse seq>|<delivery>`. */
export const listKey = (subscriptionId: string, seq: number, deliveryId: string): string =>
  `${subscriptionId}|${padSeq(SEQ_MAX - seq)}|${deliveryId}`;
/** Sorts after every list key of the subscription ('~' is above the digits and hex of the key's tail). */
export const listKeyEnd = (subscriptionId: string): string => `${subscriptionId}|~`;

export interface DeliveryRow {
  id: RecordId<'delivery'>;
  event_id: string;
  subscription_id: string;
  event_type: string;
  priority: Priority;
  rank: number;
  seq: number;
  status: DeliveryStatus;
  attempts: number;
  /** Epoch ms; null once the delivery is settled. */
  next_attempt_at: number | null;
  queue_key?: number;
  lease_until?: number;
  leased_by?: string;
  /** Epoch ms when it became delivered, failed or expired (delivery retention); absent while queued. */
  settled_at?: number;
  /** The event's expires_at (epoch ms) and max_retries, copied so the worker decides without the event. */
  expires_at: number | null;
  max_retries: number | null;
  list_key: string;
  created_at: string;
  updated_at: string;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  /** Every HTTP attempt, oldest first; kept on the row so recording one is a single row write. */
  attempts_log?: DeliveryAttempt[];
}

/** A new delivery of `event` to a subscription, due at `dueMs`. */
export function newDelivery(deliveryId: string, event: Event, subscriptionId: string, dueMs: number): DeliveryRow {
  const now = new Date(dueMs).toISOString();
  const rank = PRIORITY_RANK[event.priority];
  return {
    id: new RecordId('delivery', deliveryId),
    event_id: event.event_id,
    subscription_id: subscriptionId,
    event_type: event.event_type,
    priority: event.priority,
    rank,
    seq: event.seq,
    status: 'pending',
    attempts: 0,
    next_attempt_at: dueMs,
    queue_key: queueKey(rank, dueMs),
    expires_at: event.expires_at === null ? null : Date.parse(event.expires_at),
    max_retries: event.max_retries,
    list_key: listKey(subscriptionId, event.seq, deliveryId),
    created_at: now,
    updated_at: now,
    last_attempt_at: null,
    last_status_code: null,
    last_error: null,
  };
}

export function toDelivery(row: DeliveryRow): Delivery {
  return {
    delivery_id: String(row.id.id),
    event_id: row.event_id,
    subscription_id: row.subscription_id,
    event_type: row.event_type,
    priority: row.priority,
    seq: row.seq,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.next_attempt_at === null ? null : new Date(row.next_attempt_at).toISOString(),
    last_attempt_at: row.last_attempt_at,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export const deliveryId = (id: string): RecordId<'delivery'> => new RecordId('delivery', id);

/**
 * The id of the delivery of event `seq` to a subscription from its log cursor: `<subscription_id>.<seq>`,
 * the same on every replica, so its attempt-log record and its retry row are found without an index.
 * Replays keep random UUIDs (each replay is a new delivery of the event).
 */
export const cursorDeliveryId = (subscriptionId: string, seq: number): string => `${subscriptionId}.${seq}`;
export function parseCursorDeliveryId(id: string): { subscriptionId: string; seq: number } | null {
  const dot = id.lastIndexOf('.');
  if (dot < 0) return null;
  const seq = Number(id.slice(dot + 1));
  return Number.isSafeInteger(seq) && seq > 0 ? { subscriptionId: id.slice(0, dot), seq } : null;
}
