import type { FastifyBaseLogger } from 'fastify';
import { RecordId, type Surreal } from 'surrealdb';
import type { Event } from '../schemas/event.js';
import { SCHEMA_VERSION } from './segment-rows.js';
import { toSegmentRecords, type SegmentRecords } from './segment-records.js';
import { planSegments } from './upgrade-v1-plan.js';

/**
 * Herald 0.1.0's layout (storage schema 1), as far as the upgrade reads it: one `event` row per event, id the
 * event_id, the event's JSON in `doc`, indexed by `seq`; side rows `event_ref:⟨event_id:c|w|s⟩` and
 * `event_expiry:⟨event_id⟩` (string ids, unlike schema 2's composite ones); `commit_log` for its live feed.
 * The counters (`herald_seq:*`), subscriptions and deliveries have the same shape in both schemas.
 */
interface V1EventRow {
  id: RecordId<'event'>;
  doc: string;
  seq: number;
  received_at: number;
}
interface V1Item {
  seq: number;
  row: V1EventRow;
  event: Event;
}
const V1_REF_KINDS = { correlation_id: 'c', workflow_id: 'w', session_id: 's' } as const;

/** Schema-1 indexes on the tables schema 2 shares: dropped first, so schema-2 rows get no entries in them. */
const DROP_V1_INDEXES = `
REMOVE INDEX IF EXISTS event_ref_ref ON event_ref;
REMOVE INDEX IF EXISTS event_expiry_at ON event_expiry;
`;

/** Seqs one read covers; an empty window doubles the next one, up to WINDOW_MAX, to cross a purged stretch. */
const WINDOW = 1024;
const WINDOW_MAX = 1 << 20;
const PROGRESS_LOG_MS = 5000;

export interface UpgradeResult {
  events: number;
  segments: number;
  durationMs: number;
}

/**
 * Moves schema-1 events into schema-2 segments, oldest first, keeping every seq and document. Each window of
 * seqs is one transaction that writes the window's segments, deletes the window's schema-1 ref and expiry rows
 * (they share their tables with schema 2's) and records how far the upgrade got (`herald_meta:upgrade_v1`),
 * so a crash at any point leaves each event moved or not, never half, and a restart continues after the last
 * window committed. The schema-1 `event` rows are dropped with their table at the end (deleting them window
 * by window cost ~40% of the upgrade's time), then the schema version is written. Every 0.1.0 event_id is
 * random and carries no seq, so every event gets an `event_key` row.
 */
export async function upgradeV1(db: Surreal, log: FastifyBaseLogger): Promise<UpgradeResult> {
  const started = performance.now();
  const top = await scalar<number>(db, 'RETURN herald_seq:event.value ?? 0');
  await db.query(DROP_V1_INDEXES).collect();
  let prevLast = await progress(db);
  log.info({ from: prevLast, to: top }, 'upgrading storage schema 1 (Herald 0.1.0) to 2: moving events into segments');
  const result = { events: 0, segments: 0 };
  let cursor = prevLast;
  let width = WINDOW;
  let lastLog = started;
  while (cursor < top) {
    const to = Math.min(top, cursor + width);
    const [rows] = await db
      .query<[V1EventRow[]]>('SELECT id, doc, seq, received_at FROM event WHERE seq > $from AND seq <= $to', { from: cursor, to })
      .collect();
    if (rows.length === 0) {
      cursor = to;
      width = Math.min(width * 2, WINDOW_MAX);
      continue;
    }
    const items = rows.map((row) => ({ seq: row.seq, row, event: JSON.parse(row.doc) as Event })).sort((a, b) => a.seq - b.seq);
    const ids = new Set(items.map((item) => item.event.event_id));
    const segments = planSegments(items, prevLast).map(({ first, items: held }) => {
      const records = toSegmentRecords(held.map((item) => item.event), ids, (held.at(-1) as V1Item).row.received_at);
      records.segment.first = first;
      return records;
    });
    const last = (items.at(-1) as V1Item).seq;
    await moveWindow(db, prevLast, last, segments, items);
    result.events += rows.length;
    result.segments += segments.length;
    prevLast = last;
    cursor = to;
    width = WINDOW;
    log.debug({ through: last, events: result.events }, 'storage upgrade window committed');
    if (performance.now() - lastLog >= PROGRESS_LOG_MS) {
      lastLog = performance.now();
      log.info({ events: result.events, through: last, of: top, elapsedMs: Math.round(lastLog - started) }, 'storage upgrade in progress');
    }
  }
  await finish(db);
  const durationMs = Math.round(performance.now() - started);
  log.info({ ...result, durationMs }, `storage upgraded to schema ${SCHEMA_VERSION}`);
  return { ...result, durationMs };
}

