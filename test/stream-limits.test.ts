import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { testApp } from './helpers/app.js';
import { connect, type Client } from './helpers/ws.js';

const open: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of open.splice(0)) await app.close();
});

async function listening(env: Record<string, string> = {}): Promise<{ app: FastifyInstance; url: string }> {
  const app = await testApp(env);
  open.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/events` };
}

describe('message types named like Object.prototype members', () => {
  const names = [...new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__'])];

  it('each get unknown_type and count toward the 1008 limit', async () => {
    const { url } = await listening({ HERALD_WS_MAX_BAD_MESSAGES: String(names.length) });
    const client = await connect(url);
    names.forEach((type, i) => client.send({ type, id: i }));
    await client.until((f) => f.length >= names.length);
    expect(client.frames).toEqual(names.map((type, i) => expect.objectContaining({ type: 'error', id: i, code: 'unknown_type', message: expect.stringContaining(JSON.stringify(type)) })));
    // Exactly at the limit the socket still answers; one more invalid message closes it.
    client.send({ type: 'ping', id: 'alive' });
    await client.until((f) => f.some((x) => x.type === 'pong'));
    client.send({ type: 'toString' });
    expect(await client.closed).toMatchObject({ code: 1008 });
  });
});

describe('subscriptions per socket', () => {
  it('are capped: one more gets too_many_subscriptions, and the socket and its subscriptions carry on', async () => {
    const { app, url } = await listening({ HERALD_WS_MAX_SUBSCRIPTIONS: '3' });
    const client = await connect(`${url}?types=custom`); // the query subscription is the first of three
    client.send({ type: 'subscribe', id: 'a', event_types: ['task_*'] });
    client.send({ type: 'subscribe', id: 'b', event_types: ['system_alert'] });
    client.send({ type: 'subscribe', id: 'c', event_types: ['billing.*'] });
    client.send({ type: 'subscribe', event_types: ['billing.*'] });
    client.send({ type: 'subscribe', id: 'a', event_types: ['task_failed'] }); // replaces a: no new one
    client.send({ type: 'ping', id: 'alive' });
    await client.until((f) => f.some((x) => x.type === 'pong'));
    expect(client.frames).toEqual([
      { type: 'subscribed', id: 'a', subscription: 'a' },
      { type: 'subscribed', id: 'b', subscription: 'b' },
      expect.objectContaining({ type: 'error', id: 'c', code: 'too_many_subscriptions', details: { max: 3 } }),
      expect.objectContaining({ type: 'error', code: 'too_many_subscriptions' }),
      { type: 'subscribed', id: 'a', subscription: 'a' },
      { type: 'pong', id: 'alive' },
    ]);
    expect(app.stream.router.size).toBe(3);

    const publish = async (eventType: string) =>
      (await app.inject({ method: 'POST', url: '/events', payload: { event_type: eventType, source: 't' } })).json().event.event_id as string;
    const delivered = [await publish('custom'), await publish('task_failed'), await publish('system_alert')];
    await publish('billing.invoice'); // c was refused
    const last = await publish('custom');
    await client.until((f) => f.some((x) => x.event_id === last));
    expect(client.frames.filter((x) => x.type === undefined).map((x) => x.event_id)).toEqual([...delivered, last]);

    client.send({ type: 'unsubscribe', id: 'b' });
    client.send({ type: 'subscribe', id: 'c', event_types: ['billing.*'] });
    await client.until((f) => f.some((x) => x.type === 'subscribed' && x.id === 'c'));
    client.ws.close();
  });
});

describe('a client that floods publishes', () => {
  /**
   * Publishes are held at a gate until the server has stopped reading the socket; the count of messages the
   * server socket has received minus the publishes finished is what sits in its inbox.
   */
  async function flood(env: Record<string, string>, count: number, payloadBytes: number, whilePaused?: (client: Client) => Promise<void>) {
    const { app, url } = await listening(env);
    let opened!: () => void;
    const gate = new Promise<void>((resolve) => (opened = resolve));
    const publish = app.committer.publish.bind(app.committer);
    let finished = 0;
    app.committer.publish = async (events) => {
      await gate;
      try {
        return await publish(events);
      } finally {
        finished += 1;
      }
    };
    const client = await connect(url);
    const [server] = app.websocketServer.clients;
    let received = 0;
    let peak = 0;
    server!.on('message', () => {
      received += 1;
      peak = Math.max(peak, received - finished);
    });
    const blob = 'x'.repeat(payloadBytes);
    for (let i = 0; i < count; i++) client.send({ type: 'publish', id: i, event: { event_type: 'custom', source: 'flood', payload: { blob } } });
    await vi.waitFor(() => expect(server!.isPaused).toBe(true));
    const pausedAt = received;
    await whilePaused?.(client);
    opened();
    await client.until((f) => f.filter((x) => x.type === 'published').length === count, 60_000);
    expect(new Set(client.frames.map((f) => f.id))).toEqual(new Set(Array.from({ length: count }, (_, i) => i)));
    expect(await app.store.events.count()).toBe(count);
    client.ws.close();
    return { pausedAt, peak };
  }

  it('is no longer read once HERALD_WS_MAX_INBOX messages wait, and every publish is answered', async () => {
    const { pausedAt, peak } = await flood({ HERALD_WS_MAX_INBOX: '4' }, 60, 100_000);
    expect(pausedAt).toBe(4);
    expect(peak).toBeLessThanOrEqual(4);
  });

  it('is no longer read once HERALD_WS_MAX_INBOX_BYTES wait', async () => {
    const { pausedAt, peak } = await flood({ HERALD_WS_MAX_INBOX_BYTES: '250000' }, 30, 100_000);
    expect(pausedAt).toBe(3); // the third message takes the inbox over 250,000 bytes
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('is not dropped for pongs it sent while the server was not reading', async () => {
    const env = { HERALD_WS_MAX_INBOX: '2', HERALD_WS_PING_INTERVAL: '20ms', HERALD_WS_PONG_TIMEOUT: '250ms' };
    await flood(env, 10, 1000, async (client) => {
      let pings = 0;
      client.ws.on('ping', () => (pings += 1));
      await vi.waitFor(() => expect(pings).toBeGreaterThanOrEqual(5), { timeout: 10_000 });
    });
  });
});

describe('liveness of a busy client', () => {
  it('counts any message as a sign of life, since its pong may be queued behind what it is sending', async () => {
    const { app, url } = await listening({ HERALD_WS_PING_INTERVAL: '20ms', HERALD_WS_PONG_TIMEOUT: '100ms' });
    const ws = new WebSocket(url, { autoPong: false }); // never answers a ping
    let pings = 0;
    let pongs = 0;
    ws.on('ping', () => (pings += 1));
    ws.on('message', () => {
      pongs += 1;
      if (pings < 20) ws.send(JSON.stringify({ type: 'ping', id: pongs }));
    });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'ping', id: 0 }));
    await vi.waitFor(() => expect(pings).toBeGreaterThanOrEqual(20), { timeout: 20_000 });
    expect(ws.readyState).toBe(WebSocket.OPEN);
    // Silent from now on, it is dropped like any dead peer.
    await vi.waitFor(() => expect(app.stream.connections.size).toBe(0), { timeout: 10_000 });
  });
});
