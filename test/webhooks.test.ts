import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, tempRocksDb, testApp } from './helpers/app.js';
import { startReceiver, type Receiver, type Responder } from './helpers/receiver.js';
import type { SettledDelivery } from '../src/webhooks/worker.js';

/** A clock the test moves forward; the worker, the retry schedule and expiry all read it. */
class TestClock {
  offset = 0;
  now = () => Date.now() + this.offset;
  advance(ms: number) {
    this.offset += ms;
  }
}

interface Harness {
  app: FastifyInstance;
  clock: TestClock;
  receiver: Receiver;
  subscriptionId: string;
  secret: string;
  settled: SettledDelivery[];
  /** Resolves once a settlement matching `predicate` has been written. */
  settledWhere(predicate: (s: SettledDelivery) => boolean): Promise<SettledDelivery>;
  publish(over?: Record<string, unknown>): Promise<{ event_id: string; seq: number }>;
  delivery(id: string): Promise<Record<string, any>>;
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

async function harness(respond: Responder, env: Record<string, string> = {}, subscription: Record<string, unknown> = {}): Promise<Harness> {
  const clock = new TestClock();
  const app = await testApp({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_WEBHOOK_TIMEOUT: '2s', ...env }, undefined, clock);
  const receiver = await startReceiver(respond);
  open.push(async () => {
    await app.close();
    await receiver.close();
  });
  const settled: SettledDelivery[] = [];
  const waiters = new Set<() => void>();
  app.webhooks.worker?.onSettled((s) => {
    settled.push(s);
    for (const w of [...waiters]) w();
  });
  const created = await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'billing', callback_url: receiver.url, ...subscription } });
  expect(created.statusCode).toBe(201);
  return {
    app, clock, receiver, settled,
    subscriptionId: created.json().subscription_id,
    secret: created.json().secret,
    settledWhere: (predicate) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = settled.find(predicate);
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => reject(new Error(`no such settlement; got ${JSON.stringify(settled)}`)), 10_000);
        waiters.add(check);
        check();
      }),
    publish: async (over = {}) => {
      const res = await app.inject({ method: 'POST', url: '/events', payload: event(over) });
      expect(res.statusCode).toBe(201);
      return res.json().event;
    },
    delivery: async (id) => (await app.inject({ url: `/deliveries/${id}` })).json(),
  };
}

/** Moves the clock past the delivery's next attempt and wakes the worker. */
async function advancePastNextAttempt(h: Harness, deliveryId: string): Promise<void> {
  const { next_attempt_at } = await h.delivery(deliveryId);
  expect(next_attempt_at).not.toBeNull();
  h.clock.advance(Date.parse(next_attempt_at) - h.clock.now() + 1);
  h.app.webhooks.worker?.wake();
}

