import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Surreal } from 'surrealdb';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Clock } from '../../src/lib/clock.js';
import { closeConnection, openConnection } from '../../src/store/connection.js';

export function testConfig(env: Record<string, string> = {}): Config {
  // Many apps share one event loop in a test process: one app's start-up stalls every other's samples, so
  // event-loop shedding is off unless a test turns it on (test/load-shedding.test.ts). Every injected request
  // comes from one address, so the rate limits are off too unless a test sets them (test/rate-limit.test.ts).
  return loadConfig({
    HERALD_DB_URL: 'mem://', LOG_LEVEL: 'silent', HERALD_CLEANUP_INTERVAL: '0', HERALD_SHED_EVENT_LOOP_DELAY: '0',
    HERALD_RATE_LIMIT_PUBLISH: '0', HERALD_RATE_LIMIT_READ: '0', ...env,
  });
}

/** A Herald app on its own mem:// database (or on `db` when given), on the system clock unless given one. */
export async function testApp(env: Record<string, string> = {}, db?: Surreal, clock?: Clock): Promise<FastifyInstance> {
  const app = await buildApp({ config: testConfig(env), ...(db && { db }), ...(clock && { clock }), logger: false });
  await app.ready();
  return app;
}

/** A temp RocksDB database — the embedded engine that loses no updates to concurrent writers (docs/storage.md). */
export async function tempRocksDb(): Promise<{ db: Surreal; dispose: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-test-'));
  const db = await openConnection({ ...testConfig().db, url: `rocksdb://${join(dir, 'db')}` });
  return {
    db,
    dispose: async () => {
      await closeConnection(db);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** testApp for tests that each start their own: every app made through it is closed after each test. */
export function appsClosedAfterEach(): typeof testApp {
  const open: FastifyInstance[] = [];
  afterEach(async () => {
    for (const app of open.splice(0)) await app.close();
  });
  return async (...args) => {
    const app = await testApp(...args);
    open.push(app);
    return app;
  };
}

/** Two Herald apps (replicas) on one temp RocksDB database; the second gets `envB` too. `close` ends all three. */
export async function twoInstances(envB: Record<string, string> = {}): Promise<{ db: Surreal; a: FastifyInstance; b: FastifyInstance; close: () => Promise<void> }> {
  const store = await tempRocksDb();
  const a = await testApp({}, store.db);
  const b = await testApp(envB, store.db);
  return {
    db: store.db,
    a,
    b,
    close: async () => {
      await b.close();
      await a.close();
      await store.dispose();
    },
  };
}

export const event = (over: Record<string, unknown> = {}) => ({
  event_type: 'task_progress',
  source: 'agent-1',
  payload: { progress: 0.5 },
  ...over,
});

export async function countEvents(app: FastifyInstance): Promise<number> {
  return app.store.events.count();
}
