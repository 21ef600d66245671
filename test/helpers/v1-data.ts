/**
 * Herald 0.1.0 data for the upgrade tests: copies of the committed fixture (test/fixtures/data-0.1.0, made by
 * the 0.1.0 code, see test/fixtures/make-v0.1.0-data.ts) and a multiplier that grows a copy by cloning its
 * 0.1.0 rows under fresh event_ids and higher seqs.
 */
import { cpSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RecordId, type Surreal } from 'surrealdb';
import type { Event } from '../../src/schemas/event.js';
import { REPO_ROOT, makeTempDir } from './spawn-server.js';

export const FIXTURE_DIR = join(REPO_ROOT, 'test/fixtures/data-0.1.0');

export interface FixtureExpectation {
  last_seq: number;
  published: Array<{ status: number; event_id: string; seq: number }>;
  history: Event[];
  subscription: { subscription_id: string; [field: string]: unknown };
  deliveries: Array<{ delivery_id: string; event_id: string; status: string; [field: string]: unknown }>;
}

export const fixtureExpectation = (): FixtureExpectation =>
  JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/data-0.1.0.expected.json'), 'utf8')) as FixtureExpectation;

/** A copy of a closed data directory, without its LOCK file (removed by cleanupServers()). */
export function copyDataDir(from: string): string {
  const dir = join(makeTempDir('v010'), 'db');
  cpSync(from, dir, { recursive: true, filter: (path) => basename(path) !== 'LOCK' });
  return dir;
}

/** A fresh copy of the fixture's data directory. */
export const copyFixture = (): string => copyDataDir(FIXTURE_DIR);

/** The 0.1.0 events stored in `db`, ascending seq (before the upgrade). */
export async function readV1Events(db: Surreal): Promise<Event[]> {
  const [docs] = await db.query<[string[]]>('SELECT VALUE doc FROM event').collect();
  return docs.map((doc) => JSON.parse(doc) as Event).sort((a, b) => a.seq - b.seq);
}

interface V1Row { id: RecordId<'event'>; doc: string; seq: number; [field: string]: unknown }
interface V1SideRow { id: RecordId; event: RecordId<'event'>; seq?: number; [field: string]: unknown }

/**
 * Adds `copies` clones of every 0.1.0 event row (with its ref and expiry rows), each copy's seqs above the last,
 * and advances the seq counter, as 0.1.0 would have stored them.
 */
export async function multiplyV1(db: Surreal, copies: number): Promise<void> {
  const [[rows], [refs], [expiries], [top]] = await Promise.all([
    db.query<[V1Row[]]>('SELECT * FROM event').collect(),
    db.query<[V1SideRow[]]>('SELECT * FROM event_ref').collect(),
    db.query<[V1SideRow[]]>('SELECT * FROM event_expiry').collect(),
    db.query<[number]>('RETURN herald_seq:event.value').collect(),
  ]);
  const SEQ_MAX = 2 ** 53 - 1;
  const key = (type: string, n: number) => `${type} ${String(n).padStart(16, '0')}`;
  for (let copy = 1; copy <= copies; copy++) {
    const renamed = new Map<string, string>();
    const clones = rows.map((row) => {
      const event = JSON.parse(row.doc) as Event;
      const seq = row.seq + copy * top;
      const eventId = crypto.randomUUID();
      renamed.set(String(row.id.id), eventId);
      const doc = JSON.stringify({ ...event, event_id: eventId, seq });
      return { ...row, id: new RecordId('event', eventId), doc, seq, rseq: SEQ_MAX - seq, type_key: key(event.event_type, seq), type_rkey: key(event.event_type, SEQ_MAX - seq) };
    });
    const side = (list: V1SideRow[], idOf: (eventId: string, old: RecordId) => RecordId) =>
      list.map((r) => {
        const eventId = renamed.get(String(r.event.id)) as string;
        return { ...r, id: idOf(eventId, r.id), event: new RecordId('event', eventId), ...(r.seq !== undefined && { seq: r.seq + copy * top }) };
      });
    await db
      .query('BEGIN; INSERT INTO event $events RETURN NONE; INSERT INTO event_ref $refs RETURN NONE; INSERT INTO event_expiry $expiries RETURN NONE; UPSERT herald_seq:event SET value = $last RETURN NONE; COMMIT;', {
        events: clones,
        refs: side(refs, (id, old) => new RecordId('event_ref', `${id}:${String(old.id).split(':')[1]}`)),
        expiries: side(expiries, (id) => new RecordId('event_expiry', id)),
        last: top * (copy + 1),
      })
      .collect();
  }
}