/** Standard Webhooks, computed here from the spec rather than with Herald's signer. */
function expectedSignature(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

describe('webhook delivery', () => {
  it('POSTs {event, subscription} with Standard Webhooks headers a receiver can verify, and records the attempt', async () => {
    const h = await harness(() => ({ status: 204 }));
    const published = await h.publish({ payload: { n: 1 } });
    await h.receiver.until((r) => r.length === 1);
    const [request] = h.receiver.requests;
    const body = JSON.parse(request!.body);
    expect(body).toEqual({
      event: expect.objectContaining({ event_id: published.event_id, event_type: 'task_progress', payload: { n: 1 }, seq: published.seq }),
      subscription: { id: h.subscriptionId, subscriber: 'billing' },
    });
    expect(Object.keys(body)).toEqual(['event', 'subscription']);
    const headers = request!.headers;
    expect(headers['webhook-id']).toBe(published.event_id);
    expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(headers['webhook-signature']).toBe(expectedSignature(h.secret, published.event_id, String(headers['webhook-timestamp']), request!.body));
    expect(headers['content-type']).toBe('application/json');

    const settled = await h.settledWhere((s) => s.eventId === published.event_id);
    const detail = await h.delivery(settled.deliveryId);
    expect(detail).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 204, next_attempt_at: null, subscription_id: h.subscriptionId });
    expect(detail.attempts_log).toEqual([
      expect.objectContaining({ attempt: 1, status_code: 204, error: null, webhook_id: published.event_id }),
    ]);
    const sub = (await h.app.inject({ url: `/subscriptions/${h.subscriptionId}` })).json();
    expect(sub.last_activity).not.toBeNull();
  });

  it('signs with both secrets during a rotation', async () => {
    const h = await harness(() => ({ status: 200 }));
    const rotated = (await h.app.inject({ method: 'POST', url: `/subscriptions/${h.subscriptionId}/rotate-secret` })).json();
    const published = await h.publish();
    await h.receiver.until((r) => r.length === 1);
    const { headers, body } = h.receiver.requests[0]!;
    const ts = String(headers['webhook-timestamp']);
    expect(String(headers['webhook-signature']).split(' ')).toEqual([
      expectedSignature(rotated.secret, published.event_id, ts, body),
      expectedSignature(h.secret, published.event_id, ts, body),
    ]);
  });

  it('delivers only matching events, and a re-published event_id only once', async () => {
    const h = await harness(() => ({ status: 204 }), {}, { event_types: ['task_*'], filters: { priority: ['high', 'critical'] } });
    const wanted = await h.publish({ event_type: 'task_completed', priority: 'high' });
    await h.publish({ event_type: 'task_completed', priority: 'low' });
    await h.publish({ event_type: 'custom', priority: 'high' });
    const again = await h.app.inject({ method: 'POST', url: '/events', payload: event({ event_id: wanted.event_id, event_type: 'task_completed', priority: 'high' }) });
    expect(again.statusCode).toBe(200);
    const last = await h.publish({ event_type: 'task_failed', priority: 'critical' });
    await h.settledWhere((s) => s.eventId === last.event_id);
    await h.settledWhere((s) => s.eventId === wanted.event_id);
    expect(h.receiver.requests.map((r) => r.headers['webhook-id']).sort()).toEqual([wanted.event_id, last.event_id].sort());
    const page = (await h.app.inject({ url: `/subscriptions/${h.subscriptionId}/deliveries` })).json();
    expect(page.deliveries).toHaveLength(2);
  });

  it('retries a receiver that fails 3 times on the jittered schedule, then delivers: 4 attempts logged', async () => {
    const h = await harness((n) => (n < 3 ? { status: 500, body: `boom ${n}` } : { status: 204 }), { HERALD_RETRY_SCHEDULE: '5s,5m,30m,2h' });
    const published = await h.publish();
    const schedule = [5_000, 300_000, 1_800_000];
    let deliveryId = '';
    for (let attempt = 1; attempt <= 3; attempt++) {
      const s = await h.settledWhere((x) => x.eventId === published.event_id && x.attempts === attempt);
      expect(s.status).toBe('retrying');
      deliveryId = s.deliveryId;
      const d = await h.delivery(deliveryId);
      const delay = Date.parse(d.next_attempt_at) - Date.parse(d.last_attempt_at);
      const base = schedule[attempt - 1]!;
      // ±20% jitter, plus the few ms between the attempt's start and its outcome.
      expect(delay).toBeGreaterThanOrEqual(base * 0.8);
      expect(delay).toBeLessThanOrEqual(base * 1.2 + 1000);
      await advancePastNextAttempt(h, deliveryId);
    }
    await h.settledWhere((x) => x.eventId === published.event_id && x.status === 'delivered');
    const detail = await h.delivery(deliveryId);
    expect(detail).toMatchObject({ status: 'delivered', attempts: 4, last_status_code: 204, last_error: null });
    expect(detail.attempts_log.map((a: { status_code: number }) => a.status_code)).toEqual([500, 500, 500, 204]);
    expect(detail.attempts_log[0]).toMatchObject({ error: 'HTTP 500', response_body: 'boom 0' });
    expect(new Set(h.receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([published.event_id]));
    // The timestamp and signature are fresh per attempt.
    expect(new Set(h.receiver.requests.map((r) => r.headers['webhook-timestamp'])).size).toBe(4);
  });

  it("caps attempts at the event's max_retries, then fails; a manual retry makes one more attempt", async () => {
    let healthy = false;
    const h = await harness(() => (healthy ? { status: 200 } : { status: 502 }));
    const published = await h.publish({ max_retries: 1 });
    const first = await h.settledWhere((s) => s.eventId === published.event_id);
    await advancePastNextAttempt(h, first.deliveryId);
    const failed = await h.settledWhere((s) => s.eventId === published.event_id && s.attempts === 2);
    expect(failed.status).toBe('failed');
    expect(await h.delivery(failed.deliveryId)).toMatchObject({ status: 'failed', attempts: 2, next_attempt_at: null, last_status_code: 502 });

    healthy = true;
    const retried = await h.app.inject({ method: 'POST', url: `/deliveries/${failed.deliveryId}/retry` });
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toMatchObject({ status: 'retrying', attempts: 2 });
    await h.settledWhere((s) => s.deliveryId === failed.deliveryId && s.attempts === 3);
    expect(await h.delivery(failed.deliveryId)).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(h.receiver.requests).toHaveLength(3);

    expect((await h.app.inject({ method: 'POST', url: '/deliveries/7b0c4c3e-6c43-4a39-9d4e-0d6f0f0e0a11/retry' })).statusCode).toBe(404);
    expect((await h.app.inject({ url: '/deliveries/not-a-uuid' })).statusCode).toBe(400);
  });

  it('honours Retry-After on 429 and 503, bounded by HERALD_WEBHOOK_MAX_RETRY_AFTER', async () => {
    const answers = [
      { status: 503, headers: { 'retry-after': '120' } },
      { status: 429, headers: { 'retry-after': '86400' } },
      { status: 204 },
    ];
    const h = await harness((n) => answers[n]!, { HERALD_WEBHOOK_MAX_RETRY_AFTER: '1h' });
    const published = await h.publish();
    const first = await h.settledWhere((s) => s.eventId === published.event_id);
    let d = await h.delivery(first.deliveryId);
    expect(Date.parse(d.next_attempt_at) - Date.parse(d.last_attempt_at)).toBeGreaterThanOrEqual(120_000);
    expect(Date.parse(d.next_attempt_at) - Date.parse(d.last_attempt_at)).toBeLessThan(121_000);
    await advancePastNextAttempt(h, first.deliveryId);
    await h.settledWhere((s) => s.deliveryId === first.deliveryId && s.attempts === 2);
    d = await h.delivery(first.deliveryId);
    expect(Date.parse(d.next_attempt_at) - Date.parse(d.last_attempt_at)).toBeGreaterThanOrEqual(3_600_000);
    expect(Date.parse(d.next_attempt_at) - Date.parse(d.last_attempt_at)).toBeLessThan(3_601_000);
    await advancePastNextAttempt(h, first.deliveryId);
    await h.settledWhere((s) => s.deliveryId === first.deliveryId && s.status === 'delivered');
  });

  it('fails the delivery and disables the subscription on 410 Gone; later events get no delivery', async () => {
    const h = await harness(() => ({ status: 410 }));
    const published = await h.publish();
    const s = await h.settledWhere((x) => x.eventId === published.event_id);
    expect(s.status).toBe('failed');
    await vi.waitFor(() => expect(h.app.webhooks.index.size).toBe(0), { timeout: 10_000, interval: 10 });
    const sub = (await h.app.inject({ url: `/subscriptions/${h.subscriptionId}` })).json();
    expect(sub.is_active).toBe(false);
    expect(sub.disabled_reason).toMatch(/410 Gone/);
    await h.publish();
    const page = (await h.app.inject({ url: `/subscriptions/${h.subscriptionId}/deliveries` })).json();
    expect(page.deliveries).toHaveLength(1);
    expect(h.receiver.requests).toHaveLength(1);
  });

  it('treats a receiver slower than HERALD_WEBHOOK_TIMEOUT, and a redirect, as failed attempts', async () => {
    const h = await harness((n) => (n === 0 ? { status: 200, hang: true } : { status: 302, headers: { location: 'http://127.0.0.1:1/' } }), { HERALD_WEBHOOK_TIMEOUT: '300ms' });
    const published = await h.publish();
    const s = await h.settledWhere((x) => x.eventId === published.event_id);
    let d = await h.delivery(s.deliveryId);
    expect(d).toMatchObject({ status: 'retrying', last_status_code: null });
    expect(d.attempts_log[0].error).toMatch(/timed out after 300 ms/);
    expect(d.attempts_log[0].duration_ms).toBeGreaterThanOrEqual(290);
    await advancePastNextAttempt(h, s.deliveryId);
    await h.settledWhere((x) => x.deliveryId === s.deliveryId && x.attempts === 2);
    d = await h.delivery(s.deliveryId);
    expect(d).toMatchObject({ status: 'retrying', last_status_code: 302, last_error: 'HTTP 302' });
  });

  it('marks a delivery expired, without another attempt, once its event expired', async () => {
    const h = await harness(() => ({ status: 500 }));
    const published = await h.publish({ expires_at: new Date(Date.now() + 60_000).toISOString() });
    const s = await h.settledWhere((x) => x.eventId === published.event_id);
    h.clock.advance(3_600_000);
    h.app.webhooks.worker?.wake();
    const expired = await h.settledWhere((x) => x.deliveryId === s.deliveryId && x.status === 'expired');
    expect(expired.attempts).toBe(1);
    expect(await h.delivery(s.deliveryId)).toMatchObject({ status: 'expired', last_error: expect.stringMatching(/expired/) });
    expect(h.receiver.requests).toHaveLength(1);
  });

  it('marks a delivery expired, not failed, when cleanup already deleted its expired event', async () => {
    const h = await harness(() => ({ status: 500 }));
    const published = await h.publish({ expires_at: new Date(Date.now() + 60_000).toISOString() });
    const s = await h.settledWhere((x) => x.eventId === published.event_id);
    h.clock.advance(3_600_000);
    expect(await h.app.store.events.purge.expired(new Date(h.clock.now()), 100)).toBe(1);
    h.app.webhooks.worker?.wake();
    const expired = await h.settledWhere((x) => x.deliveryId === s.deliveryId && x.attempts === 1 && x.status !== 'retrying');
    expect(expired.status).toBe('expired');
  });

  it('disables a subscription whose deliveries failed continuously for HERALD_WEBHOOK_DISABLE_AFTER', async () => {
    const h = await harness(() => ({ status: 500 }), { HERALD_WEBHOOK_DISABLE_AFTER: '1h' });
    const published = await h.publish();
    const first = await h.settledWhere((x) => x.eventId === published.event_id);
    await vi.waitFor(() => expect(h.app.webhooks.index.get(h.subscriptionId)?.subscription.failing_since).not.toBeNull(), { timeout: 10_000, interval: 10 });
    h.clock.advance(2 * 3_600_000);
    h.app.webhooks.worker?.wake();
    await h.settledWhere((x) => x.deliveryId === first.deliveryId && x.attempts === 2);
    await vi.waitFor(() => expect(h.app.webhooks.index.size).toBe(0), { timeout: 10_000, interval: 10 });
    const sub = (await h.app.inject({ url: `/subscriptions/${h.subscriptionId}` })).json();
    expect(sub).toMatchObject({ is_active: false, disabled_reason: expect.stringMatching(/HERALD_WEBHOOK_DISABLE_AFTER/) });
    expect(sub.failing_since).not.toBeNull();
  });

  it('clears failing_since after a success', async () => {
    let ok = false;
    const h = await harness(() => ({ status: ok ? 204 : 500 }));
    const published = await h.publish();
    const first = await h.settledWhere((x) => x.eventId === published.event_id);
    await vi.waitFor(() => expect(h.app.webhooks.index.get(h.subscriptionId)?.subscription.failing_since).not.toBeNull(), { timeout: 10_000, interval: 10 });
    ok = true;
    await advancePastNextAttempt(h, first.deliveryId);
    await h.settledWhere((x) => x.deliveryId === first.deliveryId && x.status === 'delivered');
    await vi.waitFor(() => expect(h.app.webhooks.index.get(h.subscriptionId)?.subscription.failing_since).toBeNull(), { timeout: 10_000, interval: 10 });
  });
});

