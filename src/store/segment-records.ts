import { RecordId } from 'surrealdb';
import type { Event } from '../schemas/event.js';
import { encodeDocs } from './segment-docs.js';
import {
  REF_KINDS, eventExpiryId, eventKeyId, eventRefId, segTypeId, segmentId,
  type EventExpiryRow, type EventKeyRow, type EventRefRow, type RefField, type SegTypeRow, type SegmentRow,
} from './segment-rows.js';

/** Every row one committed transaction writes for its events (the seq counter and deliveries aside). */
export interface SegmentRecords {
  segment: SegmentRow;
  segTypes: SegTypeRow[];
  /** `event_type` registry rows for the segment's types; written with INSERT IGNORE. */
  types: Array<{ id: RecordId<'event_type'> }>;
  keys: EventKeyRow[];
  refs: EventRefRow[];
  expiries: EventExpiryRow[];
}

/**
 * The SDK cannot encode a pre-1970 datetime with a fraction of a second, and any expiry up to the epoch is long
 * past, so expiry keys clamp at 0; the event's own document keeps the time as given.
 */
const expiryMs = (expiresAt: string): number => Math.max(0, Date.parse(expiresAt));

/** The ids of the ref and expiry rows an event has (none when it carries no id and no expiry). */
export function lookupIds(event: Event): { refs: RecordId<'event_ref'>[]; expiry: RecordId<'event_expiry'> | null } {
  const refs: RecordId<'event_ref'>[] = [];
  for (const field of Object.keys(REF_KINDS) as RefField[]) {
    const value = event[field];
    if (value !== null) refs.push(eventRefId(field, value, event.seq));
  }
  return { refs, expiry: event.expires_at === null ? null : eventExpiryId(expiryMs(event.expires_at), event.seq) };
}

/**
 * The rows of one segment: `events` have consecutive seqs `first..last` in order, and `clientIds` names the
 * events whose event_id the client supplied (only those get an `event_key` row; server ids carry their seq).
 */
export function toSegmentRecords(events: Event[], clientIds: ReadonlySet<string>, atMs: number): SegmentRecords {
  const first = events[0]?.seq;
  const last = events.at(-1)?.seq;
  if (first === undefined || last === undefined) throw new Error('a segment needs at least one event');
  const byType = new Map<string, number[]>();
  const keys: EventKeyRow[] = [];
  const refs: EventRefRow[] = [];
  const expiries: EventExpiryRow[] = [];
  for (const event of events) {
    const seqs = byType.get(event.event_type);
    if (seqs) seqs.push(event.seq);
    else byType.set(event.event_type, [event.seq]);
    if (clientIds.has(event.event_id)) keys.push({ id: eventKeyId(event.event_id), seq: event.seq, segment: last });
    const lookups = lookupIds(event);
    refs.push(...lookups.refs.map((id) => ({ id, segment: last })));
    if (lookups.expiry) expiries.push({ id: lookups.expiry, segment: last });
  }
  return {
    segment: {
      id: segmentId(last),
      first,
      last,
      ...encodeDocs(events, first, last),
      types: [...byType.keys()],
      keys: keys.map((k) => String(k.id.id)),
      at: atMs,
    },
    segTypes: [...byType].map(([type, seqs]) => ({ id: segTypeId(type, last), seqs })),
    types: [...byType.keys()].map((type) => ({ id: new RecordId('event_type', type) })),
    keys,
    refs,
    expiries,
  };
}
