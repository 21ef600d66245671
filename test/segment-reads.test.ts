import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Surreal } from 'surrealdb';
import { serverEventId, seqOfEventId } from '../src/store/event-ids.js';
import { encodeDocs, storedDocs } from '../src/store/segment-docs.js';
import { SegmentReads } from '../src/store/segment-reads.js';
import { eventKeyId, eventRefId, segTypeId, segmentId } from '../src/store/segment-rows.js';
import { tempRocksDb } from './helpers/app.js';

describe('segment read primitives', () => {
  let store: { db: Surreal; dispose: () => Promise<void> };
  let reads: SegmentReads;
  // Segments of growing size: (0,1], (1,3], (3,6], … so sizes 1..40; the last ends at 820.
  const segments: Array<{ first: number; last: number }> = [];
  beforeAll(async () => {
    store = await tempRocksDb();
    reads = new SegmentReads(store.db);
    let last = 0;
    for (let size = 1; size <= 40; size++) {
      segments.push({ first: last + 1, last: last + size });
      last += size;
    }
    await store.db.query('INSERT INTO segment $rows RETURN NONE', {
      rows: segments.map((s) => ({ id: segmentId(s.last), first: s.first, last: s.last, docs: '[]', types: ['a'], keys: [], at: 0 })),
    }).collect();
    await store.db.query('INSERT INTO seg_type $rows RETURN NONE', {
      rows: segments.flatMap((s) => [
        { id: segTypeId('a', s.last), seqs: [s.first] },
        { id: segTypeId('a.b', s.last), seqs: [s.last] },
      ]),
    }).collect();
    await store.db.query('INSERT INTO event_ref $rows RETURN NONE', {
      rows: [5, 50, 500].map((seq) => ({ id: eventRefId('workflow_id', 'w-1', seq), segment: seq + 1 })),
    }).collect();
    await store.db.query('CREATE $id CONTENT { seq: 7, segment: 10 } RETURN NONE', { id: eventKeyId('k-1') }).collect();
  });
  afterAll(async () => store.dispose());

  it('finds the segment holding any seq, of any size, and none past the end', async () => {
    for (const seq of [1, 2, 3, 4, 6, 100, 400, 781, 820]) {
      const row = await reads.covering(seq);
      expect(row, `seq ${seq}`).toBeDefined();
      expect(row!.first <= seq && seq <= row!.last, `seq ${seq} in ${row!.first}..${row!.last}`).toBe(true);
    }
    expect(await reads.covering(821)).toBeUndefined();
  });

  it('reads the segments ending in a range and one type\'s rows, not another type sharing its prefix', async () => {
    expect((await reads.endingIn(3, 15)).map((r) => r.last)).toEqual([6, 10, 15]);
    expect((await reads.endingIn(15, 15))).toEqual([]);
    expect((await reads.typeRows('a', 3, 10)).map((r) => r.segment)).toEqual([6, 10]);
    expect((await reads.typeRows('a.b', 0, 3))).toEqual([{ segment: 1, seqs: [1] }, { segment: 3, seqs: [3] }]);
    expect((await reads.byIds([10, 1, 999])).map((r) => r.last)).toEqual([1, 10]);
  });

  it('reads refs in a seq range and client-supplied keys', async () => {
    expect(await reads.refs('workflow_id', 'w-1', 4, 500)).toEqual([{ seq: 5, segment: 6 }, { seq: 50, segment: 51 }, { seq: 500, segment: 501 }]);
    expect(await reads.refs('workflow_id', 'w-1', 5, 499)).toEqual([{ seq: 50, segment: 51 }]);
    expect(await reads.refs('session_id', 'w-1', 0, 1000)).toEqual([]);
    expect(await reads.eventKey('k-1')).toMatchObject({ seq: 7, segment: 10 });
    expect(await reads.eventKey('k-2')).toBeUndefined();
  });
});

describe('server-generated event ids', () => {
  it('are v7 UUIDs that carry their seq', () => {
    for (const seq of [1, 255, 2 ** 40 + 7, 2 ** 53 - 1]) {
      const id = serverEventId(seq, Date.UTC(2026, 10, 30));
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(seqOfEventId(id)).toBe(seq);
    }
    expect(seqOfEventId('550e8400-e29b-41d4-a716-446655440000')).toBeNull();
  });
});

describe('segment records', () => {
  it('give lookup rows only to events that carry the field', async () => {
    const { toSegmentRecords } = await import('../src/store/segment-records.js');
    const base = { source: 's', target: null, payload: {}, metadata: {}, timestamp: '2026-11-30T00:00:00.000Z', priority: 'normal' as const,
      correlation_id: null, workflow_id: null, session_id: null, retry_count: 0, max_retries: null, expires_at: null };
    const events = [
      { ...base, event_id: 'client-1', event_type: 'a', seq: 11 },
      { ...base, event_id: serverEventId(12, 0), event_type: 'b', seq: 12, workflow_id: 'w', expires_at: '1969-12-31T23:59:59.500Z' },
      { ...base, event_id: serverEventId(13, 0), event_type: 'a', seq: 13 },
    ];
    const records = toSegmentRecords(events, new Set(['client-1']), 5);
    expect(records.segment).toMatchObject({ first: 11, last: 13, types: ['a', 'b'], keys: ['client-1'], at: 5 });
    expect(JSON.parse(records.segment.docs)).toEqual(events);
    expect(records.segTypes.map((r) => [r.id.id, r.seqs])).toEqual([[['a', 13], [11, 13]], [['b', 13], [12]]]);
    expect(records.keys.map((k) => [k.id.id, k.seq, k.segment])).toEqual([['client-1', 11, 13]]);
    expect(records.refs.map((r) => r.id.id)).toEqual([['w', 'w', 12]]);
    expect(records.expiries.map((r) => r.id.id)).toEqual([[0, 12]]);
    // The documents are one JSON array with where each seq's document starts, so a read parses only those it needs.
    expect(records.segment.docs).toBe(JSON.stringify(events));
    const parsed = vi.spyOn(JSON, 'parse');
    const docs = storedDocs(records.segment);
    expect(docs.map((d) => d.seq)).toEqual([11, 12, 13]);
    expect(docs[1]?.event()).toEqual(events[1]);
    expect(parsed.mock.calls.map(([text]) => text.length)).toEqual([JSON.stringify(events[1]).length]);
    parsed.mockRestore();
    // Expiry rewrites a segment without some documents; a segment without offsets (0.2.0) is parsed whole.
    const kept = { first: 11, last: 13, ...encodeDocs([events[0], events[2]] as typeof events, 11, 13) };
    expect(kept.offs[1]).toBe(-1);
    expect(storedDocs(kept).map((d) => d.event())).toEqual([events[0], events[2]]);
    expect(storedDocs({ first: 11, last: 13, docs: kept.docs }).map((d) => d.event())).toEqual([events[0], events[2]]);
  });
});
