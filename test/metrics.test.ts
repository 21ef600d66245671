import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, testApp } from './helpers/app.js';
import { connect, listenWs, starve } from './helpers/ws.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { parsePrometheus, valueOf, type Sample } from './helpers/prometheus.js';

async function scrape(app: FastifyInstance, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(res.body);
}

describe('GET /metrics', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('is Prometheus text whose counters move with publishes, group commits and requests (by route pattern)', async () => {
    const before = await scrape(app);
    expect(valueOf(before, 'herald_events_published_total')).toBe(0);
    expect(valueOf(before, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(before, 'nodejs_eventloop_lag_seconds')).toBeDefined();

    const one = await app.inject({ method: 'POST', url: '/events', payload: event() });
    const stored = one.json().event as { event_id: string };
    await app.inject({ method: 'POST', url: '/events/batch', payload: { events: [event(), event()] } });
    await app.inject({ method: 'POST', url: '/events', payload: { ...event(), event_id: stored.event_id } }); // a re-publish
    await app.inject({ method: 'GET', url: `/events/${stored.event_id}` });
    await app.inject({ method: 'GET', url: '/no/such/path' });

    const res = await app.inject({ method: 'GET', url: '/metrics' });
    const after = parsePrometheus(res.body);
    expect(valueOf(after, 'herald_events_published_total')).toBe(3);
    expect(valueOf(after, 'herald_commit_events_count')).toBe(3);
    expect(valueOf(after, 'herald_commit_events_sum')).toBe(4); // the re-publish is in a transaction too
    expect(valueOf(after, 'herald_commit_duration_seconds_count')).toBe(3);
    expect(valueOf(after, 'herald_http_request_duration_seconds_count', { method: 'POST', route: '/events', status_code: '201' })).toBe(1);
    expect(valueOf(after, 'herald_http_request_duration_seconds_count', { method: 'POST', route: '/events', status_code: '200' })).toBe(1);
    expect(valueOf(after, 'herald_http_request_duration_seconds_count', { route: '/events/:event_id', status_code: '200' })).toBe(1);
    expect(valueOf(after, 'herald_http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' })).toBe(1);
    // Route patterns, never raw URLs or ids.
    expect(res.body).not.toContain(stored.event_id);
    expect(res.body).not.toContain('/no/such/path');
    expect(valueOf(after, 'herald_store_errors_total', { operation: 'commit' })).toBe(0);
  });

  it('reports the LIVE feed caught up with the counter', async () => {
    await app.inject({ method: 'POST', url: '/events', payload: event() });
    await vi.waitFor(async () => expect(valueOf(await scrape(app), 'herald_live_feed_lag_seq')).toBe(0), { timeout: 10_000, interval: 20 });
    expect(valueOf(await scrape(app), 'herald_live_feed_last_notification_age_seconds')).toBeLessThan(60);
  });
});

