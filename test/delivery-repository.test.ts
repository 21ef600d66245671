import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Surreal } from 'surrealdb';
import { DeliveryRepository } from '../src/store/delivery-repository.js';
import { PRIORITY_RANK, newDelivery, rankRange } from '../src/store/delivery-rows.js';
import { migrate } from '../src/store/migrations.js';
import type { Event, Priority } from '../src/schemas/event.js';
import { tempRocksDb } from './helpers/app.js';

let db: Surreal;
let dispose: () => Promise<void>;
let repo: DeliveryRepository;
beforeAll(async () => {
  ({ db, dispose } = await tempRocksDb());
  await migrate(db);
  repo = new DeliveryRepository(db);
});
afterAll(async () => {
  await dispose();
});

const T = 1_800_000_000_000;
let seq = 0;
function row(priority: Priority, dueMs: number, sub = 'sub-a') {
  const event = { event_id: randomUUID(), event_type: 'custom', priority, seq: ++seq, expires_at: null, max_retries: null } as unknown as Event;
  return newDelivery(randomUUID(), event, sub, dueMs);
}
const ids = (rows: Array<{ id: { id: unknown } }>) => rows.map((r) => String(r.id.id));

describe('DeliveryRepository queue', () => {
  it('claims due deliveries critical first, then by due time, and never hands a leased one out twice', async () => {
    const normalOld = row('normal', T - 5000);
    const normalNew = row('normal', T - 1000);
    const critical = row('critical', T - 10);
    const low = row('low', T - 60_000);
    const high = row('high', T - 20);
    const future = row('critical', T + 60_000);
    await repo.insertMany([normalNew, low, future, normalOld, high, critical]);

    const first = await repo.claim('w1', T, 3, T + 30_000);
    expect(ids(first)).toEqual(ids([critical, high, normalOld]));
    expect(first.every((r) => r.leased_by === 'w1' && r.lease_until === T + 30_000 && r.queue_key === undefined)).toBe(true);
    const second = await repo.claim('w2', T, 10, T + 30_000);
    expect(ids(second)).toEqual(ids([normalNew, low]));
    expect(await repo.claim('w3', T, 10, T + 30_000)).toEqual([]);
    // The future one becomes due with time.
    expect(ids(await repo.claim('w3', T + 60_000, 10, T + 90_000))).toEqual(ids([future]));
  });

  it('starts each priority range where the caller says, and reads the whole range without a start', async () => {
    const older = row('normal', T - 50_000, 'sub-f');
    const newer = row('normal', T - 10, 'sub-f');
    await repo.insertMany([older, newer]);
    const normalFrom = rankRange(PRIORITY_RANK.normal, T - 20_000).hi;
    const from = [0, 1e13, normalFrom, 3e13];
    expect(ids(await repo.claim('w5', T, 10, T + 30_000, from))).toEqual(ids([newer]));
    expect(ids(await repo.claim('w5', T, 10, T + 30_000))).toEqual(ids([older]));
  });

  it('returns expired leases to the queue and keeps live ones; a renewed lease is not reaped', async () => {
    const a = row('normal', T);
    const b = row('normal', T);
    await repo.insertMany([a, b]);
    const claimed = await repo.claim('w1', T + 1, 10, T + 1000);
    expect(ids(claimed).sort()).toEqual(ids([a, b]).sort());
    await repo.renew('w1', [b.id], T + 10_000);
    expect(await repo.reapExpiredLeases(T + 500, 100)).toBe(0);
    expect(await repo.reapExpiredLeases(T + 2000, 100)).toBe(1);
    expect(ids(await repo.claim('w2', T + 2000, 10, T + 30_000))).toEqual(ids([a]));
    // Another worker cannot release or settle w2's lease.
    await repo.release('w1', [a.id]);
    expect((await repo.get(String(a.id.id)))?.leased_by).toBe('w2');
  });

  it('a manual retry re-queues a settled delivery but refuses one that is leased', async () => {
    const d = row('high', T);
    await repo.insertMany([d]);
    const [claimed] = await repo.claim('w1', T, 1, T + 30_000);
    expect(String(claimed?.id.id)).toBe(String(d.id.id));
    expect(await repo.retryNow(String(d.id.id), T)).toBeUndefined();
    await repo.settle('w1', [{
      id: d.id, status: 'failed', attempts: 1, next_attempt_at: null, last_attempt_at: new Date(T).toISOString(),
      last_status_code: 500, last_error: 'HTTP 500', updated_at: new Date(T).toISOString(), settled_at: T,
      attempt: { attempt: 1, at: new Date(T).toISOString(), status_code: 500, duration_ms: 3, error: 'HTTP 500', response_body: null, webhook_id: d.event_id },
    }]);
    expect(await repo.get(String(d.id.id))).toMatchObject({ status: 'failed', attempts: 1, attempts_log: [expect.objectContaining({ attempt: 1, status_code: 500 })] });
    const again = await repo.retryNow(String(d.id.id), T + 5);
    expect(again).toMatchObject({ status: 'retrying', next_attempt_at: T + 5 });
    expect(again?.settled_at).toBeUndefined();
    expect(ids(await repo.claim('w2', T + 5, 10, T + 30_000))).toEqual(ids([d]));
  });

  it('purges deliveries settled before the retention cut-off, with their attempts, and nothing else', async () => {
    const [old, recent, queued] = [row('low', T, 'sub-p'), row('low', T, 'sub-p'), row('low', T + 1e9, 'sub-p')];
    await repo.insertMany([old, recent, queued]);
    const claimed = await repo.claim('w9', T, 2, T + 30_000);
    expect(ids(claimed).sort()).toEqual(ids([old, recent]).sort());
    const settle = (d: typeof old, at: number) => ({
      id: d.id, status: 'delivered' as const, attempts: 1, next_attempt_at: null, last_attempt_at: new Date(at).toISOString(),
      last_status_code: 204, last_error: null, updated_at: new Date(at).toISOString(), settled_at: at,
      attempt: { attempt: 1, at: new Date(T).toISOString(), status_code: 204, duration_ms: 1, error: null, response_body: null, webhook_id: d.event_id },
    });
    await repo.settle('w9', [settle(old, T - 100_000), settle(recent, T)]);
    expect(await repo.purgeSettled(T - 50_000, 100)).toBe(1);
    expect(await repo.get(String(old.id.id))).toBeUndefined();
    expect((await repo.get(String(recent.id.id)))?.attempts_log).toHaveLength(1);
    expect(await repo.get(String(queued.id.id))).toMatchObject({ status: 'pending' });
  });

  it('concurrent claimers on RocksDB never get the same delivery', async () => {
    const rows = Array.from({ length: 400 }, () => row('normal', T - 1, 'sub-c'));
    await repo.insertMany(rows);
    const got: string[] = [];
    const claimer = async (w: string) => {
      for (;;) {
        let batch;
        try {
          batch = await repo.claim(w, T, 7, T + 30_000);
        } catch (err) {
          if (/conflict/i.test(String(err))) continue;
          throw err;
        }
        if (batch.length === 0) return;
        got.push(...ids(batch));
      }
    };
    await Promise.all(['a', 'b', 'c', 'd'].map((w) => claimer(w)));
    expect(got).toHaveLength(400);
    expect(new Set(got).size).toBe(400);
  });
});
