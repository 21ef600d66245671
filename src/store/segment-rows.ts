import { RecordId } from 'surrealdb';
import type { Event } from '../schemas/event.js';

/**
 * Storage layout v2: the commit is the unit of storage. Every committed transaction is ONE `segment` row
 * holding its events' documents as one JSON string; the engine charges per row and per index key far more
 * than per byte, so this is what makes a commit cheap. Per-event rows exist only where a lookup needs them,
 * and only for events that carry the field. See docs/storage.md.
 *
 * | table | record id | one row per |
 * |---|---|---|
 * | `segment` | `segment:⟨last seq⟩` (integer) | committed transaction |
 * | `seg_type` | `seg_type:[event_type, last seq of its segment]` | (type, segment) |
 * | `event_type` | `event_type:⟨event_type⟩` | distinct type ever stored (wildcard expansion) |
 * | `event_key` | `event_key:⟨event_id⟩` | event whose event_id the client supplied |
 * | `event_ref` | `event_ref:[kind, value, seq]` | correlation/workflow/session id an event carries |
 * | `event_expiry` | `event_expiry:[expires_at ms, seq]` | event with expires_at |
 * | `herald_meta` | `herald_meta:schema` | the storage schema version (`version`) |
 *
 * Lookups read bounded record-id ranges (`RecordIdRange` with both ends): a bounded range costs ~1 ms, while
 * the engine reads an open-ended range to its end whatever the LIMIT.
 */
export const SCHEMA_VERSION = 2;
/** Herald 0.1.0 stored one row per event and wrote no version row; its data reads as schema 1. */
export const LEGACY_SCHEMA_VERSION = 1;

/**
 * Most seqs one segment spans. Commit groups and batch requests are capped at it (and rows hold at most
 * SEGMENT_SPLIT_EVENTS), so the segment holding seq s has an id (its last seq) in [s, s + SEGMENT_MAX_EVENTS − 1].
 */
export const SEGMENT_MAX_EVENTS = 4096;

/**
 * Events per segment row a transaction writes: a larger group is split into rows of at most this many (in
 * the same transaction, so still atomic). A read fetches whole rows, so a history page of 100 events or a
 * single lookup pays for at most this many documents rather than a whole 1000-event batch
 * (docs/storage.md, "Segment size").
 */
export const SEGMENT_SPLIT_EVENTS = 128;

/** Largest seq Herald ever assigns (the largest integer a JSON number holds exactly). */
export const SEQ_MAX = 2 ** 53 - 1;
/** A seq as a fixed-width string, so string keys sort like the numbers. */
export const padSeq = (n: number): string => String(n).padStart(16, '0');

export interface SegmentRow {
  id: RecordId<'segment'>;
  /** The seq range the transaction took: (first − 1, last]. Every seq in it belongs to this segment. */
  first: number;
  last: number;
  /** JSON array of the events' documents, ascending seq. Expiry may later drop documents from it. */
  docs: string;
  /**
   * Where each seq's document starts in `docs` (index seq − first; −1: expiry removed it), so a read parses
   * only the documents it needs (segment-docs.ts). Absent on segments written before offsets existed (Herald
   * 0.2.0, the 0.1.0 upgrade): those are parsed whole.
   */
  offs?: number[];
  /** Distinct event types in the segment. */
  types: string[];
  /** The client-supplied event_ids in the segment (their `event_key` rows go with it). */
  keys: string[];
  /** Commit time in epoch ms by the writer's clock (age-based retention). */
  at: number;
}

/** One (type, segment) pair: that type's seqs in the segment, ascending. */
export interface SegTypeRow {
  id: RecordId<'seg_type'>;
  seqs: number[];
}

export interface EventKeyRow {
  id: RecordId<'event_key'>;
  seq: number;
  /** Id of the segment holding the event (its last seq). */
  segment: number;
}

export const REF_KINDS = { correlation_id: 'c', workflow_id: 'w', session_id: 's' } as const;
export type RefField = keyof typeof REF_KINDS;

export interface EventRefRow {
  id: RecordId<'event_ref'>;
  segment: number;
}

export interface EventExpiryRow {
  id: RecordId<'event_expiry'>;
  segment: number;
}

export const segmentId = (last: number): RecordId<'segment'> => new RecordId('segment', last);
export const segTypeId = (eventType: string, last: number): RecordId<'seg_type'> => new RecordId('seg_type', [eventType, last]);
export const eventKeyId = (eventId: string): RecordId<'event_key'> => new RecordId('event_key', eventId);
export const eventRefId = (field: RefField, value: string, seq: number): RecordId<'event_ref'> =>
  new RecordId('event_ref', [REF_KINDS[field], value, seq]);
export const eventExpiryId = (expiresAtMs: number, seq: number): RecordId<'event_expiry'> =>
  new RecordId('event_expiry', [expiresAtMs, seq]);

export function decodeDocs(row: Pick<SegmentRow, 'docs'>): Event[] {
  return JSON.parse(row.docs) as Event[];
}

export function isExpired(event: Pick<Event, 'expires_at'>, now: number): boolean {
  return event.expires_at !== null && Date.parse(event.expires_at) <= now;
}
