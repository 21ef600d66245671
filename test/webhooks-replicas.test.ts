/**
 * Two Herald instances (replicas) on one RocksDB database, both running the webhook worker, one
 * subscription. Deliveries are leased in the database, so the two workers never attempt the same delivery
 * concurrently; with the default 30 s lease no lease expires during the test, so each event reaches the
 * receiver exactly once.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SettledDelivery } from '../src/webhooks/worker.js';
import { tempRocksDb, testApp } from './helpers/app.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

const TOTAL = 1000;
const BATCH = 25;
const ENV = { HERALD_WEBHOOK_ALLOW_PRIVATE: 'true' };

interface DeliveryView {
  delivery_id: string;
  event_id: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
}

describe('webhooks: two replicas on one database', () => {
  let store: Awaited<ReturnType<typeof tempRocksDb>>;
  let receiver: Receiver;
  let a: FastifyInstance;
  let b: FastifyInstance;
  const closed = new Set<FastifyInstance>();
  const close = async (app: FastifyInstance) => {
    if (closed.has(app)) return;
    closed.add(app);
    await app.close();
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    store = await tempRocksDb();
    a = await testApp(ENV, store.db);
    b = await testApp(ENV, store.db);
  });
  afterAll(async () => {
    await close(a);
    await close(b);
    await store.dispose();
    await receiver.close();
  });

  it(`delivers ${TOTAL} events published through both replicas exactly once, split between both workers`, async () => {
    const t0 = performance.now();
    const workerA = a.webhooks.worker;
    const workerB = b.webhooks.worker;
    if (!workerA || !workerB) throw new Error('both replicas run a webhook worker by default');
    const settled = { a: [] as SettledDelivery[], b: [] as SettledDelivery[] };
    workerA.onSettled((s) => settled.a.push(s));
    workerB.onSettled((s) => settled.b.push(s));

    const created = await a.inject({
      method: 'POST',
      url: '/subscriptions',
      payload: { subscriber_name: 'replicas', callback_url: receiver.url },
    });
    expect(created.statusCode, created.body).toBe(201);
    const subscriptionId = created.json().subscription_id as string;
    expect(a.webhooks.index.size).toBe(1);
    // b learns about the subscription within HERALD_SUBSCRIPTION_REFRESH (1 s); events it commits before
    // that would get no delivery (documented).
    await vi.waitFor(() => expect(b.webhooks.index.size).toBe(1), { timeout: 5000, interval: 10 });

    // Batches of BATCH events, alternating between the replicas, two in flight per replica.
    const ids = Array.from({ length: TOTAL }, () => randomUUID());
    const batches = Array.from({ length: TOTAL / BATCH }, (_, n) => ids.slice(n * BATCH, (n + 1) * BATCH));
    const acked = new Set<string>();
    const publishedVia = { a: 0, b: 0 };
    // Even batches go through a, odd ones through b; each replica's share is drained by two publishers.
    const share = { a: batches.filter((_, n) => n % 2 === 0), b: batches.filter((_, n) => n % 2 === 1) };
    const publisher = async (app: FastifyInstance, name: 'a' | 'b') => {
      for (let batch = share[name].shift(); batch; batch = share[name].shift()) {
        const events = batch.map((event_id, i) => ({ event_id, event_type: 'task_progress', source: `replica-${name}`, payload: { i } }));
        const res = await app.inject({ method: 'POST', url: '/events/batch', payload: { events } });
        if (res.statusCode !== 201) throw new Error(`batch via ${name} answered ${res.statusCode}: ${res.body}`);
        for (const e of res.json().events as Array<{ event_id: string }>) acked.add(e.event_id);
        publishedVia[name] += events.length;
      }
    };
    await Promise.all([publisher(a, 'a'), publisher(a, 'a'), publisher(b, 'b'), publisher(b, 'b')]);
    expect(acked.size).toBe(TOTAL);
    expect(publishedVia).toEqual({ a: TOTAL / 2, b: TOTAL / 2 });
    const publishedAt = performance.now();

    // Every event reaches the receiver ...
    const seen = new Set<string>();
    let scanned = 0;
    await receiver.until((requests) => {
      for (; scanned < requests.length; scanned++) seen.add(String(requests[scanned]?.headers['webhook-id']));
      return seen.size >= TOTAL && ids.every((id) => seen.has(id));
    }, 20_000);
    // ... and both workers have written every outcome.
    await vi.waitFor(() => expect(settled.a.length + settled.b.length).toBeGreaterThanOrEqual(TOTAL), { timeout: 10_000, interval: 20 });
    const deliveredAt = performance.now();

    // All deliveries, as the API shows them (through b: the listing reads the shared database).
    const deliveries: DeliveryView[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res = await b.inject({
        method: 'GET',
        url: `/subscriptions/${subscriptionId}/deliveries?limit=1000${after ? `&after=${after}` : ''}`,
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { deliveries: DeliveryView[]; next_cursor: string | null };
      deliveries.push(...body.deliveries);
      after = body.next_cursor;
      if (after === null) break;
    }
    expect(after).toBeNull();
    expect(deliveries.length).toBe(TOTAL);
    expect(new Set(deliveries.map((d) => d.event_id))).toEqual(new Set(ids));
    const notDelivered = deliveries.filter((d) => d.status !== 'delivered' || d.attempts !== 1 || d.last_status_code !== 204);
    expect(notDelivered, 'deliveries not delivered in exactly one 204 attempt').toEqual([]);

    // Stop both replicas: their workers finish whatever is still in flight, so nothing can arrive later.
    await close(a);
    await close(b);

    const counts = new Map<string, number>();
    for (const r of receiver.requests) {
      const id = String(r.headers['webhook-id']);
      counts.set(id, (counts.get(id) ?? 0) + 1);
      const body = JSON.parse(r.body) as { event: { event_id: string }; subscription: { id: string } };
      expect(body.event.event_id).toBe(id);
      expect(body.subscription.id).toBe(subscriptionId);
    }
    const duplicated = [...counts].filter(([, n]) => n > 1);
    const settledIds = [...settled.a, ...settled.b].map((s) => s.eventId);
    console.log(
      `[webhooks-replicas] ${TOTAL} events (published ${publishedVia.a} via a, ${publishedVia.b} via b); settled by a: ` +
        `${settled.a.length}, by b: ${settled.b.length}; requests received: ${receiver.requests.length}, duplicated ids: ` +
        `${duplicated.length}; publish ${Math.round(publishedAt - t0)} ms, all delivered ${Math.round(deliveredAt - t0)} ms`,
    );
    expect(duplicated, 'event_ids delivered more than once').toEqual([]);
    expect(receiver.requests.length).toBe(TOTAL);
    expect(counts.size).toBe(TOTAL);
    // Each delivery was settled once, by one of the two workers, as delivered.
    expect(settledIds.length).toBe(TOTAL);
    expect(new Set(settledIds)).toEqual(new Set(ids));
    expect([...settled.a, ...settled.b].every((s) => s.status === 'delivered' && s.attempts === 1 && s.subscriptionId === subscriptionId)).toBe(true);
    // Both workers took part.
    expect(settled.a.length, 'deliveries settled by replica a').toBeGreaterThan(0);
    expect(settled.b.length, 'deliveries settled by replica b').toBeGreaterThan(0);
  }, 30_000);
});
