import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, testApp } from './helpers/app.js';
import { connect } from './helpers/ws.js';

let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  app = await testApp();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  base = `ws://127.0.0.1:${port}`;
});
afterAll(async () => {
  await app.close();
});

const publish = async (over: Record<string, unknown> = {}) => {
  const res = await app.inject({ method: 'POST', url: '/events', payload: event(over) });
  expect(res.statusCode).toBe(201);
  return res.json().event as { event_id: string; seq: number; event_type: string };
};
const subscriptions = () => app.stream.router.size;
const types = (frames: Array<Record<string, unknown>>) => frames.map((f) => f.event_type);

describe("the original page's protocol (plain event frames)", () => {
  it('subscribes with {type, event_types} and gets exactly the matching events, no control frames', async () => {
    const before = subscriptions();
    const client = await connect(`${base}/events`);
    client.send({ type: 'subscribe', event_types: ['task_progress', 'task_completed'] });
    await vi.waitFor(() => expect(subscriptions()).toBe(before + 1), { timeout: 10_000, interval: 10 });
    await publish({ event_type: 'task_started' });
    const p = await publish({ event_type: 'task_progress', payload: { progress: 0.3, message: 'working' } });
    await publish({ event_type: 'custom' });
    const c = await publish({ event_type: 'task_completed' });
    await client.until((f) => f.length >= 2);
    await publish({ event_type: 'task_progress', source: 'sentinel' });
    await client.until((f) => f.length >= 3);
    expect(types(client.frames)).toEqual(['task_progress', 'task_completed', 'task_progress']);
    expect(client.frames[0]).toMatchObject({ event_id: p.event_id, seq: p.seq, payload: { progress: 0.3, message: 'working' } });
    expect(client.frames[1]).toMatchObject({ event_id: c.event_id });
    expect(client.frames.every((f) => !('type' in f))).toBe(true);
    client.ws.close();
  });
});

describe('subscriptions', () => {
  it('matches wildcards and filters, sends an event matching two subscriptions once', async () => {
    const client = await connect(`${base}/events`);
    client.send({ type: 'subscribe', id: 'a', event_types: ['task_*'], filters: { priority: ['high', 'critical'] } });
    client.send({ type: 'subscribe', id: 'b', event_types: ['task_failed', 'billing.invoice'], filters: { 'payload.region': 'eu' } });
    await client.until((f) => f.filter((x) => x.type === 'subscribed').length === 2);
    expect(client.frames).toEqual([
      { type: 'subscribed', id: 'a', subscription: 'a' },
      { type: 'subscribed', id: 'b', subscription: 'b' },
    ]);
    await publish({ event_type: 'task_started', priority: 'low' }); // neither
    const both = await publish({ event_type: 'task_failed', priority: 'high', payload: { region: 'eu' } });
    const onlyA = await publish({ event_type: 'task_progress', priority: 'critical' });
    await publish({ event_type: 'billing.invoice', payload: { region: 'us' } }); // b's type, wrong region
    const onlyB = await publish({ event_type: 'billing.invoice', payload: { region: 'eu' } });
    await client.until((f) => f.length >= 5);
    const events = client.frames.slice(2);
    expect(events.map((e) => e.event_id)).toEqual([both.event_id, onlyA.event_id, onlyB.event_id]);

    client.send({ type: 'unsubscribe', id: 'a' });
    await client.until((f) => f.some((x) => x.type === 'unsubscribed'));
    await publish({ event_type: 'task_progress', priority: 'critical' }); // was a's
    const last = await publish({ event_type: 'task_failed', payload: { region: 'eu' } });
    await client.until((f) => f.some((x) => x.event_id === last.event_id));
    expect(client.frames.filter((f) => f.event_type === 'task_progress')).toHaveLength(1);
    client.ws.close();
  });

  it('routes targeted events only to subscriptions naming that target', async () => {
    const anyone = await connect(`${base}/events?types=custom`);
    const ui = await connect(`${base}/events?types=custom&target=ui`);
    await vi.waitFor(() => expect(Math.min(app.stream.connections.size, subscriptions())).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 10 });
    const plain = await publish({ event_type: 'custom' });
    const targeted = await publish({ event_type: 'custom', target: 'ui' });
    const other = await publish({ event_type: 'custom', target: 'ops' });
    const end = await publish({ event_type: 'custom' });
    await anyone.until((f) => f.some((x) => x.event_id === end.event_id));
    expect(anyone.frames.map((f) => f.event_id)).toEqual([plain.event_id, end.event_id]);
    await ui.until((f) => f.some((x) => x.event_id === targeted.event_id));
    expect(ui.frames.map((f) => f.event_id)).toEqual([targeted.event_id]);
    expect(ui.frames.some((f) => f.event_id === other.event_id)).toBe(false);
    anyone.ws.close();
    ui.ws.close();
  });

  it('does not stream an expired event', async () => {
    const client = await connect(`${base}/events?types=system_alert`);
    await vi.waitFor(() => expect(subscriptions()).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 10 });
    await publish({ event_type: 'system_alert', expires_at: new Date(Date.now() - 1000).toISOString() });
    const fresh = await publish({ event_type: 'system_alert' });
    await client.until((f) => f.length >= 1);
    expect(client.frames.map((f) => f.event_id)).toEqual([fresh.event_id]);
    client.ws.close();
  });
});

