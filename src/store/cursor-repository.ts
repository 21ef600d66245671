import { RecordId, type Surreal } from 'surrealdb';
import type { DeliveryRow } from './delivery-rows.js';
import type { AttemptLogRow } from './attempt-log.js';

/**
 * `wh_cursor:⟨subscription⟩`: every matching event with seq ≤ `seq` is settled (delivered, or handed to the
 * retry queue), and so are those in `above` (settled out of order, while a lower one was still in flight).
 * `owner`/`until` is the lease: the replica that delivers the subscription, until when (epoch ms).
 */
export interface CursorRow {
  id: RecordId<'wh_cursor'>;
  seq: number;
  above: number[];
  owner?: string;
  until?: number;
}

/** What one subscription's outcomes write: its cursor, attempt-log rows, retry-queue rows. */
export interface CursorAdvance {
  subscriptionId: string;
  seq: number;
  above: number[];
  logs: AttemptLogRow[];
  queue: DeliveryRow[];
}

const cursorId = (subscriptionId: string): RecordId<'wh_cursor'> => new RecordId('wh_cursor', subscriptionId);
const replicaId = (replica: string): RecordId<'wh_replica'> => new RecordId('wh_replica', replica);

/** All SurrealQL about subscription cursors, their leases and the replicas that hold them (docs/webhooks.md). */
export class CursorRepository {
  constructor(private readonly db: Surreal) {}

  /** Creates a cursor at the current seq for each subscription that has none: it gets events from now on. */
  async ensure(subscriptionIds: string[]): Promise<void> {
    if (subscriptionIds.length === 0) return;
    await this.db
      .query('LET $at = herald_seq:event.value ?? 0; INSERT IGNORE INTO wh_cursor $ids.map(|$id| { id: $id, seq: $at, above: [] }) RETURN NONE;', {
        ids: subscriptionIds.map(cursorId),
      })
      .collect();
  }

  /** Moves a cursor to the current seq (a re-enabled subscription gets no events from while it was disabled). */
  async skipToNow(subscriptionId: string): Promise<void> {
    await this.db.query('UPSERT $id SET seq = herald_seq:event.value ?? 0, above = [] RETURN NONE', { id: cursorId(subscriptionId) }).collect();
  }

  /** Leases the cursors that are free, expired or already `replica`'s until `until`; returns the ones it holds. */
  async claim(replica: string, subscriptionIds: string[], nowMs: number, until: number): Promise<CursorRow[]> {
    if (subscriptionIds.length === 0) return [];
    const [rows] = await this.db
      .query<[CursorRow[]]>(
        'UPDATE $ids SET owner = $me, until = $until WHERE owner = NONE OR owner = $me OR until < $now RETURN id, seq, above, owner, until',
        { ids: subscriptionIds.map(cursorId), me: replica, now: nowMs, until },
      )
      .collect();
    return rows;
  }

  /** Extends the leases `replica` still holds; returns the subscription ids it holds. */
  async renew(replica: string, subscriptionIds: string[], until: number): Promise<string[]> {
    if (subscriptionIds.length === 0) return [];
    const [ids] = await this.db
      .query<[string[]]>('UPDATE $ids SET until = $until WHERE owner = $me RETURN VALUE record::id(id)', {
        ids: subscriptionIds.map(cursorId), me: replica, until,
      })
      .collect();
    return ids.map(String);
  }

  async release(replica: string, subscriptionIds: string[]): Promise<void> {
    if (subscriptionIds.length === 0) return;
    await this.db
      .query('UPDATE $ids SET owner = NONE, until = NONE WHERE owner = $me RETURN NONE', { ids: subscriptionIds.map(cursorId), me: replica })
      .collect();
  }

  /** Records that `replica` is alive until `until`, and returns how many replicas are alive at `nowMs`. */
  async heartbeat(replica: string, nowMs: number, until: number): Promise<number> {
    const results = await this.db
      .query<unknown[]>(
        `UPSERT $me SET until = $until RETURN NONE;
         RETURN array::len((SELECT VALUE id FROM wh_replica WHERE until >= $now));`,
        { me: replicaId(replica), until, now: nowMs },
      )
      .collect();
    return Number(results.at(-1) ?? 1);
  }

  async leaveReplicas(replica: string): Promise<void> {
    await this.db.query('DELETE $me RETURN NONE; DELETE wh_replica WHERE until < $now RETURN NONE', { me: replicaId(replica), now: Date.now() - 3_600_000 }).collect();
  }

  /**
   * One transaction for a batch of outcomes: per subscription `replica` still holds, the cursor advance, its
   * attempt-log rows and its retry-queue rows. Returns the subscriptions whose outcomes were written; the
   * others' leases were taken over, and their new owner delivers those events again.
   */
  async advance(replica: string, advances: CursorAdvance[]): Promise<Set<string>> {
    if (advances.length === 0) return new Set();
    const results = await this.db
      .query<unknown[]>(
        `BEGIN;
        LET $owned = SELECT VALUE id FROM $fl.map(|$f| $f.cursor) WHERE owner = $me;
        FOR $f IN $fl {
          IF $f.cursor IN $owned {
            UPDATE $f.cursor SET seq = $f.seq, above = $f.above RETURN NONE;
            INSERT INTO wh_log $f.logs RETURN NONE;
            INSERT IGNORE INTO delivery $f.queue RETURN NONE;
          };
        };
        RETURN $owned.map(|$id| record::id($id));
        COMMIT;`,
        {
          me: replica,
          fl: advances.map((a) => ({ cursor: cursorId(a.subscriptionId), seq: a.seq, above: a.above, logs: a.logs, queue: a.queue })),
        },
      )
      .collect();
    // The RETURN before COMMIT.
    return new Set((results.at(-2) as string[] | undefined ?? []).map(String));
  }

  async get(subscriptionId: string): Promise<CursorRow | undefined> {
    const [row] = await this.db.query<[CursorRow | undefined]>('SELECT * FROM ONLY $id', { id: cursorId(subscriptionId) }).collect();
    return row ?? undefined;
  }

  /** The cursors of these subscriptions (those that have one). */
  async positions(subscriptionIds: string[]): Promise<Array<{ id: string; seq: number; above: number[] }>> {
    if (subscriptionIds.length === 0) return [];
    const [rows] = await this.db
      .query<[Array<{ id: string; seq: number; above?: number[] }>]>('SELECT record::id(id) AS id, seq, above FROM $ids', { ids: subscriptionIds.map(cursorId) })
      .collect();
    return rows.map((r) => ({ id: String(r.id), seq: r.seq, above: r.above ?? [] }));
  }

  /** The subscriptions among these whose lease `replica` could claim at `nowMs`: free, expired or its own. */
  async claimable(replica: string, subscriptionIds: string[], nowMs: number): Promise<string[]> {
    if (subscriptionIds.length === 0) return [];
    const [ids] = await this.db
      .query<[string[]]>('SELECT VALUE record::id(id) FROM $ids WHERE owner = NONE OR owner = $me OR until < $now', {
        ids: subscriptionIds.map(cursorId), me: replica, now: nowMs,
      })
      .collect();
    return ids.map(String);
  }

  async delete(subscriptionId: string): Promise<void> {
    await this.db.query('DELETE $id RETURN NONE', { id: cursorId(subscriptionId) }).collect();
  }
}
