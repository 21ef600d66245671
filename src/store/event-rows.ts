import { RecordId } from 'surrealdb';
import type { Event } from '../schemas/event.js';

/** Largest seq we ever assign; rseq = SEQ_MAX − seq keeps newest-first scans on an ascending index. */
export const SEQ_MAX = 2 ** 53 - 1;
const KEY_WIDTH = 16;

export const padSeq = (n: number): string => String(n).padStart(KEY_WIDTH, '0');
/** Space sorts below every character an event type may contain, so `type + ' '` bounds one type's keys. */
export const typeKey = (eventType: string, n: number): string => `${eventType} ${padSeq(n)}`;

/**
 * The record as stored: the event's JSON plus the keys Herald scans by. Storing the document as one string
 * (TypeBox validated it already) instead of ~15 typed fields doubles insert throughput (measured, BENCHMARKS.md).
 */
export interface EventRow {
  id: RecordId<'event'>;
  doc: string;
  /** Server receipt time in epoch ms, for age-based retention. */
  received_at: number;
  seq: number;
  rseq: number;
  type_key: string;
  type_rkey: string;
}

export const REF_FIELDS = { correlation_id: 'c', workflow_id: 'w', session_id: 's' } as const;
export type RefField = keyof typeof REF_FIELDS;

/** One row per id an event carries, so id lookups need no index over the (mostly absent) fields themselves. */
export interface EventRefRow {
  id: RecordId<'event_ref'>;
  ref: string;
  seq: number;
  event: RecordId<'event'>;
}

export interface EventExpiryRow {
  id: RecordId<'event_expiry'>;
  expires_at: Date;
  event: RecordId<'event'>;
}

export interface EventRecords {
  events: EventRow[];
  refs: EventRefRow[];
  expiries: EventExpiryRow[];
}

export const refKey = (field: RefField, value: string): string => `${REF_FIELDS[field]}:${value}`;
/** Deterministic side-table ids: a re-published event_id cannot add a second ref or expiry row. */
export const refIds = (eventId: string): RecordId<'event_ref'>[] =>
  Object.values(REF_FIELDS).map((kind) => new RecordId('event_ref', `${eventId}:${kind}`));
export const expiryId = (eventId: string): RecordId<'event_expiry'> => new RecordId('event_expiry', eventId);

/**
 * The SDK cannot encode a pre-1970 datetime with a fraction of a second (its nanoseconds come out negative).
 * Any expiry up to the epoch is long past, so cleanup treats it alike; the event's own document keeps the
 * time as given.
 */
const expiryDate = (expiresAt: string): Date => new Date(Math.max(0, Date.parse(expiresAt)));

export function toRecords(events: Event[], receivedAt: Date): EventRecords {
  const records: EventRecords = { events: [], refs: [], expiries: [] };
  for (const event of events) {
    const id = new RecordId('event', event.event_id);
    records.events.push({
      id,
      doc: JSON.stringify(event),
      received_at: receivedAt.getTime(),
      seq: event.seq,
      rseq: SEQ_MAX - event.seq,
      type_key: typeKey(event.event_type, event.seq),
      type_rkey: typeKey(event.event_type, SEQ_MAX - event.seq),
    });
    for (const field of Object.keys(REF_FIELDS) as RefField[]) {
      const value = event[field];
      if (value === null) continue;
      records.refs.push({ id: new RecordId('event_ref', `${event.event_id}:${REF_FIELDS[field]}`), ref: refKey(field, value), seq: event.seq, event: id });
    }
    if (event.expires_at !== null) {
      records.expiries.push({ id: expiryId(event.event_id), expires_at: expiryDate(event.expires_at), event: id });
    }
  }
  return records;
}

export function fromRow(row: EventRow): Event {
  return JSON.parse(row.doc) as Event;
}

export function isExpired(event: Pick<Event, 'expires_at'>, now: number): boolean {
  return event.expires_at !== null && Date.parse(event.expires_at) <= now;
}