describe('shutdown', () => {
  it('hands back its subscription leases, leaves deliveries not started pending and records the attempt it had to abort', async () => {
    const { db, dispose } = await tempRocksDb();
    open.push(dispose);
    const receiver = await startReceiver(() => ({ status: 200, hang: true }));
    open.push(() => receiver.close());
    const env = { HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_WEBHOOK_CONCURRENCY: '1', HERALD_SHUTDOWN_TIMEOUT: '400ms' };
    const app = await testApp(env, db);
    const sub = (await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 's', callback_url: receiver.url } })).json();
    const res = await app.inject({ method: 'POST', url: '/events/batch', payload: { events: [event(), event(), event()] } });
    expect(res.statusCode).toBe(201);
    await receiver.until((r) => r.length === 1);
    await app.close();

    const after = await testApp({ ...env, HERALD_WEBHOOK_WORKER: 'false' }, db);
    open.push(() => after.close());
    const page = (await after.inject({ url: `/subscriptions/${sub.subscription_id}/deliveries` })).json();
    const attempted = page.deliveries.filter((d: { attempts: number }) => d.attempts === 1);
    expect(attempted).toHaveLength(1);
    expect(attempted[0]).toMatchObject({ status: 'retrying', last_error: expect.stringMatching(/aborted: Herald shut down/) });
    expect(page.deliveries.filter((d: { status: string }) => d.status === 'pending')).toHaveLength(2);
    // The aborted attempt waits in the retry queue, unleased; the two not started are still above the cursor.
    const row = await after.store.deliveries.get(attempted[0].delivery_id);
    expect(row?.lease_until).toBeUndefined();
    expect(row?.queue_key).toBeDefined();
    expect((await after.store.cursors.get(sub.subscription_id))?.owner).toBeUndefined();
  });
});

