import type { Surreal } from 'surrealdb';

/**
 * Idempotent schema (layout in docs/storage.md and segment-rows.ts).
 * - The event tables are SCHEMALESS with no index: TypeBox has validated every event before the committer
 *   sees it, and every lookup is a bounded record-id range, which needs no index (the engine charges per
 *   index key written).
 * - `herald_seq:event` and `herald_seq:purged` are created here, so they move by conditional UPDATEs (in
 *   SurrealDB 3.0 the SET of an UPSERT does not see the stored value).
 * - `delivery` is the webhook queue: `queue_key` (claim order, only on claimable rows), `lease_until` (only on
 *   leased rows, for the reaper), `list_key` (a subscription's deliveries, newest first) and `settled_at`
 *   (retention); its attempts are an array on the row (one row write per outcome); see delivery-rows.ts.
 *   Since webhooks v2 it holds only retries, failures and replays; first attempts come from the log by each
 *   subscription's cursor (`wh_cursor`, with its lease), delivered ones are recorded in `wh_log` (see
 *   cursor-repository.ts and attempt-log.ts); `wh_replica` rows are the replicas' heartbeats.
 *   `herald_seq:subscriptions` is bumped on every subscription change so replicas reload.
 * The schema version row (`herald_meta:schema`) is written by the version check that runs before this.
 */
const STATEMENTS = `
DEFINE TABLE IF NOT EXISTS segment SCHEMALESS;
DEFINE TABLE IF NOT EXISTS seg_type SCHEMALESS;
DEFINE TABLE IF NOT EXISTS event_type SCHEMALESS;
DEFINE TABLE IF NOT EXISTS event_key SCHEMALESS;
DEFINE TABLE IF NOT EXISTS event_ref SCHEMALESS;
DEFINE TABLE IF NOT EXISTS event_expiry SCHEMALESS;
DEFINE TABLE IF NOT EXISTS herald_meta SCHEMALESS;
DEFINE TABLE IF NOT EXISTS subscription SCHEMALESS;
DEFINE INDEX IF NOT EXISTS subscription_name ON subscription FIELDS subscriber_name;
DEFINE TABLE IF NOT EXISTS delivery SCHEMALESS;
DEFINE INDEX IF NOT EXISTS delivery_queue ON delivery FIELDS queue_key;
DEFINE INDEX IF NOT EXISTS delivery_lease ON delivery FIELDS lease_until;
DEFINE INDEX IF NOT EXISTS delivery_list ON delivery FIELDS list_key;
DEFINE INDEX IF NOT EXISTS delivery_settled ON delivery FIELDS settled_at;
DEFINE TABLE IF NOT EXISTS wh_cursor SCHEMALESS;
DEFINE TABLE IF NOT EXISTS wh_replica SCHEMALESS;
DEFINE TABLE IF NOT EXISTS wh_log SCHEMALESS;
DEFINE INDEX IF NOT EXISTS wh_log_at ON wh_log FIELDS at;
DEFINE TABLE IF NOT EXISTS herald_seq SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS value ON herald_seq TYPE int DEFAULT 0;
INSERT IGNORE INTO herald_seq [{ id: herald_seq:event, value: 0 }, { id: herald_seq:purged, value: 0 }] RETURN NONE;
`;

export async function migrate(db: Surreal): Promise<void> {
  await db.query(STATEMENTS);
}
