/**
 * Two Herald instances (replicas) on one RocksDB database, both delivering, 10 subscriptions × 1000 events.
 * Each subscription is leased to one replica at a time and the replicas split them, so every (subscription,
 * event) reaches the receiver exactly once, and both replicas deliver.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SettledDelivery } from '../src/webhooks/worker.js';
import { tempRocksDb, testApp } from './helpers/app.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

const SUBSCRIPTIONS = 10;
const TOTAL = 1000;
const BATCH = 100;
const ENV = { HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_WEBHOOK_LEASE: '3s' };

describe('webhooks: two replicas on one database', () => {
  let store: Awaited<ReturnType<typeof tempRocksDb>>;
  let receiver: Receiver;
  let a: FastifyInstance;
  let b: FastifyInstance;

  beforeAll(async () => {
    receiver = await startReceiver();
    store = await tempRocksDb();
    a = await testApp(ENV, store.db);
    b = await testApp(ENV, store.db);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await store.dispose();
    await receiver.close();
  });

  it(`split ${SUBSCRIPTIONS} subscriptions and deliver ${TOTAL} events to each exactly once`, async () => {
    const settled = { a: [] as SettledDelivery[], b: [] as SettledDelivery[] };
    a.webhooks.worker?.onSettled((s) => settled.a.push(s));
    b.webhooks.worker?.onSettled((s) => settled.b.push(s));
    const subs: string[] = [];
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      const created = await a.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: `s${i}`, callback_url: receiver.url } });
      subs.push(created.json().subscription_id as string);
    }
    // Both replicas know every subscription (b within HERALD_SUBSCRIPTION_REFRESH) and hold a share of them.
    await vi.waitFor(() => expect(b.webhooks.index.size).toBe(SUBSCRIPTIONS), { timeout: 5000, interval: 10 });
    const held = () => [a, b].map((app) => app.webhooks.worker?.dispatcher.leases.heldIds.length ?? 0);
    await vi.waitFor(() => expect(held()).toEqual([SUBSCRIPTIONS / 2, SUBSCRIPTIONS / 2]), { timeout: 10_000, interval: 20 });

    const ids = Array.from({ length: TOTAL }, () => randomUUID());
    for (let n = 0; n < TOTAL; n += BATCH) {
      const app = (n / BATCH) % 2 === 0 ? a : b;
      const events = ids.slice(n, n + BATCH).map((event_id) => ({ event_id, event_type: 'task_progress', source: 'replicas', payload: {} }));
      expect((await app.inject({ method: 'POST', url: '/events/batch', payload: { events } })).statusCode).toBe(201);
    }
    await receiver.until((r) => r.length >= SUBSCRIPTIONS * TOTAL, 90_000);
    await vi.waitFor(() => expect(settled.a.length + settled.b.length).toBe(SUBSCRIPTIONS * TOTAL), { timeout: 10_000, interval: 20 });

    const counts = new Map<string, number>();
    for (const r of receiver.requests) {
      const body = JSON.parse(r.body) as { event: { event_id: string }; subscription: { id: string } };
      const key = `${body.subscription.id}/${body.event.event_id}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect([...counts].filter(([, n]) => n > 1), 'deliveries made more than once').toEqual([]);
    expect(counts.size).toBe(SUBSCRIPTIONS * TOTAL);
    // Each subscription was delivered by one replica (no lease moved: none expired, none was handed back while busy).
    for (const sub of subs) {
      const by = ['a', 'b'].filter((name) => settled[name as 'a' | 'b'].some((s) => s.subscriptionId === sub));
      expect(by, `replicas that delivered ${sub}`).toHaveLength(1);
    }
    expect(settled.a.length).toBe(settled.b.length);

    // Delivered events are queryable from the attempt log, through either replica.
    const page = (await b.inject({ url: `/subscriptions/${subs[0]}/deliveries?limit=1000&status=delivered` })).json();
    expect(page.deliveries).toHaveLength(TOTAL);
    expect(page.deliveries.every((d: { attempts: number; last_status_code: number }) => d.attempts === 1 && d.last_status_code === 204)).toBe(true);
    const detail = (await a.inject({ url: `/deliveries/${page.deliveries[0].delivery_id}` })).json();
    expect(detail.attempts_log).toEqual([expect.objectContaining({ attempt: 1, status_code: 204, webhook_id: detail.event_id })]);
  }, 150_000);
});
