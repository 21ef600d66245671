import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { purgeOnce } from '../src/events/cleanup.js';
import { event, testApp } from './helpers/app.js';
import { parsePrometheus, valueOf } from './helpers/prometheus.js';
import { openSse, type SseClient } from './helpers/sse.js';

// Keys as a browser would hold them: the stream takes the read key as ?token=.
const KEYS = 'rk:read,pk:publish,ak:admin';
const PUBLISH = { authorization: 'Bearer pk' };

let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  app = await testApp({ HERALD_API_KEYS: KEYS, HERALD_SSE_HEARTBEAT: '100ms', HERALD_WS_MAX_BUFFER: '65536' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await app.close();
});

async function publish(over: Record<string, unknown>): Promise<{ seq: number; event_id: string }> {
  const res = await app.inject({ method: 'POST', url: '/events', headers: PUBLISH, payload: event(over) });
  expect(res.statusCode).toBe(201);
  return res.json().event;
}

const seqsOf = (client: SseClient) => client.events().map((e) => e.seq);

async function closed(client: SseClient): Promise<void> {
  client.close();
  await vi.waitFor(() => expect(app.stream.eventStreams.size).toBe(0), { timeout: 5000, interval: 10 });
  expect(app.stream.router.size).toBe(0);
}

describe('Server-Sent Events on GET /events', () => {
  it('streams the matching events live as id/data messages, after a retry line', async () => {
    const client = await openSse(`${base}/events?types=sse_a*&priority=high,critical&token=rk`);
    expect(client.status).toBe(200);
    expect(client.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await client.until((m) => m.length > 0);
    expect(client.messages[0]).toEqual({ retry: 1000 });
    await vi.waitFor(() => expect(app.stream.router.size).toBe(1), { timeout: 5000, interval: 10 });

    const one = await publish({ event_type: 'sse_a1', priority: 'high' });
    await publish({ event_type: 'sse_b', priority: 'high' });
    await publish({ event_type: 'sse_a1', priority: 'low' });
    const two = await publish({ event_type: 'sse_a2', priority: 'critical' });
    await client.until(() => client.events().length === 2);

    const messages = client.messages.filter((m) => m.data !== undefined);
    expect(messages.map((m) => [m.id, m.event])).toEqual([[String(one.seq), undefined], [String(two.seq), undefined]]);
    expect(client.events()).toEqual([expect.objectContaining(one), expect.objectContaining(two)]);
    const history = await app.inject({ method: 'GET', url: `/events/${two.event_id}`, headers: { authorization: 'Bearer rk' } });
    expect(client.events()[1]).toEqual(history.json());

    const metrics = parsePrometheus((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer ak' } })).body);
    expect(valueOf(metrics, 'herald_sse_connections')).toBe(1);
    expect(valueOf(metrics, 'herald_ws_subscriptions')).toBe(0);
    await closed(client);
  });

  it('replays from after=, then resumes from Last-Event-ID (which wins over after=) with no gap and no duplicate', async () => {
    const before = await publish({ event_type: 'sse_resume' });
    const first = await publish({ event_type: 'sse_resume' });
    const client = await openSse(`${base}/events?types=sse_resume&after=${before.seq}&token=rk`);
    await client.until(() => client.events().length === 1);
    const second = await publish({ event_type: 'sse_resume' });
    await client.until(() => client.events().length === 2);
    expect(seqsOf(client)).toEqual([first.seq, second.seq]);
    const lastEventId = client.messages.filter((m) => m.id !== undefined).at(-1)?.id as string;
    expect(lastEventId).toBe(String(second.seq));
    await closed(client);

    const missed = [await publish({ event_type: 'sse_resume' }), await publish({ event_type: 'sse_resume' })];
    const again = await openSse(`${base}/events?types=sse_resume&after=${before.seq}&token=rk`, { 'last-event-id': lastEventId });
    await again.until(() => again.events().length === 2);
    const live = await publish({ event_type: 'sse_resume' });
    await again.until(() => again.events().length === 3);
    expect(seqsOf(again)).toEqual([...missed.map((e) => e.seq), live.seq]);
    await closed(again);
  });

  it('writes a heartbeat comment while idle', async () => {
    const client = await openSse(`${base}/events?types=sse_idle&token=rk`);
    await client.until((m) => m.some((x) => x.comment === 'heartbeat'));
    expect(client.events()).toEqual([]);
    await closed(client);
  });

  it('answers bad input and auth failures with 4xx JSON before any stream byte', async () => {
    const sse = (url: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'GET', url, headers: { accept: 'text/event-stream', ...headers } });
    const cases: Array<[Awaited<ReturnType<typeof sse>>, number, string]> = [
      [await sse('/events'), 401, 'unauthorized'],
      [await sse('/events?token=nope'), 401, 'unauthorized'],
      [await sse('/events?token=pk'), 403, 'forbidden'],
      [await sse('/events?types=bad%20type&token=rk'), 400, 'validation_error'],
      [await sse('/events?after=x&token=rk'), 400, 'validation_error'],
      [await sse('/events?token=rk', { 'last-event-id': 'abc' }), 400, 'validation_error'],
      // Without Accept: text/event-stream this is a history request, which takes no ?token=.
      [await app.inject({ method: 'GET', url: '/events?token=rk' }), 400, 'token_in_query'],
    ];
    for (const [res, status, code] of cases) {
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json().error.code).toBe(code);
    }
  });

  it('ends a client that falls more than HERALD_WS_MAX_BUFFER behind with an error slow_consumer; it resumes without loss', async () => {
    const slow = await openSse(`${base}/events?types=sse_bulk&token=rk`);
    await slow.until((m) => m.length > 0);
    slow.response.pause();
    slow.response.socket.pause();
    const blob = 'x'.repeat(8000);
    const published: number[] = [];
    let ended = false;
    void slow.ended.then(() => (ended = true));
    while (app.stream.eventStreams.size > 0 && published.length < 5000) {
      const batch = Array.from({ length: 50 }, () => event({ event_type: 'sse_bulk', payload: { blob } }));
      const res = await app.inject({ method: 'POST', url: '/events/batch', headers: PUBLISH, payload: { events: batch } });
      published.push(...res.json().events.map((e: { seq: number }) => e.seq));
    }
    expect(app.stream.eventStreams.size).toBe(0);
    expect(app.stream.router.size).toBe(0);
    slow.response.socket.resume();
    slow.response.resume();
    await slow.ended;
    expect(ended).toBe(true);
    const last = slow.messages.at(-1);
    expect(last?.event).toBe('error');
    expect(JSON.parse(last?.data as string)).toMatchObject({ code: 'slow_consumer', details: { reason: 'send_buffer' } });
    expect(app.stream.stats.eventStreamSlowCloses.send_buffer).toBe(1);

    // What it got is a prefix; resuming from its last id delivers the rest.
    const got = seqsOf(slow);
    expect(got).toEqual(published.slice(0, got.length));
    const resumed = await openSse(`${base}/events?types=sse_bulk&token=rk`, { 'last-event-id': String(got.at(-1)) });
    await resumed.until(() => resumed.events().length === published.length - got.length, 30_000);
    expect([...got, ...seqsOf(resumed)]).toEqual(published);
    await closed(resumed);
  });
});

describe('Server-Sent Events resuming from a cursor retention has passed', () => {
  it('sends an error cursor_expired whose id moves Last-Event-ID to the oldest retained seq, then ends', async () => {
    const local = await testApp();
    await local.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(local.server.address() as { port: number }).port}/events?types=custom`;
    for (let i = 0; i < 10; i++) await local.inject({ method: 'POST', url: '/events', payload: event({ event_type: 'custom' }) });
    await purgeOnce(local.store.events, { retentionMs: 0, retentionMaxEvents: 4 }, new Date());

    const expired = await openSse(`${url}&after=0`);
    await expired.ended;
    const error = expired.messages.at(-1);
    expect(error).toMatchObject({ id: '6', event: 'error' });
    expect(JSON.parse(error?.data as string)).toMatchObject({ code: 'cursor_expired', oldest_seq: 7 });
    expect(local.stream.eventStreams.size).toBe(0);

    // What the browser does next: reconnect with that id. A stream still open when the server closes is ended.
    const resumed = await openSse(url, { 'last-event-id': '6' });
    await resumed.until(() => resumed.events().length === 4);
    expect(seqsOf(resumed)).toEqual([7, 8, 9, 10]);
    await local.close();
    await resumed.ended;
  });
});
