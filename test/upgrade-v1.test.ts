import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import type { Surreal } from 'surrealdb';
import { closeConnection, openConnection } from '../src/store/connection.js';
import { migrate } from '../src/store/migrations.js';
import { settleSchema } from '../src/store/schema-version.js';
import { SegmentReads } from '../src/store/segment-reads.js';
import { decodeDocs } from '../src/store/segment-rows.js';
import { testConfig } from './helpers/app.js';
import { cleanupServers, startServerProcess } from './helpers/spawn-server.js';
import { expectUpgraded, upgradedSegments } from './helpers/upgraded.js';
import { copyDataDir, copyFixture, fixtureExpectation, multiplyV1, readV1Events } from './helpers/v1-data.js';

const silent = pino({ level: 'silent' }) as FastifyBaseLogger;
const open = (dir: string): Promise<Surreal> => openConnection({ ...testConfig().db, url: `rocksdb://${dir}` });

async function dump(db: Surreal): Promise<unknown> {
  const tables = ['segment', 'seg_type', 'event_type', 'event_key', 'event_ref', 'event_expiry', 'herald_seq', 'herald_meta', 'subscription', 'delivery'];
  const results = await db.query(tables.map((t) => `SELECT * FROM ${t};`).join('\n')).collect();
  return JSON.stringify(results);
}

afterAll(cleanupServers);

/** The kill -9 test grows the fixture to ~8k events: eight windows of 1024 seqs, killed after the third. */
const COPIES = 30;

describe('upgrading a Herald 0.1.0 data directory', () => {
  it('records schema 2 on a fresh database without going through the 0.1.0 upgrade', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) as FastifyBaseLogger;
    const db = await open(mkdtempSync(join(tmpdir(), 'herald-fresh-')));
    try {
      await migrate(db);
      await settleSchema(db, log);
      expect(lines.filter((l) => l.includes('upgrading storage schema'))).toEqual([]);
      const [version] = await db.query<[number]>('RETURN herald_meta:schema.version').collect();
      expect(version).toBe(2);
    } finally {
      await closeConnection(db);
    }
  });

  it('moves every 0.1.0 event into exactly one segment with its seq and document, keeps counters, subscriptions and deliveries, and a second run changes nothing', async () => {
    const expected = fixtureExpectation();
    const db = await open(copyFixture());
    try {
      const v1 = await readV1Events(db);
      // The fixture holds what 0.1.0 acknowledged: every 201, the re-published id once, the expired event too.
      expect(v1.map((e) => [e.event_id, e.seq])).toEqual(expected.published.filter((p) => p.status === 201).map((p) => [p.event_id, p.seq]));
      for (const event of expected.history) expect(v1.find((e) => e.seq === event.seq)).toEqual(event);
      const [[subsBefore], [deliveriesBefore]] = await Promise.all([
        db.query<[unknown[]]>('SELECT * FROM subscription').collect(),
        db.query<[unknown[]]>('SELECT * FROM delivery').collect(),
      ]);
      expect(deliveriesBefore).toHaveLength(expected.deliveries.length);

      await migrate(db);
      await settleSchema(db, silent);

      await expectUpgraded(db, v1, expected.last_seq);
      const [[subsAfter], [deliveriesAfter]] = await Promise.all([
        db.query<[unknown[]]>('SELECT * FROM subscription').collect(),
        db.query<[unknown[]]>('SELECT * FROM delivery').collect(),
      ]);
      expect(subsAfter).toEqual(subsBefore);
      expect(deliveriesAfter).toEqual(deliveriesBefore);

      // The read primitives find each event from its seq, its event_id and the ids it carries.
      const reads = new SegmentReads(db);
      for (const event of v1) {
        const segment = await reads.covering(event.seq);
        expect(segment && decodeDocs(segment).filter((e) => e.seq === event.seq)).toEqual([event]);
        expect(await reads.eventKey(event.event_id)).toMatchObject({ seq: event.seq, segment: segment?.last });
        if (event.workflow_id !== null) {
          expect(await reads.refs('workflow_id', event.workflow_id, event.seq - 1, event.seq)).toEqual([{ seq: event.seq, segment: segment?.last }]);
        }
      }

      const before = await dump(db);
      await migrate(db);
      await settleSchema(db, silent);
      expect(await dump(db)).toEqual(before);
    } finally {
      await closeConnection(db);
    }
  });

  it('resumes after a kill -9 mid-upgrade: every event is stored once', async () => {
    const grown = copyFixture();
    const db = await open(grown);
    let v1;
    try {
      await multiplyV1(db, COPIES);
      v1 = await readV1Events(db);
    } finally {
      await closeConnection(db);
    }
    // This process keeps its RocksDB LOCK after close(), so the server gets a copy.
    const dir = copyDataDir(grown);
    const lastSeq = fixtureExpectation().last_seq * (COPIES + 1);
    expect(v1.length).toBeGreaterThan(8000);

    const server = await startServerProcess({ dataDir: dir, env: { LOG_LEVEL: 'debug' } });
    await vi.waitFor(() => {
      if (!server.running()) throw new Error(`exited early:\n${server.output()}`);
      expect(server.output().match(/storage upgrade window committed/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
    }, { timeout: 60_000, interval: 20 });
    await server.stop('SIGKILL');

    const again = await open(dir);
    try {
      // Killed part-way: the first windows are in segments, the 0.1.0 rows are all still there until the end.
      const moved = (await upgradedSegments(again)).flatMap(decodeDocs);
      const [through] = await again.query<[number]>('RETURN herald_meta:upgrade_v1.through').collect();
      expect(moved.length).toBeGreaterThan(0);
      expect(moved.length).toBeLessThan(v1.length);
      expect(moved.at(-1)?.seq).toBe(through);
      expect(await readV1Events(again)).toHaveLength(v1.length);

      await migrate(again);
      await settleSchema(again, silent);
      await expectUpgraded(again, v1, lastSeq);
    } finally {
      await again.close();
    }
  }, 180_000);
});
