import { RecordId, type Surreal } from 'surrealdb';
import type { DeliveryRow } from './delivery-rows.js';
import { expiryId, refIds, refKey, type EventRecords, type EventRow, type RefField } from './event-rows.js';

/** Another writer advanced the seq counter since this one read it. */
export class SeqMovedError extends Error {}

export const isWriteConflict = (error: unknown): boolean =>
  error instanceof Error && /conflict|retry the transaction/i.test(error.message);

/** An ordered index Herald scans: `seq`/`rseq`, or one type's `type_key`/`type_rkey`. */
export type ScanIndex = 'seq' | 'rseq' | 'type_key' | 'type_rkey';

/**
 * All SurrealQL about events. Scans are one-sided ranges on a single-field index with LIMIT and nothing else
 * in the WHERE clause: SurrealDB 3.0.2 pushes LIMIT below residual filters (a `WHERE a AND b LIMIT n` can
 * return fewer than n rows although more match), so every other condition is applied by the caller.
 */
export class EventRepository {
  constructor(private readonly db: Surreal) {}

  /** The seq counter: the highest seq any writer has committed (0 before the first event). */
  async seqUpperBound(): Promise<number> {
    const [value] = await this.db
      .query<[number | undefined]>('RETURN (SELECT VALUE value FROM ONLY herald_seq:event) ?? 0')
      .collect();
    return value ?? 0;
  }

  /** The seq of the event just older than the `n` newest (0 when there are no more than n). */
  async seqBelowNewest(n: number): Promise<number> {
    const [rows] = await this.db
      .query<[Array<{ seq: number }>]>('SELECT seq FROM event WHERE rseq > 0 LIMIT 1 START $n', { n })
      .collect();
    return rows[0]?.seq ?? 0;
  }

  /**
   * Stores events whose seqs run from prevSeq+1 to lastSeq in one transaction that first checks and advances
   * the shared counter, so seqs follow commit order across writers (SeqMovedError: another writer was first).
   * Also writes the ref and expiry rows, and the transaction's commit_log row (the live stream's feed);
   * skips event_ids already stored and returns the ids it inserted. `deliveries` are the webhook deliveries
   * of these events; only those of events actually inserted are written, so a re-publish delivers nothing.
   */
  async insertBatch(prevSeq: number, lastSeq: number, records: EventRecords, deliveries: DeliveryRow[] = []): Promise<Set<string>> {
    const responses = await this.db
      .query(
        `BEGIN;
        IF ((SELECT VALUE value FROM ONLY herald_seq:event) ?? 0) != $prev { THROW "herald:seq_moved" };
        UPSERT herald_seq:event SET value = $last RETURN NONE;
        ${records.refs.length > 0 ? 'INSERT IGNORE INTO event_ref $refs RETURN NONE;' : ''}
        ${records.expiries.length > 0 ? 'INSERT IGNORE INTO event_expiry $expiries RETURN NONE;' : ''}
        LET $ins = INSERT IGNORE INTO event $rows RETURN VALUE record::id(id);
        ${deliveries.length > 0 ? `LET $dl = IF array::len($ins) = $n { $deliveries } ELSE { $deliveries.filter(|$d| $d.event_id INSIDE $ins) };
        IF array::len($dl) > 0 { INSERT INTO delivery $dl RETURN NONE };` : ''}
        CREATE commit_log CONTENT { first: $prev + 1, last: $last, inserted: $ins, docs: $docs, at: time::now() } RETURN NONE;
        RETURN $ins;
        COMMIT;`,
        {
          prev: prevSeq, last: lastSeq, rows: records.events, refs: records.refs, expiries: records.expiries,
          docs: records.events.map((e) => e.doc), deliveries, n: records.events.length,
        },
      )
      .responses();
    const failures = responses.filter((r) => !r.success);
    if (failures.length > 0) {
      const messages = failures.map((f) => (f.success ? '' : f.error.message));
      if (messages.some((m) => m.includes('herald:seq_moved'))) throw new SeqMovedError('seq counter moved');
      throw new Error(messages.find((m) => !/not executed due to a failed transaction/.test(m)) ?? messages[0]);
    }
    // One response per statement, BEGIN and COMMIT included: the RETURN of inserted ids is second to last.
    const inserted = responses.at(-2);
    const ids = inserted && inserted.success ? (inserted.result as string[]) : [];
    return new Set(ids.map(String));
  }

  async getById(eventId: string): Promise<EventRow | undefined> {
    const [row] = await this.db
      .query<[EventRow | undefined]>('SELECT * FROM ONLY $id', { id: new RecordId('event', eventId) })
      .collect();
    return row ?? undefined;
  }

