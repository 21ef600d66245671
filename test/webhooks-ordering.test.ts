/**
 * `ordering_key`: events with the same value reach the receiver in seq order, each only after the previous one
 * settled, while a receiver fails 30 % of first attempts; different keys run in parallel.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, testApp } from './helpers/app.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

const KEYS = 20;
const PER_KEY = 10;

describe('webhooks: ordering_key', () => {
  let app: FastifyInstance;
  let receiver: Receiver;
  const firstSeen = new Set<string>();

  beforeAll(async () => {
    app = await testApp({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_RETRY_SCHEDULE: '50ms', HERALD_WEBHOOK_POLL: '50ms' });
    // 30 % of events (by payload.n) fail their first attempt with a 500, then succeed.
    receiver = await startReceiver((_n, req) => {
      const { event: e } = JSON.parse(req.body) as { event: { event_id: string; payload: { n: number } } };
      const first = !firstSeen.has(e.event_id);
      firstSeen.add(e.event_id);
      return first && e.payload.n % 10 < 3 ? { status: 500 } : { status: 204 };
    });
  });
  afterAll(async () => {
    await app.close();
    await receiver.close();
  });

  it('delivers every event, per key in seq order, each after the previous one settled', async () => {
    const created = await app.inject({
      method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'ordered', callback_url: receiver.url, ordering_key: 'workflow_id' },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().ordering_key).toBe('workflow_id');
    const deliveredIds = new Set<string>();
    app.webhooks.worker?.onSettled((st) => {
      if (st.status === 'delivered') deliveredIds.add(st.eventId);
    });
    const workflows = Array.from({ length: KEYS }, () => randomUUID());
    const events = Array.from({ length: KEYS * PER_KEY }, (_, n) => event({ workflow_id: workflows[n % KEYS], payload: { n: (n * 7) % 100 } }));
    const seqsOf = new Map<string, number[]>();
    for (let i = 0; i < events.length; i += 100) {
      const res = await app.inject({ method: 'POST', url: '/events/batch', payload: { events: events.slice(i, i + 100) } });
      expect(res.statusCode, res.body).toBe(201);
      for (const e of res.json().events as Array<{ seq: number; workflow_id: string }>) seqsOf.set(e.workflow_id, [...(seqsOf.get(e.workflow_id) ?? []), e.seq]);
    }

    await vi.waitFor(() => expect(deliveredIds.size).toBe(KEYS * PER_KEY), { timeout: 30_000, interval: 50 });
    // Replay the receiver's log: a request for seq s of a key is a violation unless every lower seq of the key got its 204 before.
    const delivered = new Set<number>();
    const tried = new Set<number>();
    let violations = 0;
    let failures = 0;
    for (const r of receiver.requests) {
      const { event: e } = JSON.parse(r.body) as { event: { seq: number; workflow_id: string; payload: { n: number } } };
      if ((seqsOf.get(e.workflow_id) ?? []).some((s) => s < e.seq && !delivered.has(s))) violations++;
      const failed = !tried.has(e.seq) && e.payload.n % 10 < 3;
      tried.add(e.seq);
      if (failed) failures++;
      else delivered.add(e.seq);
    }
    expect(violations).toBe(0);
    expect(failures).toBe(KEYS * PER_KEY * 0.3);
    expect(delivered.size).toBe(KEYS * PER_KEY);
  });
});