describe('access to /metrics', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('needs the admin scope when keys are configured', async () => {
    const app = await testApp({ HERALD_API_KEYS: 'scraper:admin,producer:publish+read' });
    apps.push(app);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const reader = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer producer' } });
    expect(reader.statusCode).toBe(403);
    expect(reader.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scraper' } })).statusCode).toBe(200);
  });

  it('serves loopback clients only when no key is configured, and is absent with HERALD_METRICS=false', async () => {
    const app = await testApp();
    apps.push(app);
    const remote = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9' });
    expect(remote.statusCode).toBe(401);
    expect(remote.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const off = await testApp({ HERALD_METRICS: 'false' });
    apps.push(off);
    expect((await off.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
  });
});

describe('stream metrics', () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    app = await testApp({ HERALD_WS_MAX_BUFFER: '65536' });
    url = await listenWs(app);
  });
  afterAll(async () => {
    await app.close();
  });

  it('counts connections, subscriptions and frames of real sockets', async () => {
    const client = await connect(`${url}/events?types=task_progress`);
    await vi.waitFor(() => expect(app.stream.router.size).toBe(1), { timeout: 10_000, interval: 10 });
    let samples = await scrape(app);
    expect(valueOf(samples, 'herald_ws_connections')).toBe(1);
    expect(valueOf(samples, 'herald_ws_subscriptions')).toBe(1);
    const framesBefore = valueOf(samples, 'herald_ws_frames_sent_total') ?? 0;
    await app.inject({ method: 'POST', url: '/events/batch', payload: { events: [event(), event(), event()] } });
    await client.until((f) => f.length === 3);
    expect(valueOf(await scrape(app), 'herald_ws_frames_sent_total')).toBe(framesBefore + 3);
    client.ws.close();
    await vi.waitFor(async () => expect(valueOf(await scrape(app), 'herald_ws_connections')).toBe(0), { timeout: 10_000, interval: 10 });
    samples = await scrape(app);
    expect(valueOf(samples, 'herald_ws_subscriptions')).toBe(0);
  });

  it('counts a slow-consumer close by its reason', async () => {
    const slow = await connect(`${url}/events?types=bulk`);
    await vi.waitFor(() => expect(app.stream.router.size).toBe(1), { timeout: 10_000, interval: 10 });
    expect(valueOf(await scrape(app), 'herald_ws_slow_consumer_closes_total', { reason: 'send_buffer' })).toBe(0);
    await starve(app, slow);
    expect((await slow.closed).code).toBe(4000);
    expect(valueOf(await scrape(app), 'herald_ws_slow_consumer_closes_total', { reason: 'send_buffer' })).toBe(1);
  }, 60_000);
});

describe('webhook metrics', () => {
  let receiver: Receiver;
  const apps: FastifyInstance[] = [];
  beforeAll(async () => {
    receiver = await startReceiver((n) => ({ status: n === 0 ? 500 : 204 }));
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await receiver.close();
  });

  const subscribe = async (app: FastifyInstance) => {
    const res = await app.inject({
      method: 'POST', url: '/subscriptions',
      payload: { subscriber_name: 'metrics', event_types: ['order.*'], callback_url: receiver.url },
    });
    expect(res.statusCode, res.body).toBe(201);
  };

  it('counts outcomes and attempt durations of real deliveries', async () => {
    const app = await testApp({ HERALD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', HERALD_WEBHOOK_POLL: '50ms', HERALD_RETRY_SCHEDULE: '10ms' });
    apps.push(app);
    await subscribe(app);
    await app.inject({ method: 'POST', url: '/events', payload: event({ event_type: 'order.created' }) });
    await receiver.until((r) => r.length === 2);
    await vi.waitFor(async () => {
      const samples = await scrape(app);
      expect(valueOf(samples, 'herald_webhook_deliveries_total', { outcome: 'retrying' })).toBe(1);
      expect(valueOf(samples, 'herald_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
      expect(valueOf(samples, 'herald_webhook_delivery_duration_seconds_count')).toBe(2);
    }, { timeout: 10_000, interval: 20 });
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).not.toContain(receiver.url);
  });

  it('reports the backlog and the age of the oldest due delivery without a worker', async () => {
    let now = Date.parse('2026-11-30T12:00:00Z');
    const app = await testApp({ HERALD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', HERALD_WEBHOOK_WORKER: 'false' }, undefined, { now: () => now });
    apps.push(app);
    await subscribe(app);
    let samples = await scrape(app);
    expect(valueOf(samples, 'herald_webhook_backlog')).toBe(0);
    expect(valueOf(samples, 'herald_webhook_lag_seconds')).toBe(0);
    // A first attempt waiting above a cursor is as old as its event's timestamp.
    const timestamp = new Date(now).toISOString();
    await app.inject({ method: 'POST', url: '/events/batch', payload: { events: [event({ event_type: 'order.created', timestamp }), event({ event_type: 'order.paid', priority: 'critical', timestamp })] } });
    await app.inject({ method: 'POST', url: '/events', payload: event({ event_type: 'unrelated' }) });
    now += 42_000;
    samples = await scrape(app);
    expect(valueOf(samples, 'herald_webhook_backlog')).toBe(2);
    expect(valueOf(samples, 'herald_webhook_lag_seconds')).toBeCloseTo(42, 0);
  });
});
