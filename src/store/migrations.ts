import type { Surreal } from 'surrealdb';

/**
 * Idempotent schema. History never sorts DESC (SurrealDB 3.0 does not back it with an index), so each ordered
 * index has a reverse twin: `rseq` = SEQ_MAX − seq, and `type_key`/`type_rkey` put the type and the zero-padded
 * (reverse) seq in one string so a single-field range yields one type's events in order.
 */
const STATEMENTS = `
DEFINE TABLE IF NOT EXISTS event SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS event_type ON event TYPE string;
DEFINE FIELD IF NOT EXISTS source ON event TYPE string;
DEFINE FIELD IF NOT EXISTS target ON event TYPE option<string>;
DEFINE FIELD IF NOT EXISTS payload ON event TYPE object FLEXIBLE DEFAULT {};
DEFINE FIELD IF NOT EXISTS metadata ON event TYPE object FLEXIBLE DEFAULT {};
DEFINE FIELD IF NOT EXISTS timestamp ON event TYPE datetime;
DEFINE FIELD IF NOT EXISTS priority ON event TYPE string ASSERT $value IN ['low', 'normal', 'high', 'critical'];
DEFINE FIELD IF NOT EXISTS correlation_id ON event TYPE option<string>;
DEFINE FIELD IF NOT EXISTS workflow_id ON event TYPE option<string>;
DEFINE FIELD IF NOT EXISTS session_id ON event TYPE option<string>;
DEFINE FIELD IF NOT EXISTS retry_count ON event TYPE int DEFAULT 0;
DEFINE FIELD IF NOT EXISTS max_retries ON event TYPE option<int>;
DEFINE FIELD IF NOT EXISTS expires_at ON event TYPE option<datetime>;
DEFINE FIELD IF NOT EXISTS received_at ON event TYPE datetime;
DEFINE FIELD IF NOT EXISTS seq ON event TYPE int;
DEFINE FIELD IF NOT EXISTS rseq ON event TYPE int;
DEFINE FIELD IF NOT EXISTS type_key ON event TYPE string;
DEFINE FIELD IF NOT EXISTS type_rkey ON event TYPE string;
DEFINE INDEX IF NOT EXISTS event_seq ON event FIELDS seq UNIQUE;
DEFINE INDEX IF NOT EXISTS event_rseq ON event FIELDS rseq;
DEFINE INDEX IF NOT EXISTS event_type_key ON event FIELDS type_key;
DEFINE INDEX IF NOT EXISTS event_type_rkey ON event FIELDS type_rkey;
DEFINE INDEX IF NOT EXISTS event_correlation ON event FIELDS correlation_id;
DEFINE INDEX IF NOT EXISTS event_workflow ON event FIELDS workflow_id;
DEFINE INDEX IF NOT EXISTS event_session ON event FIELDS session_id;
DEFINE INDEX IF NOT EXISTS event_expires ON event FIELDS expires_at;
DEFINE TABLE IF NOT EXISTS herald_seq SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS value ON herald_seq TYPE int;
`;

export async function migrate(db: Surreal): Promise<void> {
  await db.query(STATEMENTS);
}
