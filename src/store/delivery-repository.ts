import type { RecordId, Surreal } from 'surrealdb';
import type { DeliveryAttempt } from '../schemas/delivery.js';
import { RANKS, RANK_SPAN, deliveryId, listKeyEnd, rankRange, type DeliveryRow } from './delivery-rows.js';
import { purgeBefore } from './purge-before.js';

/** What one finished (or abandoned) lease writes back to its delivery. */
export interface Settlement {
  id: RecordId<'delivery'>;
  status: DeliveryRow['status'];
  attempts: number;
  next_attempt_at: number | null;
  /** Set when the delivery goes back in the queue (a retry); absent when it is settled for good. */
  queue_key?: number;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  updated_at: string;
  /** Epoch ms of the settlement, for delivery retention; ignored when the delivery goes back in the queue. */
  settled_at: number;
  /** The HTTP attempt this outcome records, appended to the row's attempts_log; absent when none was made. */
  attempt?: DeliveryAttempt;
}

/** Every field but attempts_log, whose response bodies a claim or a listing has no use for. */
const ROW_FIELDS = `id, event_id, subscription_id, event_type, priority, rank, seq, status, attempts, next_attempt_at,
  queue_key, lease_until, leased_by, settled_at, expires_at, max_retries, list_key, created_at, updated_at,
  last_attempt_at, last_status_code, last_error`;

/** queueKey() in SurrealQL: `rank * RANK_SPAN + due`. */
const RANK_SPAN_SQL = String(RANK_SPAN);

/**
 * All SurrealQL about webhook deliveries and their attempts. The queue is the `queue_key` index (see
 * delivery-rows.ts); a lease is `lease_until` + `leased_by` on the row, and only rows without a queue_key
 * carry one, so a claimed row cannot be claimed again until its lease is released or expires.
 */
export class DeliveryRepository {
  constructor(private readonly db: Surreal) {}

  /**
   * Leases up to `n` due deliveries, critical first and then by due time, in one UPDATE: concurrent claimers
   * on RocksDB either get disjoint rows or a write-conflict error to retry (docs/storage.md, "Why RocksDB").
   * `now` is a parameter, never time::now(), so each rank's range is an index range. `from` (per rank) skips
   * the start of a range the caller knows to be claimed already: RocksDB keeps deleted index entries until
   * compaction, and walking tens of thousands of them made each claim 3–6× slower after a burst (measured).
   */
  async claim(worker: string, nowMs: number, n: number, leaseUntil: number, from?: readonly number[]): Promise<DeliveryRow[]> {
    const params: Record<string, unknown> = { n, w: worker, lease: leaseUntil };
    const selects = RANKS.map((rank) => {
      const { lo, hi } = rankRange(rank, nowMs);
      params[`lo${rank}`] = Math.max(lo, from?.[rank] ?? lo);
      params[`hi${rank}`] = hi;
      return `(SELECT VALUE id FROM delivery WHERE queue_key >= $lo${rank} AND queue_key <= $hi${rank} LIMIT $n)`;
    });
    const [rows] = await this.db
      .query<[DeliveryRow[]]>(
        `UPDATE array::slice(array::flatten([${selects.join(', ')}]), 0, $n)
           SET queue_key = NONE, lease_until = $lease, leased_by = $w
           WHERE queue_key != NONE RETURN ${ROW_FIELDS}`,
        params,
      )
      .collect();
    return rows;
  }

  /**
   * Writes the outcomes of leases `worker` holds, each attempt appended to its row, in one transaction. An
   * outcome for a lease another worker has since taken over is dropped: that worker's outcome counts.
   */
  async settle(worker: string, settlements: Settlement[]): Promise<void> {
    await this.db
      .query(
        `BEGIN;
        FOR $s IN $settlements {
          UPDATE $s.id SET status = $s.status, attempts = $s.attempts, next_attempt_at = $s.next_attempt_at,
            queue_key = $s.queue_key, settled_at = IF $s.queue_key = NONE { $s.settled_at } ELSE { NONE },
            lease_until = NONE, leased_by = NONE, last_attempt_at = $s.last_attempt_at,
            last_status_code = $s.last_status_code, last_error = $s.last_error, updated_at = $s.updated_at,
            attempts_log = IF $s.attempt = NONE { attempts_log } ELSE { array::append(attempts_log ?? [], $s.attempt) }
          WHERE leased_by = $w RETURN NONE;
        };
        COMMIT;`,
        { w: worker, settlements },
      )
      .collect();
  }

  /** Extends the leases `worker` still holds (deliveries queued locally or in flight). */
  async renew(worker: string, ids: RecordId<'delivery'>[], leaseUntil: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query('UPDATE $ids SET lease_until = $lease WHERE leased_by = $w RETURN NONE', { ids, w: worker, lease: leaseUntil }).collect();
  }

