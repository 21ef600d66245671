import { DateTime, RecordId } from 'surrealdb';
import type { Event, Priority } from '../schemas/event.js';

/** Largest seq we ever assign; rseq = SEQ_MAX − seq keeps newest-first scans on an ascending index. */
export const SEQ_MAX = 2 ** 53 - 1;
const KEY_WIDTH = 16;

export const padSeq = (n: number): string => String(n).padStart(KEY_WIDTH, '0');
/** Space sorts below every character an event type may contain, so `type + ' '` bounds one type's keys. */
export const typeKey = (eventType: string, n: number): string => `${eventType} ${padSeq(n)}`;

/** The record as stored: SurrealDB has NONE instead of null for absent optional fields. */
export interface EventRow {
  id: RecordId<'event'>;
  event_type: string;
  source: string;
  target?: string;
  payload: Record<string, unknown>;
  metadata: Record<string, unknown>;
  timestamp: Date | DateTime;
  priority: Priority;
  correlation_id?: string;
  workflow_id?: string;
  session_id?: string;
  retry_count: number;
  max_retries?: number;
  expires_at?: Date | DateTime;
  received_at: Date | DateTime;
  seq: number;
  rseq: number;
  type_key: string;
  type_rkey: string;
}

const orNone = <T>(value: T | null): T | undefined => (value === null ? undefined : value);
const iso = (value: Date | DateTime): string => value.toISOString();

export function toRow(event: Event, receivedAt: Date): EventRow {
  const row: EventRow = {
    id: new RecordId('event', event.event_id),
    event_type: event.event_type,
    source: event.source,
    payload: event.payload,
    metadata: event.metadata,
    timestamp: new Date(event.timestamp),
    priority: event.priority,
    retry_count: event.retry_count,
    received_at: receivedAt,
    seq: event.seq,
    rseq: SEQ_MAX - event.seq,
    type_key: typeKey(event.event_type, event.seq),
    type_rkey: typeKey(event.event_type, SEQ_MAX - event.seq),
  };
  const optional = {
    target: orNone(event.target),
    correlation_id: orNone(event.correlation_id),
    workflow_id: orNone(event.workflow_id),
    session_id: orNone(event.session_id),
    max_retries: orNone(event.max_retries),
    expires_at: event.expires_at === null ? undefined : new Date(event.expires_at),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (row as unknown as Record<string, unknown>)[key] = value;
  }
  return row;
}

export function fromRow(row: EventRow): Event {
  return {
    event_id: String(row.id.id),
    event_type: row.event_type,
    source: row.source,
    target: row.target ?? null,
    payload: row.payload ?? {},
    metadata: row.metadata ?? {},
    timestamp: iso(row.timestamp),
    priority: row.priority,
    correlation_id: row.correlation_id ?? null,
    workflow_id: row.workflow_id ?? null,
    session_id: row.session_id ?? null,
    retry_count: row.retry_count ?? 0,
    max_retries: row.max_retries ?? null,
    expires_at: row.expires_at ? iso(row.expires_at) : null,
    seq: row.seq,
  };
}

export function isExpired(event: Pick<Event, 'expires_at'>, now: number): boolean {
  return event.expires_at !== null && Date.parse(event.expires_at) <= now;
}
