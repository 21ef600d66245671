import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { testApp } from './helpers/app.js';
import { connect } from './helpers/ws.js';

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