/** The last seq already moved: the progress row of an interrupted upgrade, else the highest seq 0.1.0 purged. */
async function progress(db: Surreal): Promise<number> {
  const through = await scalar<number | null>(db, 'RETURN herald_meta:upgrade_v1.through');
  if (through !== null && through !== undefined) return through;
  const purged = await scalar<number>(db, 'RETURN herald_seq:purged.value ?? 0');
  await db.query('UPSERT herald_meta:upgrade_v1 SET through = $purged RETURN NONE', { purged }).collect();
  return purged;
}

async function moveWindow(db: Surreal, prevLast: number, last: number, segments: SegmentRecords[], items: V1Item[]): Promise<void> {
  const all = <K extends Exclude<keyof SegmentRecords, 'segment'>>(key: K): unknown[] => segments.flatMap((s): unknown[] => s[key]);
  const refs = all('refs');
  const expiries = all('expiries');
  const doomed: RecordId[] = [];
  for (const { event } of items) {
    for (const [field, kind] of Object.entries(V1_REF_KINDS)) {
      if (event[field as keyof typeof V1_REF_KINDS] !== null) doomed.push(new RecordId('event_ref', `${event.event_id}:${kind}`));
    }
    if (event.expires_at !== null) doomed.push(new RecordId('event_expiry', event.event_id));
  }
  // The progress check makes a second process upgrading the same remote database fail instead of interleave.
  // (Inside a transaction the engine needs the SELECT form: a bare `record.field` fails with "Specify a database".)
  const responses = await db
    .query(
      `BEGIN;
      IF (SELECT VALUE through FROM ONLY herald_meta:upgrade_v1) != $prev { THROW "herald:upgrade_moved" };
      INSERT INTO segment $segments RETURN NONE;
      INSERT INTO seg_type $segTypes RETURN NONE;
      INSERT IGNORE INTO event_type $types RETURN NONE;
      INSERT INTO event_key $keys RETURN NONE;
      ${refs.length > 0 ? 'INSERT INTO event_ref $refs RETURN NONE;' : ''}
      ${expiries.length > 0 ? 'INSERT INTO event_expiry $expiries RETURN NONE;' : ''}
      ${doomed.length > 0 ? 'DELETE $doomed RETURN NONE;' : ''}
      UPSERT herald_meta:upgrade_v1 SET through = $last RETURN NONE;
      COMMIT;`,
      {
        prev: prevLast, last, segments: segments.map((s) => s.segment), segTypes: all('segTypes'), types: all('types'), keys: all('keys'),
        refs, expiries, doomed,
      },
    )
    .responses();
  const failures = responses.flatMap((r) => (r.success ? [] : [r.error.message]));
  if (failures.length > 0) {
    const cause = failures.find((m) => !/not executed|cancelled/i.test(m)) ?? failures[0];
    throw new Error(`storage upgrade failed moving seqs ${prevLast + 1}..${last}: ${cause}`);
  }
}

/** Drops what is left of schema 1 (every event is in a segment by now), then records the new version. */
async function finish(db: Surreal): Promise<void> {
  const tables = await scalar<string[]>(db, 'RETURN (INFO FOR DB).tables.keys()');
  await db.query('REMOVE TABLE IF EXISTS event').collect();
  // 0.1.0's live-feed rows: deleted, the table left to whatever this version defines for it.
  if (tables.includes('commit_log')) await db.query('DELETE commit_log RETURN NONE').collect();
  await db.query('BEGIN; UPSERT herald_meta:schema SET version = $version RETURN NONE; DELETE herald_meta:upgrade_v1 RETURN NONE; COMMIT;', { version: SCHEMA_VERSION }).collect();
}

async function scalar<T>(db: Surreal, query: string): Promise<T> {
  const [value] = await db.query<[T]>(query).collect();
  return value;
}
