import { BoundExcluded, BoundIncluded, RecordId, RecordIdRange, type Surreal } from 'surrealdb';
import type { Delivery, DeliveryAttempt } from '../schemas/delivery.js';
import type { Event } from '../schemas/event.js';
import { cursorDeliveryId } from './delivery-rows.js';
import { purgeBefore } from './purge-before.js';

/** A delivery that succeeded on its first attempt: all a `delivered` delivery from the log cursor needs. */
export interface LogRecord {
  seq: number;
  event_id: string;
  event_type: string;
  priority: Event['priority'];
  attempt: DeliveryAttempt;
}

/**
 * `wh_log:[subscription, bucket, n]`: one row per (batch of outcomes, seq bucket), its records a JSON string
 * like a segment's documents (the engine charges per row and index key, not per byte). A bucket is
 * BUCKET_SEQS seqs, so the record of (subscription, seq) is in the rows of one bounded range. `at` (epoch
 * ms of the batch) is what HERALD_DELIVERY_RETENTION reads.
 */
export interface AttemptLogRow {
  id: RecordId<'wh_log'>;
  at: number;
  recs: string;
}

export const BUCKET_SEQS = 4096;
/** Buckets one listing query reads. */
const LIST_BUCKETS = 16;

const bucketOf = (seq: number): number => Math.floor(seq / BUCKET_SEQS);
const bucketRange = (subscriptionId: string, lo: number, hi: number) =>
  new RecordIdRange('wh_log', new BoundIncluded([subscriptionId, lo]), new BoundExcluded([subscriptionId, hi + 1]));
const decode = (row: AttemptLogRow): LogRecord[] => JSON.parse(row.recs) as LogRecord[];

let rowCounter = 0;

/** A batch's records of one subscription as attempt-log rows, one per seq bucket. */
export function attemptLogRows(subscriptionId: string, records: LogRecord[], atMs: number): AttemptLogRow[] {
  const byBucket = new Map<number, LogRecord[]>();
  for (const r of records) {
    const list = byBucket.get(bucketOf(r.seq));
    if (list) list.push(r);
    else byBucket.set(bucketOf(r.seq), [r]);
  }
  // Unique per process and time; a replica id is not needed, two replicas never write one subscription's log at once.
  const n = atMs * 1000 + (rowCounter = (rowCounter + 1) % 1000);
  return [...byBucket].map(([bucket, recs]) => ({ id: new RecordId('wh_log', [subscriptionId, bucket, n]), at: atMs, recs: JSON.stringify(recs) }));
}

export function logDelivery(subscriptionId: string, r: LogRecord): Delivery {
  return {
    delivery_id: cursorDeliveryId(subscriptionId, r.seq), event_id: r.event_id, subscription_id: subscriptionId, event_type: r.event_type,
    priority: r.priority, seq: r.seq, status: 'delivered', attempts: 1, next_attempt_at: null, last_attempt_at: r.attempt.at,
    last_status_code: r.attempt.status_code, last_error: null, created_at: r.attempt.at, updated_at: r.attempt.at,
  };
}

/** All SurrealQL that reads or purges the attempt log (it is written with the cursor: cursor-repository.ts). */
export class AttemptLog {
  constructor(private readonly db: Surreal) {}

  async find(subscriptionId: string, seq: number): Promise<LogRecord | undefined> {
    const bucket = bucketOf(seq);
    const [rows] = await this.db.query<[AttemptLogRow[]]>('SELECT * FROM $range', { range: bucketRange(subscriptionId, bucket, bucket) }).collect();
    for (const row of rows) {
      const hit = decode(row).find((r) => r.seq === seq);
      if (hit) return hit;
    }
    return undefined;
  }

  /**
   * Records with seq below `belowSeq`, newest first, from the buckets a bounded read reaches; `scannedFrom`
   * is the lowest seq that read covered (0 when it reached the start).
   */
  async below(subscriptionId: string, belowSeq: number): Promise<{ records: LogRecord[]; scannedFrom: number }> {
    const hi = bucketOf(belowSeq - 1);
    const lo = Math.max(0, hi - LIST_BUCKETS + 1);
    const [rows] = await this.db.query<[AttemptLogRow[]]>('SELECT * FROM $range', { range: bucketRange(subscriptionId, lo, hi) }).collect();
    const records = rows.flatMap(decode).filter((r) => r.seq < belowSeq).sort((a, b) => b.seq - a.seq);
    return { records, scannedFrom: lo * BUCKET_SEQS };
  }

  /** Deletes up to `limit` rows written before `beforeMs`; returns how many. */
  async purge(beforeMs: number, limit: number): Promise<number> {
    return purgeBefore(this.db, 'wh_log', 'at', beforeMs, limit);
  }
}