describe('deliveries API', () => {
  it('lists newest first with a status filter and a cursor that visits every delivery once', async () => {
    const h = await harness((_n, req) => (JSON.parse(req.body).event.payload.fail ? { status: 500 } : { status: 204 }), { HERALD_RETRY_SCHEDULE: '1h' });
    const events = [];
    for (let i = 0; i < 7; i++) events.push(await h.publish({ payload: { i, fail: i % 3 === 0 } }));
    await vi.waitFor(() => expect(h.settled).toHaveLength(7), { timeout: 10_000, interval: 10 });
    const seen: Array<{ seq: number; delivery_id: string }> = [];
    let cursor: string | null = null;
    do {
      const url: string = `/subscriptions/${h.subscriptionId}/deliveries?limit=3${cursor ? `&after=${cursor}` : ''}`;
      const res = await h.app.inject({ url });
      expect(res.statusCode).toBe(200);
      const page: { deliveries: typeof seen; next_cursor: string | null } = res.json();
      seen.push(...page.deliveries);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.map((d) => d.seq)).toEqual(events.map((e) => e.seq).reverse());
    expect(new Set(seen.map((d) => d.delivery_id)).size).toBe(7);

    const retrying = (await h.app.inject({ url: `/subscriptions/${h.subscriptionId}/deliveries?status=retrying` })).json();
    expect(retrying.deliveries.map((d: { seq: number }) => d.seq)).toEqual([events[6]!.seq, events[3]!.seq, events[0]!.seq]);
    expect(retrying.next_cursor).toBeNull();

    const other = await h.app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'x' } });
    const bad = await h.app.inject({ url: `/subscriptions/${other.json().subscription_id}/deliveries?after=${seen[0]!.delivery_id}` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_cursor');
    expect((await h.app.inject({ url: `/subscriptions/${h.subscriptionId}/deliveries?status=nope` })).statusCode).toBe(400);
    expect((await h.app.inject({ url: '/subscriptions/7b0c4c3e-6c43-4a39-9d4e-0d6f0f0e0a11/deliveries' })).statusCode).toBe(404);
  });

  it('replays stored events since a time to a subscription created after them', async () => {
    const h = await harness(() => ({ status: 204 }), {}, { event_types: ['custom'] });
    await h.app.inject({ method: 'DELETE', url: `/subscriptions/${h.subscriptionId}` });
    const early = await h.publish({ event_type: 'custom', timestamp: '2026-01-01T00:00:00.000Z' });
    const wanted = [await h.publish({ event_type: 'custom', timestamp: '2026-06-01T00:00:00.000Z' }), await h.publish({ event_type: 'custom' })];
    await h.publish({ event_type: 'task_started' });
    expect(early.seq).toBeLessThan(wanted[0]!.seq);

    const late = await h.app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'late', event_types: ['custom'], callback_url: h.receiver.url } });
    const id = late.json().subscription_id;
    const res = await h.app.inject({ method: 'POST', url: `/subscriptions/${id}/replay`, payload: { since: '2026-03-01T00:00:00Z' } });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ deliveries_created: 2, events_scanned: 2 });
    await h.receiver.until((r) => r.length === 2);
    expect(h.receiver.requests.map((r) => r.headers['webhook-id']).sort()).toEqual(wanted.map((e) => e.event_id).sort());

    const noUrl = await h.app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'ws-only' } });
    const refused = await h.app.inject({ method: 'POST', url: `/subscriptions/${noUrl.json().subscription_id}/replay`, payload: { since: '2026-03-01T00:00:00Z' } });
    expect(refused.statusCode).toBe(422);
    expect((await h.app.inject({ method: 'POST', url: `/subscriptions/${id}/replay`, payload: { since: 'yesterday' } })).statusCode).toBe(400);
  });

  it('needs the admin scope', async () => {
    const app = await testApp({ HERALD_API_KEYS: 'a:admin,r:read+publish' });
    open.push(() => app.close());
    for (const url of ['/deliveries/7b0c4c3e-6c43-4a39-9d4e-0d6f0f0e0a11', '/subscriptions/7b0c4c3e-6c43-4a39-9d4e-0d6f0f0e0a11/deliveries']) {
      expect((await app.inject({ url, headers: { authorization: 'Bearer r' } })).statusCode).toBe(403);
      expect((await app.inject({ url, headers: { authorization: 'Bearer a' } })).statusCode).toBe(404);
    }
  });
});

