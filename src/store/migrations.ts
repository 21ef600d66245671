import type { Surreal } from 'surrealdb';

/**
 * Idempotent schema.
 * - History never sorts DESC (SurrealDB 3.0 does not back it with an index), so each ordered index has a
 *   reverse twin: `rseq` = SEQ_MAX − seq, and `type_key`/`type_rkey` put the type and the zero-padded
 *   (reverse) seq in one string so a single-field range yields one type's events in order.
 * - `event` is SCHEMALESS: TypeBox has validated every field before the committer sees it, and field
 *   definitions plus indexes on mostly-NONE fields cost ~40% of insert throughput (measured, see BENCHMARKS).
 *   Optional lookups live in side tables that only get rows when the field is set: `event_ref` for
 *   correlation/workflow/session ids, `event_expiry` for expires_at.
 * - `commit_log` gets one row per committed transaction, carrying its events: the one table each process
 *   watches with a LIVE query (a LIVE query costs per written record of its table, so never `event`).
 * - `delivery` is the webhook queue: `queue_key` (claim order, only on claimable rows), `lease_until` (only on
 *   leased rows, for the reaper), `list_key` (a subscription's deliveries, newest first) and `settled_at`
 *   (retention); its attempts are an array on the row (one row write per outcome); see delivery-rows.ts. `herald_seq:subscriptions` is bumped on every subscription change so replicas reload.
 */
const STATEMENTS = `
DEFINE TABLE IF NOT EXISTS event SCHEMALESS;
DEFINE INDEX IF NOT EXISTS event_seq ON event FIELDS seq;
DEFINE INDEX IF NOT EXISTS event_rseq ON event FIELDS rseq;
DEFINE INDEX IF NOT EXISTS event_type_key ON event FIELDS type_key;
DEFINE INDEX IF NOT EXISTS event_type_rkey ON event FIELDS type_rkey;
DEFINE TABLE IF NOT EXISTS event_ref SCHEMALESS;
DEFINE INDEX IF NOT EXISTS event_ref_ref ON event_ref FIELDS ref;
DEFINE TABLE IF NOT EXISTS event_expiry SCHEMALESS;
DEFINE INDEX IF NOT EXISTS event_expiry_at ON event_expiry FIELDS expires_at;
DEFINE TABLE IF NOT EXISTS commit_log SCHEMALESS;
DEFINE INDEX IF NOT EXISTS commit_log_at ON commit_log FIELDS at;
DEFINE TABLE IF NOT EXISTS subscription SCHEMALESS;
DEFINE INDEX IF NOT EXISTS subscription_name ON subscription FIELDS subscriber_name;
DEFINE TABLE IF NOT EXISTS delivery SCHEMALESS;
DEFINE INDEX IF NOT EXISTS delivery_queue ON delivery FIELDS queue_key;
DEFINE INDEX IF NOT EXISTS delivery_lease ON delivery FIELDS lease_until;
DEFINE INDEX IF NOT EXISTS delivery_list ON delivery FIELDS list_key;
DEFINE INDEX IF NOT EXISTS delivery_settled ON delivery FIELDS settled_at;
DEFINE TABLE IF NOT EXISTS herald_seq SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS value ON herald_seq TYPE int DEFAULT 0;
`;

export async function migrate(db: Surreal): Promise<void> {
  await db.query(STATEMENTS);
}
