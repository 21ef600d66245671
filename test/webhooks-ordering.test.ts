/**
 * `ordering_key`: events with the same value reach the receiver in seq order, each only after the previous one
 * settled, while a receiver fails 30 % of first attempts; different keys run in parallel. One case per kind
 * of key: an event field, a payload path, and the whole subscription as one line.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, testApp } from './helpers/app.js';
import { startReceiver } from './helpers/receiver.js';

interface Sent { seq: number; workflow_id: string | null; payload: { n: number; account?: string } }

interface Case {
  orderingKey: string;
  events: number;
  /** The fields that carry event n's key. */
  fields: (n: number, keys: string[]) => Record<string, unknown>;
  /** The key of a stored event, as the receiver sees it. */
  keyOf: (e: Sent) => string;
}

const KEYS = 20;
const cases: Case[] = [
  {
    orderingKey: 'workflow_id',
    events: KEYS * 10,
    fields: (n, keys) => ({ workflow_id: keys[n % KEYS] }),
    keyOf: (e) => String(e.workflow_id),
  },
  {
    orderingKey: 'payload.account',
    events: KEYS * 10,
    fields: (n, keys) => ({ payload: { n: (n * 7) % 100, account: keys[n % KEYS] } }),
    keyOf: (e) => String(e.payload.account),
  },
  { orderingKey: 'subscription', events: 60, fields: () => ({}), keyOf: () => 'all' },
];

describe('webhooks: ordering_key', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await testApp({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_RETRY_SCHEDULE: '50ms', HERALD_WEBHOOK_POLL: '50ms' });
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(cases)('ordering_key $orderingKey: delivers every event, per key in seq order, each after the previous one settled', async (c) => {
    // 30 % of events (by payload.n) fail their first attempt with a 500, then succeed.
    const firstSeen = new Set<string>();
    const receiver = await startReceiver((_n, req) => {
      const { event: e } = JSON.parse(req.body) as { event: { event_id: string; payload: { n: number } } };
      const first = !firstSeen.has(e.event_id);
      firstSeen.add(e.event_id);
      return first && e.payload.n % 10 < 3 ? { status: 500 } : { status: 204 };
    });
    const created = await app.inject({
      method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'ordered', callback_url: receiver.url, ordering_key: c.orderingKey },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().ordering_key).toBe(c.orderingKey);
    const subscriptionId = created.json().subscription_id as string;
    const deliveredIds = new Set<string>();
    const stop = app.webhooks.worker?.onSettled((st) => {
      if (st.subscriptionId === subscriptionId && st.status === 'delivered') deliveredIds.add(st.eventId);
    });
    try {
      const keys = Array.from({ length: KEYS }, () => randomUUID());
      const events = Array.from({ length: c.events }, (_, n) => event({ payload: { n: (n * 7) % 100 }, ...c.fields(n, keys) }));
      const seqsOf = new Map<string, number[]>();
      for (let i = 0; i < events.length; i += 100) {
        const res = await app.inject({ method: 'POST', url: '/events/batch', payload: { events: events.slice(i, i + 100) } });
        expect(res.statusCode, res.body).toBe(201);
        for (const e of res.json().events as Sent[]) seqsOf.set(c.keyOf(e), [...(seqsOf.get(c.keyOf(e)) ?? []), e.seq]);
      }
      expect(seqsOf.size).toBe(c.orderingKey === 'subscription' ? 1 : KEYS);

      await vi.waitFor(() => expect(deliveredIds.size).toBe(c.events), { timeout: 30_000, interval: 50 });
      // Replay the receiver's log: a request for seq s of a key is a violation unless every lower seq of the key got its 204 before.
      const delivered = new Set<number>();
      const tried = new Set<number>();
      let violations = 0;
      let failures = 0;
      for (const r of receiver.requests) {
        const { event: e } = JSON.parse(r.body) as { event: Sent };
        if ((seqsOf.get(c.keyOf(e)) ?? []).some((s) => s < e.seq && !delivered.has(s))) violations++;
        const failed = !tried.has(e.seq) && e.payload.n % 10 < 3;
        tried.add(e.seq);
        if (failed) failures++;
        else delivered.add(e.seq);
      }
      expect(violations).toBe(0);
      expect(failures).toBe(events.filter((_, n) => ((n * 7) % 100) % 10 < 3).length);
      expect(failures).toBeGreaterThan(0);
      expect(delivered.size).toBe(c.events);
    } finally {
      stop?.();
      await app.inject({ method: 'DELETE', url: `/subscriptions/${subscriptionId}` });
      await receiver.close();
    }
  });
});