describe('bad messages', () => {
  it('answers with error frames and keeps the socket open, then closes on abuse', async () => {
    const client = await connect(`${base}/events`);
    client.send('{not json');
    client.send({ type: 'dance' });
    client.send({ type: 'subscribe', id: 7, event_types: ['Bad Type'] });
    client.send({ type: 'subscribe', id: 8, filters: { colour: 'red' } });
    await client.until((f) => f.length >= 4);
    expect(client.frames.map((f) => [f.type, f.code])).toEqual([
      ['error', 'invalid_json'], ['error', 'unknown_type'], ['error', 'invalid_message'], ['error', 'invalid_message'],
    ]);
    expect(client.frames[2]).toMatchObject({ id: 7 });
    client.send({ type: 'ping', id: 'still-there' });
    await client.until((f) => f.some((x) => x.type === 'pong'));
    for (let i = 0; i < 10; i++) client.send('nope');
    expect(await client.closed).toMatchObject({ code: 1008 });
  });

  it('closes with 4503 on a message over the size limit', async () => {
    const small = await testApp({ HERALD_WS_MAX_MESSAGE: '1024' });
    await small.listen({ port: 0, host: '127.0.0.1' });
    const { port } = small.server.address() as { port: number };
    const client = await connect(`ws://127.0.0.1:${port}/events`);
    client.send({ type: 'publish', event: event({ payload: { blob: 'x'.repeat(2000) } }) });
    expect((await client.closed).code).toBe(4503);
    await small.close();
  });
});

describe('publish over the socket', () => {
  it('stores the event and answers published with its seq', async () => {
    const client = await connect(`${base}/events`);
    client.send({ type: 'publish', id: 'p1', event: event({ event_type: 'custom', source: 'ws' }) });
    await client.until((f) => f.some((x) => x.type === 'published'));
    const ack = client.frames.find((f) => f.type === 'published') as { event_id: string; seq: number; created: boolean };
    expect(ack.created).toBe(true);
    const stored = await app.inject({ url: `/events/${ack.event_id}` });
    expect(stored.json()).toMatchObject({ source: 'ws', seq: ack.seq });
    client.ws.close();
  });
});

describe('shutdown', () => {
  it('closes sockets with 1001 after the LIVE query is killed', async () => {
    const local = await testApp();
    await local.listen({ port: 0, host: '127.0.0.1' });
    const { port } = local.server.address() as { port: number };
    const client = await connect(`ws://127.0.0.1:${port}/events?types=custom`);
    await vi.waitFor(() => expect(local.stream.router.size).toBe(1), { timeout: 10_000, interval: 10 });
    await local.close();
    expect((await client.closed).code).toBe(1001);
  });
});