  async getByIds(eventIds: string[]): Promise<EventRow[]> {
    if (eventIds.length === 0) return [];
    const [rows] = await this.db
      .query<[EventRow[]]>('SELECT * FROM $ids', { ids: eventIds.map((id) => new RecordId('event', id)) })
      .collect();
    return rows;
  }

  /** Every row with `from` < `field` ≤ `to` — a range bounded on both sides, which the engine reads cheaply. */
  async scanRange(field: ScanIndex, from: number | string, to: number | string): Promise<EventRow[]> {
    const [rows] = await this.db
      .query<[EventRow[]]>(`SELECT * FROM event WHERE ${field} > $from AND ${field} <= $to`, { from, to })
      .collect();
    return rows;
  }

  /** Up to `limit` rows with `field` > `from`, in index order. */
  async scan(field: ScanIndex, from: number | string, limit: number): Promise<EventRow[]> {
    const [rows] = await this.db
      .query<[EventRow[]]>(`SELECT * FROM event WHERE ${field} > $from LIMIT $limit`, { from, limit })
      .collect();
    return rows;
  }

  /** (seq, event id) of every event carrying this correlation/workflow/session id. */
  async refsOf(field: RefField, value: string): Promise<Array<{ seq: number; event_id: string }>> {
    const [rows] = await this.db
      .query<[Array<{ seq: number; event_id: string }>]>(
        'SELECT seq, record::id(event) AS event_id FROM event_ref WHERE ref = $ref',
        { ref: refKey(field, value) },
      )
      .collect();
    return rows;
  }

  /**
   * Deletes commit_log rows older than `before` (the live feed only needs the last few seconds), a thousand
   * per transaction so a purge under load never holds one huge write.
   */
  async purgeCommitLog(before: Date): Promise<number> {
    let deleted = 0;
    for (;;) {
      const [ids] = await this.db
        .query<[RecordId[]]>('SELECT VALUE id FROM commit_log WHERE at < $before LIMIT 1000', { before })
        .collect();
      if (ids.length > 0) await this.db.query('DELETE $ids RETURN NONE', { ids }).collect();
      deleted += ids.length;
      if (ids.length < 1000) return deleted;
    }
  }

  /** Deletes events with their ref and expiry rows. */
  async deleteEvents(eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.db
      .query('BEGIN; DELETE $events RETURN NONE; DELETE $refs RETURN NONE; DELETE $expiries RETURN NONE; COMMIT;', {
        events: eventIds.map((id) => new RecordId('event', id)),
        refs: eventIds.flatMap(refIds),
        expiries: eventIds.map(expiryId),
      })
      .collect();
  }

  /** Deletes up to `limit` events whose expires_at has passed; returns how many. */
  async purgeExpired(now: Date, limit: number): Promise<number> {
    // The inner range is the whole WHERE (see the class comment); the outer filter then picks the expired.
    const [ids] = await this.db
      .query<[string[]]>(
        'SELECT VALUE record::id(event) FROM (SELECT event, expires_at FROM event_expiry WHERE expires_at > $epoch LIMIT $limit) WHERE expires_at <= $now',
        { epoch: new Date(0), now, limit },
      )
      .collect();
    await this.deleteEvents(ids.map(String));
    return ids.length;
  }

  /** Deletes, oldest first, events with seq ≤ maxSeq or received before `receivedBefore`; at most `limit`. */
  async purgeUpTo(maxSeq: number, limit: number, receivedBefore: Date | null): Promise<{ deleted: number; done: boolean }> {
    const rows = await this.scan('seq', 0, limit);
    const doomed: string[] = [];
    for (const row of rows) {
      const young = receivedBefore === null || row.received_at >= receivedBefore.getTime();
      if (row.seq > maxSeq && young) break;
      doomed.push(String(row.id.id));
    }
    await this.deleteEvents(doomed);
    const newest = rows[doomed.length - 1];
    if (newest) {
      await this.db
        .query('UPSERT herald_seq:purged SET value = math::max([value ?? 0, $seq]) RETURN NONE', { seq: newest.seq })
        .collect();
    }
    return { deleted: doomed.length, done: doomed.length < rows.length || rows.length < limit };
  }

  /** The lowest seq retention has not deleted: a resume cursor below it has lost events. */
  async retainedFrom(): Promise<number> {
    const [value] = await this.db
      .query<[number | undefined]>('RETURN (SELECT VALUE value FROM ONLY herald_seq:purged) ?? 0')
      .collect();
    return (value ?? 0) + 1;
  }

  async count(): Promise<number> {
    const [n] = await this.db.query<[number]>('RETURN count(SELECT id FROM event)').collect();
    return n;
  }
}