  /**
   * Gives leases back without an attempt; with `dueMs` the deliveries are due then (a deferral), otherwise
   * at their previous due time.
   */
  async release(worker: string, ids: RecordId<'delivery'>[], dueMs?: number): Promise<void> {
    if (ids.length === 0) return;
    const due = dueMs === undefined ? 'next_attempt_at' : '$due';
    await this.db
      .query(
        `UPDATE $ids SET next_attempt_at = ${due}, queue_key = rank * ${RANK_SPAN_SQL} + ${due},
           lease_until = NONE, leased_by = NONE WHERE leased_by = $w RETURN NONE`,
        { ids, w: worker, due: dueMs },
      )
      .collect();
  }

  /** Puts deliveries whose lease ran out (their worker died or hung) back in the queue; returns how many. */
  async reapExpiredLeases(nowMs: number, limit: number): Promise<number> {
    const [ids] = await this.db
      .query<[string[]]>(
        `UPDATE (SELECT VALUE id FROM delivery WHERE lease_until >= 0 AND lease_until < $now LIMIT $n)
           SET queue_key = rank * ${RANK_SPAN_SQL} + next_attempt_at, lease_until = NONE, leased_by = NONE
           WHERE lease_until != NONE AND lease_until < $now RETURN VALUE record::id(id)`,
        { now: nowMs, n: limit },
      )
      .collect();
    return ids.length;
  }

  /**
   * Deletes up to `limit` deliveries (attempts included) settled before `beforeMs`; returns how many.
   * Pending and retrying deliveries are never touched.
   */
  async purgeSettled(beforeMs: number, limit: number): Promise<number> {
    return purgeBefore(this.db, 'delivery', 'settled_at', beforeMs, limit);
  }

  /**
   * The due part of the queue, for metrics: how many deliveries are due (counted up to `cap` per priority,
   * so a scrape reads at most 4 × cap index entries) and the due time of the oldest (epoch ms, null when none
   * is due). Reads the same index ranges a claim does; leased deliveries are not in them.
   */
  async dueStats(nowMs: number, cap: number): Promise<{ due: number; oldestDueMs: number | null }> {
    const params: Record<string, unknown> = { cap };
    const ranges = RANKS.map((rank) => {
      const { lo, hi } = rankRange(rank, nowMs);
      params[`lo${rank}`] = lo;
      params[`hi${rank}`] = hi;
      return `queue_key >= $lo${rank} AND queue_key <= $hi${rank}`;
    });
    const [counts, firsts] = await this.db
      .query<[number[], Array<number | undefined>]>(
        `RETURN [${ranges.map((r) => `array::len((SELECT VALUE id FROM delivery WHERE ${r} LIMIT $cap))`).join(', ')}];
        RETURN [${ranges.map((r) => `(SELECT VALUE queue_key FROM delivery WHERE ${r} LIMIT 1)[0]`).join(', ')}];`,
        params,
      )
      .collect();
    const due = counts.reduce((sum, n) => sum + Number(n), 0);
    const oldest = firsts.flatMap((key, rank) => (typeof key === 'number' ? [key - rank * RANK_SPAN] : []));
    return { due, oldestDueMs: oldest.length > 0 ? Math.min(...oldest) : null };
  }

  async insertMany(rows: DeliveryRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query('INSERT INTO delivery $rows RETURN NONE', { rows }).collect();
  }

  async get(id: string): Promise<DeliveryRow | undefined> {
    const [row] = await this.db.query<[DeliveryRow | undefined]>('SELECT * FROM ONLY $id', { id: deliveryId(id) }).collect();
    return row ?? undefined;
  }

  /** Up to `limit` of a subscription's deliveries after list key `fromKey`, newest event first. */
  async listPage(subscriptionId: string, fromKey: string, limit: number): Promise<DeliveryRow[]> {
    const [rows] = await this.db
      .query<[DeliveryRow[]]>(`SELECT ${ROW_FIELDS} FROM delivery WHERE list_key > $from AND list_key < $to LIMIT $limit`, {
        from: fromKey, to: listKeyEnd(subscriptionId), limit,
      })
      .collect();
    return rows;
  }

  /**
   * Queues a delivery for an immediate attempt whatever its status (a manual retry). Undefined when it
   * does not exist or is leased right now — a second attempt must not run concurrently with the first.
   */
  async retryNow(id: string, nowMs: number): Promise<DeliveryRow | undefined> {
    const [row] = await this.db
      .query<[DeliveryRow | undefined]>(
        `UPDATE ONLY $id SET status = IF attempts = 0 { 'pending' } ELSE { 'retrying' }, next_attempt_at = $now,
           queue_key = rank * ${RANK_SPAN_SQL} + $now, settled_at = NONE, updated_at = $at
         WHERE lease_until = NONE RETURN AFTER`,
        { id: deliveryId(id), now: nowMs, at: new Date(nowMs).toISOString() },
      )
      .collect();
    return row ?? undefined;
  }

  /** The status of each of these deliveries that exists, by id. */
  async statuses(ids: string[]): Promise<Map<string, DeliveryRow['status']>> {
    if (ids.length === 0) return new Map();
    const [rows] = await this.db
      .query<[Array<{ id: string; status: DeliveryRow['status'] } | undefined>]>('SELECT record::id(id) AS id, status FROM $ids', { ids: ids.map(deliveryId) })
      .collect();
    return new Map(rows.filter((r) => r !== undefined && r !== null).map((r) => [String(r.id), r.status]));
  }
}