describe('liveness', () => {
  it('drops a peer that stops answering pings', async () => {
    const local = await testApp({ HERALD_WS_PING_INTERVAL: '100ms', HERALD_WS_PONG_TIMEOUT: '200ms' });
    await local.listen({ port: 0, host: '127.0.0.1' });
    const { port } = local.server.address() as { port: number };
    const alive = await connect(`ws://127.0.0.1:${port}/events?types=custom`);
    const dead = await connect(`ws://127.0.0.1:${port}/events?types=custom`);
    await vi.waitFor(() => expect(local.stream.connections.size).toBe(2), { timeout: 10_000, interval: 10 });
    // A paused socket reads nothing, so its client never sees the ping and never answers it.
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await vi.waitFor(() => expect(local.stream.connections.size).toBe(1), { timeout: 5000, interval: 10 });
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    alive.ws.close();
    await local.close();
  });
});

describe('resume from a cursor retention has passed', () => {
  it('says cursor_expired with the oldest retained seq before streaming', async () => {
    const local = await testApp();
    await local.listen({ port: 0, host: '127.0.0.1' });
    const { port } = local.server.address() as { port: number };
    for (let i = 0; i < 10; i++) await local.inject({ method: 'POST', url: '/events', payload: event({ event_type: 'custom' }) });
    const { purgeOnce } = await import('../src/events/cleanup.js');
    await purgeOnce(local.store.events, { retentionMs: 0, retentionMaxEvents: 4 }, new Date());
    const client = await connect(`ws://127.0.0.1:${port}/events?types=custom&after=0`);
    await client.until((f) => f.length === 5);
    expect(client.frames[0]).toMatchObject({ type: 'error', code: 'cursor_expired', oldest_seq: 7 });
    expect(client.frames.slice(1).map((f) => f.seq)).toEqual([7, 8, 9, 10]);
    client.ws.close();
    await local.close();
  });
});

describe('subscription edge cases', () => {
  it('reports a cursor ahead of the newest seq and streams from now', async () => {
    const client = await connect(`${base}/events`);
    client.send({ type: 'subscribe', id: 'x', event_types: ['edge_case'], after: 999_999_999 });
    await client.until((f) => f.some((x) => x.type === 'subscribed'));
    expect(client.frames[0]).toMatchObject({ type: 'error', id: 'x', code: 'cursor_ahead' });
    const e = await publish({ event_type: 'edge_case' });
    await client.until((f) => f.some((x) => x.event_id === e.event_id));
    client.ws.close();
  });

  it('never lets an unnamed subscription replace one the client named', async () => {
    const client = await connect(`${base}/events`);
    client.send({ type: 'subscribe', id: 'auto-0', event_types: ['edge_named'] });
    client.send({ type: 'subscribe', event_types: ['edge_unnamed'] });
    client.send({ type: 'ping', id: 'sync' });
    await client.until((f) => f.some((x) => x.type === 'pong'));
    const named = await publish({ event_type: 'edge_named' });
    const unnamed = await publish({ event_type: 'edge_unnamed' });
    await client.until((f) => f.some((x) => x.event_id === unnamed.event_id) && f.some((x) => x.event_id === named.event_id));
    client.ws.close();
  });
});

describe('message order', () => {
  it('answers subscribed before the replayed events, and an immediate unsubscribe wins', async () => {
    const first = await publish({ event_type: 'order_test' });
    await publish({ event_type: 'order_test' });
    const client = await connect(`${base}/events`);
    client.send({ type: 'subscribe', id: 'r', event_types: ['order_test'], after: first.seq - 1 });
    await client.until((f) => f.length >= 3);
    expect(client.frames[0]).toMatchObject({ type: 'subscribed', id: 'r' });
    expect(client.frames.slice(1, 3).map((f) => f.event_type)).toEqual(['order_test', 'order_test']);

    const quick = await connect(`${base}/events`);
    quick.send({ type: 'subscribe', id: 'q', event_types: ['order_quick'] });
    quick.send({ type: 'unsubscribe', id: 'q' });
    quick.send({ type: 'ping', id: 'sync' });
    await quick.until((f) => f.some((x) => x.type === 'pong'));
    await publish({ event_type: 'order_quick' });
    const marker = await publish({ event_type: 'order_test' });
    await client.until((f) => f.some((x) => x.event_id === marker.event_id));
    expect(quick.frames.map((f) => f.type)).toEqual(['subscribed', 'unsubscribed', 'pong']);
    client.ws.close();
    quick.ws.close();
  });
});
