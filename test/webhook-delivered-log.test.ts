/**
 * The happy path of webhook delivery, end to end on a real app and a real receiver: an event delivered at its
 * first attempt is recorded in the attempt log (`wh_log`) only, with its response body cut to 4 KiB, and is
 * readable as `<subscription_id>.<seq>` through GET /deliveries/:id and the listing (docs/webhooks.md,
 * "Deliveries come from the log"). Nothing goes to the retry queue (`delivery`).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, testApp } from './helpers/app.js';
import { startReceiver, webhookId, type Receiver } from './helpers/receiver.js';

/** What the receiver answers to every delivery: longer than the 4 KiB Herald keeps of a response body. */
const RESPONSE = 'x'.repeat(5000);
/**
 * The sender keeps the first 4096 BYTES of the body (src/webhooks/sender.ts, RESPONSE_BODY_LIMIT) and decodes
 * them as UTF-8; RESPONSE is ASCII, so that is its first 4096 characters.
 */
const KEPT = Buffer.from(RESPONSE, 'utf8').subarray(0, 4096).toString('utf8');
const EVENTS = 5;

interface DeliveryListing {
  deliveries: Array<Record<string, unknown>>;
  next_cursor: string | null;
}

let app: FastifyInstance | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await app?.close();
  await receiver?.close();
  app = undefined;
  receiver = undefined;
});

/** Rows of a table, read from the app's database directly. */
async function rows(db: FastifyInstance, table: string): Promise<number> {
  return (await db.store.db.query<[number]>(`RETURN count(SELECT id FROM ${table})`).collect())[0];
}

describe('webhook delivered at the first attempt', () => {
  it('logs the attempt with status, duration and the first 4 KiB of the response, lists it as delivered, and writes no retry-queue row', async () => {
    receiver = await startReceiver(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: RESPONSE }));
    app = await testApp({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_WEBHOOK_TIMEOUT: '5s' });
    const h = app;
    const created = await h.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'happy', callback_url: receiver.url } });
    expect(created.statusCode, created.body).toBe(201);
    const subscriptionId: string = created.json().subscription_id;

    const published: Array<{ event_id: string; seq: number }> = [];
    for (let n = 0; n < EVENTS; n++) {
      const res = await h.inject({ method: 'POST', url: '/events', payload: event({ payload: { n } }) });
      expect(res.statusCode, res.body).toBe(201);
      published.push(res.json().event);
    }
    const ids = published.map((e) => `${subscriptionId}.${e.seq}`);

    // Delivered: the receiver got every event and the outcomes are written (the listing reads them back).
    const listDelivered = async (): Promise<DeliveryListing> => {
      const res = await h.inject({ url: `/subscriptions/${subscriptionId}/deliveries?status=delivered` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    await vi.waitFor(async () => {
      expect((await listDelivered()).deliveries).toHaveLength(EVENTS);
    }, { timeout: 10_000, interval: 20 });
    // Once each: no attempt failed, so none was made again.
    expect(receiver.requests.map(webhookId).sort()).toEqual(published.map((e) => e.event_id).sort());

    // (a) Each delivery, by its cursor id: one attempt, 200, a duration, the first 4 KiB of the response.
    for (const [i, e] of published.entries()) {
      const res = await h.inject({ url: `/deliveries/${ids[i]}` });
      expect(res.statusCode, res.body).toBe(200);
      const detail = res.json();
      expect(detail).toMatchObject({
        delivery_id: ids[i], event_id: e.event_id, subscription_id: subscriptionId, seq: e.seq, status: 'delivered',
        attempts: 1, last_status_code: 200, last_error: null, next_attempt_at: null,
      });
      expect(detail.attempts_log).toHaveLength(1);
      const [attempt] = detail.attempts_log;
      expect(attempt).toMatchObject({ attempt: 1, status_code: 200, error: null, webhook_id: e.event_id });
      expect(typeof attempt.duration_ms).toBe('number');
      expect(attempt.duration_ms).toBeGreaterThan(0);
      expect(Number.isNaN(Date.parse(attempt.at))).toBe(false);
      expect(attempt.response_body?.length, 'response_body length').toBe(4096);
      expect(attempt.response_body).toBe(KEPT);
    }

    // The listing has exactly these, newest event first, all delivered at the first attempt.
    const listing = await listDelivered();
    expect(listing.next_cursor).toBeNull();
    expect(listing.deliveries.map((d) => d.delivery_id)).toEqual([...ids].reverse());
    for (const d of listing.deliveries) {
      expect(d).toMatchObject({ subscription_id: subscriptionId, status: 'delivered', attempts: 1, last_status_code: 200, last_error: null });
    }
    // Nothing else is listed under any other status.
    const all = (await h.inject({ url: `/subscriptions/${subscriptionId}/deliveries` })).json() as DeliveryListing;
    expect(all.deliveries.map((d) => d.status)).toEqual(Array(EVENTS).fill('delivered'));

    // (b) The happy path is the attempt log only: no row in the retry queue, and the log holds the outcomes.
    expect(await rows(h, 'delivery')).toBe(0);
    expect(await rows(h, 'wh_log')).toBeGreaterThan(0);
  }, 30_000);
});
