import { BoundExcluded, BoundIncluded, RecordIdRange, type RecordId, type Surreal } from 'surrealdb';
import {
  REF_KINDS, SEGMENT_MAX_EVENTS, SEQ_MAX, eventKeyId, segmentId, type EventKeyRow, type RefField, type SegTypeRow, type SegmentRow,
} from './segment-rows.js';

/** Spans probed in turn for the segment holding a seq: a bounded range costs per key in it, LIMIT or not. */
const COVER_PROBES = [16, 256, SEGMENT_MAX_EVENTS] as const;

/**
 * The read primitives over the segment log; every one is a bounded record-id range or a list of record ids.
 * Seq bounds are `from` exclusive, `to` inclusive, as everywhere in Herald.
 */
export class SegmentReads {
  constructor(private readonly db: Surreal) {}

  /** Segments whose last seq is in (from, to], ascending. A segment straddling `to` is not among them. */
  async endingIn(from: number, to: number): Promise<SegmentRow[]> {
    if (to <= from) return [];
    const [rows] = await this.db
      .query<[SegmentRow[]]>('SELECT * FROM $range', { range: new RecordIdRange('segment', new BoundExcluded(from), new BoundIncluded(to)) })
      .collect();
    return rows;
  }

  /** The lowest segment ending above `from`, however far above: a 0.1.0 upgrade can leave long gaps. */
  async firstEndingAbove(from: number): Promise<SegmentRow | undefined> {
    const [rows] = await this.db
      .query<[SegmentRow[]]>('SELECT * FROM $range LIMIT 1', { range: new RecordIdRange('segment', new BoundExcluded(from), new BoundIncluded(SEQ_MAX)) })
      .collect();
    return rows[0];
  }

  /** The segment holding `seq`, or undefined when no stored segment does (not committed yet, or deleted). */
  async covering(seq: number): Promise<SegmentRow | undefined> {
    let from = seq - 1;
    for (const span of COVER_PROBES) {
      const to = seq - 1 + span;
      const [rows] = await this.db
        .query<[SegmentRow[]]>('SELECT * FROM $range LIMIT 1', { range: new RecordIdRange('segment', new BoundExcluded(from), new BoundIncluded(to)) })
        .collect();
      const row = rows[0];
      if (row) return row.first <= seq ? row : undefined;
      from = to;
    }
    return undefined;
  }

  /** The segments with these ids (last seqs), ascending; missing ones are left out. */
  async byIds(lasts: number[]): Promise<SegmentRow[]> {
    if (lasts.length === 0) return [];
    const [rows] = await this.db.query<[SegmentRow[]]>('SELECT * FROM $ids', { ids: lasts.map(segmentId) }).collect();
    return rows.filter(Boolean).sort((a, b) => a.last - b.last);
  }

  /** One type's (type, segment) rows whose segment ends in (from, to], ascending: `[segment last, seqs]`. */
  async typeRows(eventType: string, from: number, to: number): Promise<Array<{ segment: number; seqs: number[] }>> {
    if (to <= from) return [];
    const [rows] = await this.db
      .query<[SegTypeRow[]]>('SELECT * FROM $range', {
        range: new RecordIdRange('seg_type', new BoundExcluded([eventType, from]), new BoundIncluded([eventType, to])),
      })
      .collect();
    return rows.map((row) => ({ segment: (row.id.id as [string, number])[1], seqs: row.seqs }));
  }

  /** Every stored event type, for expanding a wildcard into per-type reads. */
  async types(): Promise<string[]> {
    const [ids] = await this.db.query<[string[]]>('SELECT VALUE record::id(id) FROM event_type').collect();
    return ids.map(String);
  }

  /** (seq, segment) of the events carrying this correlation/workflow/session id with seq in (from, to], ascending. */
  async refs(field: RefField, value: string, from: number, to: number): Promise<Array<{ seq: number; segment: number }>> {
    if (to <= from) return [];
    const kind = REF_KINDS[field];
    const [rows] = await this.db
      .query<[Array<{ id: RecordId<'event_ref'>; segment: number }>]>('SELECT * FROM $range', {
        range: new RecordIdRange('event_ref', new BoundExcluded([kind, value, from]), new BoundIncluded([kind, value, to])),
      })
      .collect();
    return rows.map((row) => ({ seq: (row.id.id as [string, string, number])[2], segment: row.segment }));
  }

  /** Where a client-supplied event_id is stored. */
  async eventKey(eventId: string): Promise<EventKeyRow | undefined> {
    const [row] = await this.db.query<[EventKeyRow | undefined]>('SELECT * FROM ONLY $id', { id: eventKeyId(eventId) }).collect();
    return row ?? undefined;
  }
}
