/**
 * The schema version through the real process: a Herald 0.1.0 data directory served after the upgrade, and
 * a database from a newer Herald refused at start.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Surreal } from 'surrealdb';
import { closeConnection, openConnection } from '../src/store/connection.js';
import { SCHEMA_VERSION } from '../src/store/segment-rows.js';
import { testConfig } from './helpers/app.js';
import { cleanupServers, makeTempDir, readAllEvents, spawnServer, startServerProcess } from './helpers/spawn-server.js';
import { copyDataDir, copyFixture, fixtureExpectation } from './helpers/v1-data.js';
import { connect } from './helpers/ws.js';

const open = (dir: string): Promise<Surreal> => openConnection({ ...testConfig().db, url: `rocksdb://${dir}` });
const { version: heraldVersion } = (await import('../package.json', { with: { type: 'json' } })).default;

afterAll(cleanupServers);

describe('a Herald 0.1.0 data directory, served after the upgrade', () => {
  it('answers history, lookups, new publishes, a stream resume and the subscription\'s deliveries as 0.1.0 did', async () => {
    const expected = fixtureExpectation();
    // The worker is off so the deliveries stay as 0.1.0 left them.
    const server = await spawnServer({ dataDir: copyFixture(), env: { HERALD_WEBHOOK_WORKER: 'false' }, readyTimeoutMs: 60_000 });
    try {
      expect(await readAllEvents(server.url)).toEqual(expected.history);
      for (const event of expected.history) {
        const res = await fetch(`${server.url}/events/${event.event_id}`);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual(event);
      }
      const newest = (await (await fetch(`${server.url}/events?limit=5`)).json()) as { events: unknown[] };
      expect(newest.events).toEqual(expected.history.slice(-5).reverse());

      const from = expected.history[200]?.seq as number;
      const client = await connect(`${server.url.replace('http', 'ws')}/events?after=${from}`);
      const published = await fetch(`${server.url}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ event_type: 'task_started', source: 'after-upgrade' }),
      });
      expect(published.status).toBe(201);
      const { event: fresh } = (await published.json()) as { event: { seq: number } };
      expect(fresh.seq).toBeGreaterThan(expected.last_seq);
      await client.until((frames) => frames.some((f) => f.seq === fresh.seq));
      client.ws.close();
      const resumed = expected.history.filter((e) => e.seq > from && e.target === null).map((e) => e.seq);
      expect(client.frames.map((f) => f.seq)).toEqual([...resumed, fresh.seq]);

      const subId = expected.subscription.subscription_id;
      // 0.1.0 had none of these fields: no filter, Herald's own body, unordered, no throttle, a healthy endpoint.
      expect(await (await fetch(`${server.url}/subscriptions/${subId}`)).json()).toEqual({
        ...expected.subscription, filter: {}, format: 'seed', ordering_key: null, rate_limit: null,
        health: { state: 'healthy', circuit: 'closed', consecutive_failures: 0, failing_since: null, paused_until: null, next_probe_at: null, disabled_reason: null },
      });
      const { deliveries } = (await (await fetch(`${server.url}/subscriptions/${subId}/deliveries?limit=1000`)).json()) as { deliveries: unknown[] };
      expect(deliveries).toEqual(expected.deliveries);

      const health = (await (await fetch(`${server.url}/health`)).json()) as { version: string };
      expect(health.version).toBe(heraldVersion);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe('a database written by a newer Herald', () => {
  it('is refused at start with both schema versions named, and left untouched', async () => {
    const made = join(makeTempDir('newer'), 'db');
    const db = await open(made);
    await db.query('UPSERT herald_meta:schema SET version = $v; CREATE thing:1 SET note = "from the future"', { v: SCHEMA_VERSION + 1 }).collect();
    await closeConnection(db);
    // This process keeps its RocksDB LOCK after close(), so the server gets a copy.
    const dir = copyDataDir(made);

    const server = await startServerProcess({ dataDir: dir });
    const exit = await server.exited;
    expect(exit.code).toBe(1);
    expect(server.output()).toContain(
      `the database has storage schema ${SCHEMA_VERSION + 1} (written by a newer Herald); this Herald ${heraldVersion} reads schema ${SCHEMA_VERSION}`,
    );

    const after = await open(dir);
    try {
      const [tables, version, things] = await after
        .query<[string[], number, unknown[]]>('RETURN (INFO FOR DB).tables.keys(); RETURN herald_meta:schema.version; SELECT VALUE note FROM thing')
        .collect();
      expect(tables.sort()).toEqual(['herald_meta', 'thing']);
      expect(version).toBe(SCHEMA_VERSION + 1);
      expect(things).toEqual(['from the future']);
    } finally {
      await after.close();
    }
  }, 60_000);
});
