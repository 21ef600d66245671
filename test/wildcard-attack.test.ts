import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, testApp } from './helpers/app.js';
import { startReceiver } from './helpers/receiver.js';
import { connect } from './helpers/ws.js';

/**
 * One stored type of 128 `a` and a pattern that ends in a letter it lacks: a backtracking `.*` matcher
 * tries every way to place the stars (tens of seconds at 6 stars, ×20 per extra star) and blocks the
 * event loop. These requests must simply complete with the right answer.
 */
const LONG = 'a'.repeat(128);
const ATTACK = 'a*a*a*a*a*a*b';
const HARDER = 'a*a*a*a*a*a*a*b';
/** Matches both patterns, so a live path shows that matching still works after the attack event. */
const SENTINEL = 'aaaaaaab';

let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  app = await testApp({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await app.close();
});

const publish = async (eventType: string) => {
  const res = await app.inject({ method: 'POST', url: '/events', payload: event({ event_type: eventType }) });
  expect(res.statusCode).toBe(201);
  return res.json().event as { event_id: string; seq: number };
};

describe('a wildcard pattern built to backtrack', () => {
  it('is answered through GET /events?types=', async () => {
    const long = await publish(LONG);
    for (const types of [ATTACK, HARDER, `${ATTACK},${HARDER}`]) {
      const res = await app.inject({ url: `/events?types=${types}` });
      expect(res.statusCode).toBe(200);
      expect(res.json().events).toEqual([]);
    }
    const hit = await app.inject({ url: `/events?types=${ATTACK.replace(/b$/, 'a')}` });
    expect(hit.json().events.map((e: { seq: number }) => e.seq)).toEqual([long.seq]);
  });

  it('does not stall publishing once a WebSocket subscribes with it', async () => {
    const byQuery = await connect(`${base}/events?types=${ATTACK}`);
    const byMessage = await connect(`${base}/events`);
    byMessage.send({ type: 'subscribe', id: 's', event_types: [ATTACK, HARDER] });
    await byMessage.until((f) => f.some((x) => x.type === 'subscribed'));
    await vi.waitFor(() => expect(app.stream.router.size).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 10 });
    await publish(LONG);
    const sentinel = await publish(SENTINEL);
    for (const client of [byQuery, byMessage]) {
      await client.until((f) => f.some((x) => x.event_id === sentinel.event_id));
      expect(client.frames.filter((x) => x.type === undefined).map((x) => x.event_type)).toEqual([SENTINEL]);
      client.ws.close();
    }
  });

  it('does not stall publishing once a webhook subscription uses it', async () => {
    const receiver = await startReceiver();
    try {
      const created = await app.inject({
        method: 'POST', url: '/subscriptions',
        payload: { subscriber_name: 'attack', callback_url: receiver.url, event_types: [ATTACK, HARDER] },
      });
      expect(created.statusCode).toBe(201);
      await publish(LONG);
      const sentinel = await publish(SENTINEL);
      await receiver.until((r) => r.length >= 1);
      expect(receiver.requests.map((r) => JSON.parse(r.body).event.event_id)).toEqual([sentinel.event_id]);
    } finally {
      await receiver.close();
    }
  });
});

describe('the number of * in a type pattern', () => {
  const TOO_MANY = 'a*b*c*d*e*f*g*h*i*j'; // 9
  const MOST = 'a*b*c*d*e*f*g*h*i'; // 8

  it('is bounded for GET /events?types=', async () => {
    expect((await app.inject({ url: `/events?types=${MOST}` })).statusCode).toBe(200);
    for (const types of [TOO_MANY, `custom,${TOO_MANY}`, `${TOO_MANY},custom`]) {
      const res = await app.inject({ url: `/events?types=${types}` });
      expect(res.statusCode, types).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'validation_error', details: [expect.objectContaining({ path: '/types' })] });
    }
    // Nine stars spread over several patterns are fine: the bound is per pattern.
    expect((await app.inject({ url: `/events?types=${MOST},a*b` })).statusCode).toBe(200);
  });

  it('is bounded for webhook subscriptions', async () => {
    const create = (types: string[]) =>
      app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'stars', event_types: types } });
    expect((await create([MOST])).statusCode).toBe(201);
    const res = await create(['custom', TOO_MANY]);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details).toEqual([expect.objectContaining({ path: '/event_types/1' })]);
  });

  it('is bounded for WebSocket subscriptions, in the query string and in subscribe', async () => {
    await expect(connect(`${base}/events?types=${TOO_MANY}`)).rejects.toThrow('upgrade refused: 400');
    const client = await connect(`${base}/events`);
    client.send({ type: 'subscribe', id: 'many', event_types: [TOO_MANY] });
    client.send({ type: 'subscribe', id: 'most', event_types: [MOST] });
    await client.until((f) => f.length >= 2);
    expect(client.frames[0]).toMatchObject({ type: 'error', id: 'many', code: 'invalid_message' });
    expect(client.frames[1]).toEqual({ type: 'subscribed', id: 'most', subscription: 'most' });
    client.ws.close();
  });
});
