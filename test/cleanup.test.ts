import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, tempRocksDb, testApp } from './helpers/app.js';
import { migrate } from '../src/store/migrations.js';
import { SegmentPurge } from '../src/store/segment-purge.js';
import { SegmentReads } from '../src/store/segment-reads.js';
import { decodeDocs, segmentId } from '../src/store/segment-rows.js';
import { purgeOnce } from '../src/events/cleanup.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

const publish = async (over: Record<string, unknown> = {}) =>
  (await app.inject({ method: 'POST', url: '/events', payload: event(over) })).json().event as { event_id: string; seq: number };
const exists = async (id: string) => (await app.store.events.getById(id)) !== undefined;

describe('cleanup', () => {
  it('purges expired events, keeps the rest, and removes their id lookups', async () => {
    const soon = new Date(Date.now() + 60_000).toISOString();
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const workflow = crypto.randomUUID();
    const expiring = await publish({ expires_at: soon, workflow_id: workflow });
    const lasting = await publish({ expires_at: later, workflow_id: workflow });
    const forever = await publish({ workflow_id: workflow });

    const report = await purgeOnce(app.store.events, { retentionMs: 0, retentionMaxEvents: 0 }, new Date(Date.now() + 120_000));
    expect(report.expired).toBe(1);
    expect(await exists(expiring.event_id)).toBe(false);
    expect(await exists(lasting.event_id)).toBe(true);
    expect(await exists(forever.event_id)).toBe(true);
    expect((await app.store.events.reads.refs('workflow_id', workflow, 0, Number.MAX_SAFE_INTEGER)).map((r) => r.seq))
      .toEqual([lasting.seq, forever.seq]);
  });

  it('keeps at most HERALD_RETENTION_MAX_EVENTS newest events', async () => {
    const local = await testApp();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await local.inject({ method: 'POST', url: '/events', payload: event() })).json().event.event_id);
    const report = await purgeOnce(local.store.events, { retentionMs: 0, retentionMaxEvents: 10 }, new Date());
    expect(report.retained).toBe(20);
    const left = (await local.inject({ url: '/events?limit=100' })).json().events.map((e: { event_id: string }) => e.event_id);
    expect(left).toEqual(ids.slice(20).reverse());
    await local.close();
  });

  it('deletes events received longer ago than HERALD_RETENTION', async () => {
    const local = await testApp();
    for (let i = 0; i < 5; i++) await local.inject({ method: 'POST', url: '/events', payload: event() });
    const hourLater = new Date(Date.now() + 3_600_000);
    const kept = await purgeOnce(local.store.events, { retentionMs: 2 * 3_600_000, retentionMaxEvents: 0 }, hourLater);
    expect(kept.retained).toBe(0);
    const gone = await purgeOnce(local.store.events, { retentionMs: 30 * 60_000, retentionMaxEvents: 0 }, hourLater);
    expect(gone.retained).toBe(5);
    expect(await local.store.events.count()).toBe(0);
    await local.close();
  });
});

describe('retention on segments', () => {
  it('deletes whole segments oldest first with every lookup row of their events, and moves the purged mark', async () => {
    const local = await testApp();
    const key = crypto.randomUUID();
    const workflow = crypto.randomUUID();
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const batch = async (events: object[]) =>
      (await local.inject({ method: 'POST', url: '/events/batch', payload: { events } })).json().events as Array<{ seq: number }>;
    const oldest = await batch([event({ event_id: key }), event({ workflow_id: workflow, event_type: 'only_here' }), event({ expires_at: later })]);
    await batch([event(), event()]);
    await batch([event({ workflow_id: workflow }), event()]);
    const rows = async (table: string) => (await local.store.db.query<[number]>(`RETURN count(SELECT id FROM ${table})`).collect())[0];
    const before = { segTypes: await rows('seg_type'), refs: await rows('event_ref') };

    // Keep the 3 newest events: the first segment (seqs 1–3) goes whole; the second (4–5) holds seq 4 > 7 − 3.
    const report = await purgeOnce(local.store.events, { retentionMs: 0, retentionMaxEvents: 3 }, new Date());
    expect(report.retained).toBe(oldest.length);
    expect(await local.store.events.count()).toBe(4);
    expect(await local.store.events.retainedFrom()).toBe(4);
    expect(await rows('segment')).toBe(2);
    expect(await rows('seg_type')).toBe(before.segTypes - 2); // task_progress and only_here of the first segment
    expect(await rows('event_key')).toBe(0);
    expect(await rows('event_expiry')).toBe(0);
    expect(await rows('event_ref')).toBe(before.refs - 1);
    expect((await local.inject({ url: `/events/${key}` })).statusCode).toBe(404);
    expect((await local.inject({ url: '/events?types=only_here' })).json().events).toEqual([]);
    // The id is free again: publishing it stores a new event.
    expect((await local.inject({ method: 'POST', url: '/events', payload: event({ event_id: key }) })).statusCode).toBe(201);
    await local.close();
  });
});

describe('retention past a gap in the seq space', () => {
  it('deletes the oldest segments when the seqs after the purge mark have none for more than a chunk', async () => {
    const store = await tempRocksDb();
    try {
      await migrate(store.db);
      // A 0.1.0 upgrade can leave a run of missing seqs longer than SEGMENT_MAX_EVENTS before the first segment.
      const lasts = [5010, 5020, 5030];
      await store.db.query('INSERT INTO segment $rows RETURN NONE', {
        rows: lasts.map((last) => ({ id: segmentId(last), first: last - 9, last, docs: '[]', types: [], keys: [], at: 0 })),
      }).collect();
      const purge = new SegmentPurge(store.db, new SegmentReads(store.db));
      await purge.oldest(5020, null);
      expect((await new SegmentReads(store.db).endingIn(0, 10_000)).map((r) => r.last)).toEqual([5030]);
      expect(await purge.purgedThrough()).toBe(5020);
    } finally {
      await store.dispose();
    }
  });
});

describe('expiry on two replicas', () => {
  it('never puts back a document another replica purged while this one was rewriting the segment', async () => {
    const store = await tempRocksDb();
    const local = await testApp({}, store.db);
    try {
      const at = (minutes: number) => new Date(Date.now() + minutes * 60_000);
      const stored = (await local.inject({
        method: 'POST', url: '/events/batch',
        payload: { events: [event({ expires_at: at(1).toISOString() }), event({ expires_at: at(2).toISOString() }), event()] },
      })).json().events as Array<{ seq: number }>;
      // Replica B purges both expired events between replica A's read of the segment (one expired) and its write.
      const other = new SegmentPurge(store.db, new SegmentReads(store.db));
      const reads = new SegmentReads(store.db);
      const read = reads.byIds.bind(reads);
      let raced = false;
      reads.byIds = async (lasts) => {
        const rows = await read(lasts);
        if (!raced) {
          raced = true;
          expect(await other.expired(at(3), 1000)).toBe(2);
        }
        return rows;
      };
      await new SegmentPurge(store.db, reads).expired(at(1.5), 1000);
      expect(raced).toBe(true);
      const [segment] = await reads.endingIn(0, 10);
      expect(segment && decodeDocs(segment).map((e) => e.seq)).toEqual([stored[2]?.seq]);
    } finally {
      await local.close();
      await store.dispose();
    }
  });
});
