/**
 * Values JSON can carry but the store cannot encode exactly (integers beyond ±2^53) and WebSocket ids the
 * protocol does not allow: each is refused in the error shape, and nothing is stored. The fuzz suite found
 * all three as 500s or schema-breaking frames.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Value } from 'typebox/value';
import { countEvents, event, testApp } from './helpers/app.js';
import { connect } from './helpers/ws.js';
import { ControlFrame } from '../src/schemas/stream.js';

let app: FastifyInstance;
let url: string;
beforeAll(async () => {
  app = await testApp();
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  url = address.replace('http', 'ws') + '/events';
});
afterAll(async () => {
  await app.close();
});

const subscriptionCount = async () => (await app.inject({ method: 'GET', url: '/subscriptions' })).json().subscriptions.length as number;

describe('integers beyond what the store encodes exactly', () => {
  it.each([-9007199254740994, 9007199254740992, 1.03e288])('refuses %d in a subscription filter on create and on PATCH', async (n) => {
    const before = await subscriptionCount();
    const created = await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'big', filters: { 'payload.a': n } } });
    expect(created.statusCode).toBe(400);
    expect(created.json().error.code).toBe('validation_error');
    expect(await subscriptionCount()).toBe(before);

    const ok = await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'big', filters: { 'payload.a': 1 } } });
    expect(ok.statusCode).toBe(201);
    const id = ok.json().subscription_id as string;
    const patched = await app.inject({ method: 'PATCH', url: `/subscriptions/${id}`, payload: { filters: { 'payload.a': n } } });
    expect(patched.statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: `/subscriptions/${id}` })).json().filters).toEqual({ 'payload.a': 1 });
  });

  it('keeps the largest exact integer usable in a filter', async () => {
    const res = await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'edge', filters: { 'payload.a': Number.MAX_SAFE_INTEGER } } });
    expect(res.statusCode).toBe(201);
  });

  it.each(['retry_count', 'max_retries'])('refuses %s = 1e308 with a 400 and stores nothing', async (field) => {
    const before = await countEvents(app);
    const res = await app.inject({ method: 'POST', url: '/events', payload: event({ [field]: 1e308 }) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_error');
    expect(await countEvents(app)).toBe(before);
  });
});

describe('expiries before 1970 with a fraction of a second', () => {
  it.each(['1969-12-31T23:59:59.5Z', '0000-01-01T00:00:00.1Z'])('are stored (%s) and the event counts as expired', async (expires_at) => {
    const before = await countEvents(app);
    const res = await app.inject({ method: 'POST', url: '/events', payload: event({ expires_at }) });
    expect(res.statusCode).toBe(201);
    expect(res.json().event.expires_at).toBe(new Date(expires_at).toISOString());
    expect(await countEvents(app)).toBe(before + 1);
    const read = await app.inject({ method: 'GET', url: `/events/${res.json().event.event_id}` });
    expect(read.statusCode).toBe(404);
  });
});

describe('WebSocket error frames', () => {
  it.each([{ constructor: 1 }, true, null, [1], 'x'.repeat(129)])('do not echo an id the protocol does not allow (%j)', async (id) => {
    const client = await connect(url);
    client.send({ type: 'ping', id });
    client.send({ type: 'ping', id: 'after' });
    await client.until((frames) => frames.some((f) => f.id === 'after'));
    const [error] = client.frames;
    expect(error).toMatchObject({ type: 'error', code: 'invalid_message' });
    expect(error).not.toHaveProperty('id');
    expect(Value.Check(ControlFrame, error)).toBe(true);
    client.ws.close();
  });
});
