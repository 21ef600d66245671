import { BoundIncluded, RecordIdRange, type RecordId, type Surreal } from 'surrealdb';
import { encodeDocs } from './segment-docs.js';
import type { SegmentReads } from './segment-reads.js';
import { lookupIds } from './segment-records.js';
import {
  SEGMENT_MAX_EVENTS, SEQ_MAX, decodeDocs, eventKeyId, segTypeId, segmentId, type EventExpiryRow, type SegmentRow,
} from './segment-rows.js';
import { isWriteConflict, retryTransaction, transactionFailure } from './transaction-errors.js';

/** A segment an expiry purge read was rewritten or deleted before the purge committed: read again. */
class SegmentMovedError extends Error {}
/** Tries per expiry chunk: each conflict means another purge made progress, so a few suffice. */
const PURGE_ATTEMPTS = 5;

/**
 * Expiry and retention on the segment log (docs/storage.md, "Expiry and retention"). Each call is one bounded
 * transaction, so a purge under load never holds a huge write.
 */
export class SegmentPurge {
  constructor(
    private readonly db: Surreal,
    private readonly reads: SegmentReads,
  ) {}

  /**
   * Purges up to `limit` events whose expires_at is at or before `now`: deletes their expiry, ref and key
   * rows and rewrites their segments without their documents. Returns how many it purged. The rewrite is
   * conditional on the segment being as read, so two replicas (or anything else rewriting a segment) never
   * put back a document the other removed: a segment that changed meanwhile fails the transaction, and the
   * purge starts over from a fresh read.
   */
  async expired(now: Date, limit: number): Promise<number> {
    return retryTransaction(PURGE_ATTEMPTS, () => this.expiredOnce(now, limit), (err) => err instanceof SegmentMovedError || isWriteConflict(err));
  }

  private async expiredOnce(now: Date, limit: number): Promise<number> {
    const range = new RecordIdRange('event_expiry', new BoundIncluded([0, 0]), new BoundIncluded([now.getTime(), SEQ_MAX]));
    const [rows] = await this.db.query<[EventExpiryRow[]]>('SELECT * FROM $range LIMIT $limit', { range, limit }).collect();
    if (rows.length === 0) return 0;
    const doomed = new Set(rows.map((r) => (r.id.id as [number, number])[1]));
    const segments = await this.reads.byIds([...new Set(rows.map((r) => r.segment))]);
    const refs: RecordId[] = [];
    const keys: RecordId[] = [];
    const rewrites: Array<{ id: RecordId<'segment'>; old: string; docs: string; offs: number[] }> = [];
    for (const segment of segments) {
      const events = decodeDocs(segment);
      const gone = events.filter((e) => doomed.has(e.seq));
      if (gone.length === 0) continue;
      const segmentKeys = new Set(segment.keys);
      for (const event of gone) {
        refs.push(...lookupIds(event).refs);
        if (segmentKeys.has(event.event_id)) keys.push(eventKeyId(event.event_id));
      }
      const kept = encodeDocs(events.filter((e) => !doomed.has(e.seq)), segment.first, segment.last);
      rewrites.push({ id: segment.id, old: segment.docs, ...kept });
    }
    // A key row is deleted only while it still names the expired event: its id may have been published again.
    const responses = await this.db
      .query(
        `BEGIN;
        DELETE $expiries, $refs RETURN NONE;
        DELETE $keys WHERE seq INSIDE $seqs RETURN NONE;
        FOR $s IN $rewrites {
          IF array::len((UPDATE $s.id SET docs = $s.docs, offs = $s.offs WHERE docs = $s.old RETURN VALUE id)) = 0 { THROW "herald:segment_moved" };
        };
        COMMIT;`,
        { expiries: rows.map((r) => r.id), refs, keys, seqs: [...doomed], rewrites },
      )
      .responses();
    const failure = transactionFailure(responses);
    if (failure?.messages.some((m) => m.includes('herald:segment_moved'))) throw new SegmentMovedError('a segment changed since it was read');
    if (failure) throw new Error(failure.cause);
    return rows.length;
  }

  /**
   * Deletes whole segments, oldest first, while they end at or below `maxSeq` or were committed before
   * `committedBefore` (epoch ms), with every lookup row of their events, and moves `herald_seq:purged` to the
   * last seq deleted. One chunk (at most SEGMENT_MAX_EVENTS seqs) per call; `done` once nothing more is due.
   */
  async oldest(maxSeq: number, committedBefore: number | null): Promise<{ deleted: number; done: boolean }> {
    const purged = await this.purgedThrough();
    // Segments tile the seq space from the last purge up, and none spans more than SEGMENT_MAX_EVENTS seqs.
    // (The mark only moves up: UPDATE … WHERE, because an UPSERT's SET does not see the stored value.)
    let rows = await this.reads.endingIn(purged, purged + SEGMENT_MAX_EVENTS);
    if (rows.length === 0) {
      // Seqs past the mark may have no segment at all (runs a 0.1.0 upgrade left empty): start the chunk at the
      // lowest segment still stored, or retention would stop at the gap for good.
      const next = await this.reads.firstEndingAbove(purged);
      if (next) rows = await this.reads.endingIn(next.first - 1, next.first - 1 + SEGMENT_MAX_EVENTS);
    }
    const due = (row: SegmentRow) => row.last <= maxSeq || (committedBefore !== null && row.at < committedBefore);
    const doomed: SegmentRow[] = [];
    for (const row of rows) {
      if (!due(row)) break;
      doomed.push(row);
    }
    const newest = doomed.at(-1);
    if (!newest) return { deleted: 0, done: true };
    const lookups = doomed.flatMap((row) => decodeDocs(row).map(lookupIds));
    await this.db
      .query(
        `BEGIN;
        DELETE $segments, $segTypes, $refs, $expiries RETURN NONE;
        DELETE $keys WHERE segment INSIDE $lasts RETURN NONE;
        UPDATE herald_seq:purged SET value = $last WHERE value < $last RETURN NONE;
        COMMIT;`,
        {
          segments: doomed.map((row) => segmentId(row.last)),
          segTypes: doomed.flatMap((row) => row.types.map((t) => segTypeId(t, row.last))),
          keys: doomed.flatMap((row) => row.keys.map(eventKeyId)),
          lasts: doomed.map((row) => row.last),
          refs: lookups.flatMap((l) => l.refs),
          expiries: lookups.flatMap((l) => (l.expiry ? [l.expiry] : [])),
          last: newest.last,
        },
      )
      .collect();
    return { deleted: lookups.length, done: doomed.length < rows.length };
  }

  /** The highest seq retention has deleted (0 when none). */
  async purgedThrough(): Promise<number> {
    const [value] = await this.db
      .query<[number | undefined]>('RETURN (SELECT VALUE value FROM ONLY herald_seq:purged) ?? 0')
      .collect();
    return value ?? 0;
  }
}