describe('subscription rules', () => {
  it('deactivates subscriptions idle longer than HERALD_SUBSCRIPTION_INACTIVE_AFTER (7 days by default)', async () => {
    const app = await testApp({ HERALD_CLEANUP_INTERVAL: '20ms', HERALD_SUBSCRIPTION_INACTIVE_AFTER: '7d' });
    open.push(() => app.close());
    const make = async (name: string) => (await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: name } })).json().subscription_id as string;
    const [idle, recent, never] = [await make('idle'), await make('recent'), await make('never')];
    await app.store.subscriptions.update(idle, { last_activity: new Date(Date.now() - 8 * 86_400_000).toISOString() });
    await app.store.subscriptions.update(recent, { last_activity: new Date(Date.now() - 86_400_000).toISOString() });
    await vi.waitFor(() => expect(app.webhooks.index.get(idle)?.subscription.is_active).toBe(false), { timeout: 10_000, interval: 10 });
    const sub = (await app.inject({ url: `/subscriptions/${idle}` })).json();
    expect(sub.disabled_reason).toMatch(/HERALD_SUBSCRIPTION_INACTIVE_AFTER/);
    expect((await app.inject({ url: `/subscriptions/${recent}` })).json().is_active).toBe(true);
    expect((await app.inject({ url: `/subscriptions/${never}` })).json().is_active).toBe(true);
  });
});
