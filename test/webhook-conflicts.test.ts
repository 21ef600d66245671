/**
 * Write conflicts on the retry queue (two workers, or a worker's renew against its own settle) are a
 * normal outcome on RocksDB: the worker retries them, counts them and logs them at debug, not as errors.
 * The conflict injected here is a real one, made by two overlapping transactions on the same RocksDB.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../src/app.js';
import { isWriteConflict } from '../src/store/event-repository.js';
import { writeConflicts, type SettledDelivery } from '../src/webhooks/worker.js';
import { event, tempRocksDb, testConfig } from './helpers/app.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

/** The error the engine raises on a write conflict: the later of two transactions writing one row. */
async function realConflict(db: Awaited<ReturnType<typeof tempRocksDb>>['db']): Promise<Error> {
  await db.query('UPSERT conflict_probe:1 SET n = 0').collect();
  const first = await db.beginTransaction();
  const second = await db.beginTransaction();
  await first.query('UPDATE conflict_probe:1 SET n += 1').collect();
  await second.query('UPDATE conflict_probe:1 SET n += 1').collect();
  await first.commit();
  try {
    await second.commit();
  } catch (err) {
    return err as Error;
  }
  throw new Error('the second transaction committed: no conflict');
}

describe('webhook worker: write conflicts', () => {
  let store: Awaited<ReturnType<typeof tempRocksDb>>;
  let receiver: Receiver;
  let app: FastifyInstance;
  const logs: Array<{ level: number; msg: string; operation?: string }> = [];

  beforeAll(async () => {
    store = await tempRocksDb();
    // The first attempt (from the log) fails, so the outcome of the second is the retry queue's to write.
    receiver = await startReceiver((n) => ({ status: n === 0 ? 500 : 204 }));
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line) as (typeof logs)[number]);
        done();
      },
    });
    const config = testConfig({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_WEBHOOK_LEASE: '300ms', HERALD_RETRY_SCHEDULE: '50ms' });
    app = await buildApp({ config, db: store.db, logger: { level: 'debug', stream } });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await store.dispose();
    await receiver.close();
  });

  it('retries a conflicted renew and settle, counts them, and logs no error', async () => {
    const conflict = await realConflict(store.db);
    expect(isWriteConflict(conflict)).toBe(true);
    const worker = app.webhooks.worker;
    if (!worker) throw new Error('the worker runs by default');
    const settled: SettledDelivery[] = [];
    worker.onSettled((s) => settled.push(s));
    const before = { ...writeConflicts };
    // The next two settles and renews conflict, as they did under load with a second worker on the queue.
    const settle = vi.spyOn(app.store.deliveries, 'settle').mockRejectedValueOnce(conflict).mockRejectedValueOnce(conflict);
    const renew = vi.spyOn(app.store.deliveries, 'renew').mockRejectedValueOnce(conflict).mockRejectedValueOnce(conflict);

    const sub = await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'c', event_types: [], callback_url: `${receiver.url}/hook` } });
    expect(sub.statusCode).toBe(201);
    const published = await app.inject({ method: 'POST', url: '/events', payload: event() });
    expect(published.statusCode).toBe(201);

    await vi.waitFor(() => expect(settled.map((s) => s.status)).toEqual(['retrying', 'delivered']), { timeout: 15_000 });
    await vi.waitFor(() => expect(renew.mock.calls.length).toBeGreaterThan(2), { timeout: 15_000 });
    // Two conflicted settles and the one that wrote; a lease that ran out on a loaded machine adds a delivery.
    expect(settle.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(logs.filter((l) => l.level >= 50)).toEqual([]);
    expect(writeConflicts.retried - before.retried).toBe(4);
    expect(writeConflicts.exhausted).toBe(before.exhausted);
    expect(logs.filter((l) => l.msg === 'webhook queue write conflict; retrying').map((l) => [l.level, l.operation]).sort())
      .toEqual([[20, 'renew'], [20, 'renew'], [20, 'settle'], [20, 'settle']]);
  });
});
