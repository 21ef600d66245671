/** What a database upgraded from Herald 0.1.0 must hold, checked against the 0.1.0 events read before the upgrade. */
import type { RecordId, Surreal } from 'surrealdb';
import { expect } from 'vitest';
import type { Event } from '../../src/schemas/event.js';
import { SegmentReads } from '../../src/store/segment-reads.js';
import { REF_KINDS, SCHEMA_VERSION, SEGMENT_MAX_EVENTS, decodeDocs, type RefField, type SegmentRow } from '../../src/store/segment-rows.js';

async function value<T>(db: Surreal, query: string): Promise<T> {
  const [result] = await db.query<[T]>(query).collect();
  return result;
}

/** Every segment, read through SegmentReads, and their events in order. */
export async function upgradedSegments(db: Surreal): Promise<SegmentRow[]> {
  const top = await value<number>(db, 'RETURN herald_seq:event.value');
  return new SegmentReads(db).endingIn(0, top);
}

export async function expectUpgraded(db: Surreal, v1: Event[], lastSeq: number): Promise<void> {
  expect(await value(db, 'RETURN herald_meta:schema.version')).toBe(SCHEMA_VERSION);
  expect(await value(db, 'SELECT * FROM herald_meta:upgrade_v1')).toEqual([]);
  expect(await value(db, 'RETURN herald_seq:event.value')).toBe(lastSeq);

  // Every event in exactly one segment, with its seq and document; segments tile the seq space.
  const segments = await upgradedSegments(db);
  expect(segments.flatMap(decodeDocs)).toEqual(v1);
  let prev = 0;
  for (const segment of segments) {
    const seqs = decodeDocs(segment).map((e) => e.seq);
    expect(segment.first).toBe(prev + 1);
    expect(segment.last).toBe(seqs.at(-1));
    expect(seqs[0]).toBeGreaterThanOrEqual(segment.first);
    expect(segment.last - segment.first).toBeLessThan(SEGMENT_MAX_EVENTS);
    prev = segment.last;
  }
  const segmentOf = new Map(segments.flatMap((s) => decodeDocs(s).map((e) => [e.seq, s.last] as const)));

  // Every event_id has an event_key; every id an event carries an event_ref; every expiry an event_expiry.
  const keys = await value<Array<{ id: RecordId; seq: number; segment: number }>>(db, 'SELECT * FROM event_key');
  expect(new Map(keys.map((k) => [String(k.id.id), [k.seq, k.segment]]))).toEqual(new Map(v1.map((e) => [e.event_id, [e.seq, segmentOf.get(e.seq)]])));
  const refs = await value<Array<{ id: RecordId; segment: number }>>(db, 'SELECT * FROM event_ref');
  const wantedRefs = v1.flatMap((e) =>
    (Object.keys(REF_KINDS) as RefField[]).flatMap((f) => (e[f] === null ? [] : [JSON.stringify([[REF_KINDS[f], e[f], e.seq], segmentOf.get(e.seq)])])),
  );
  expect(refs.map((r) => JSON.stringify([r.id.id, r.segment])).sort()).toEqual(wantedRefs.sort());
  const expiries = await value<Array<{ id: RecordId; segment: number }>>(db, 'SELECT * FROM event_expiry');
  const wantedExpiries = v1.flatMap((e) => (e.expires_at === null ? [] : [JSON.stringify([[Math.max(0, Date.parse(e.expires_at)), e.seq], segmentOf.get(e.seq)])]));
  expect(expiries.map((r) => JSON.stringify([r.id.id, r.segment])).sort()).toEqual(wantedExpiries.sort());

  // Nothing of schema 1 is left.
  const tables = await value<string[]>(db, 'RETURN (INFO FOR DB).tables.keys()');
  if (tables.includes('event')) expect(await value(db, 'SELECT id FROM event LIMIT 1')).toEqual([]);
  if (tables.includes('commit_log')) expect(await value(db, 'SELECT id FROM commit_log LIMIT 1')).toEqual([]);
}
