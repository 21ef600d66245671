import { describe, expect, it } from 'vitest';
import { appsClosedAfterEach, countEvents, event } from './helpers/app.js';
import { connect } from './helpers/ws.js';

// Limits count per second; each test's requests are issued back to back, well within one window.
const app = appsClosedAfterEach();

const REMOTE = '203.0.113.7';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const correlation = '0b8e5a9c-0c5f-4a43-9d5b-6a8f0b6a9a01';

function expectRateLimited(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, limit: string): void {
  expect(res.statusCode).toBe(429);
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(res.json()).toMatchObject({ error: { code: 'rate_limited', message: expect.stringContaining(`${limit} limit`), details: { limit } } });
}

describe('publish rate limit', () => {
  it('counts per API key: the key over its limit gets 429 with Retry-After and its batch is not stored, another key is unaffected', async () => {
    const herald = await app({ HERALD_API_KEYS: 'first-key:publish+read,second-key:publish+read', HERALD_RATE_LIMIT_PUBLISH: '2' });
    const publish = (key: string) => herald.inject({ method: 'POST', url: '/events', payload: event(), headers: bearer(key), remoteAddress: REMOTE });
    expect((await publish('first-key')).statusCode).toBe(201);
    expect((await publish('first-key')).statusCode).toBe(201);

    const batch = await herald.inject({
      method: 'POST', url: '/events/batch', headers: bearer('first-key'), remoteAddress: REMOTE,
      payload: { correlation_id: correlation, events: [event(), event()] },
    });
    expectRateLimited(batch, 'publish');
    expect(batch.json().error.message).toContain('this API key');
    expect(batch.body).not.toContain('first-key');

    // Same address, other key: its own budget.
    expect((await publish('second-key')).statusCode).toBe(201);
    const history = await herald.inject({ url: `/events?correlation_id=${correlation}`, headers: bearer('second-key'), remoteAddress: REMOTE });
    expect(history.json().events).toEqual([]);
    expect(await countEvents(herald)).toBe(3);
  });

  it('counts per client address without keys, and a batch counts once', async () => {
    const herald = await app({ HERALD_RATE_LIMIT_PUBLISH: '1' });
    const batch = (remoteAddress: string) => herald.inject({
      method: 'POST', url: '/events/batch', remoteAddress, payload: { events: [event(), event(), event()] },
    });
    expect((await batch('127.0.0.1')).statusCode).toBe(201);
    const refused = await herald.inject({ method: 'POST', url: '/events', remoteAddress: '127.0.0.1', payload: event() });
    expectRateLimited(refused, 'publish');
    expect(refused.json().error.message).toContain('this client address');
    expect((await batch('127.0.0.2')).statusCode).toBe(201);
    expect(await countEvents(herald)).toBe(6);
  });

  it('is off at 0', async () => {
    const herald = await app({ HERALD_RATE_LIMIT_PUBLISH: '0', HERALD_RATE_LIMIT_READ: '0' });
    const answers = await Promise.all(Array.from({ length: 30 }, () => herald.inject({ method: 'POST', url: '/events', payload: event() })));
    expect(answers.map((r) => r.statusCode)).toEqual(Array(30).fill(201));
    const reads = await Promise.all(Array.from({ length: 30 }, () => herald.inject({ url: '/events?limit=1' })));
    expect(reads.map((r) => r.statusCode)).toEqual(Array(30).fill(200));
  });

  it('counts WebSocket publish messages in the same budget as HTTP publishes', async () => {
    const herald = await app({ HERALD_RATE_LIMIT_PUBLISH: '2' });
    await herald.listen({ port: 0, host: '127.0.0.1' });
    const client = await connect(`ws://127.0.0.1:${(herald.server.address() as { port: number }).port}/events`);
    expect((await herald.inject({ method: 'POST', url: '/events', payload: event() })).statusCode).toBe(201);
    client.send({ type: 'publish', id: 1, event: event() });
    await client.until((f) => f.some((m) => m.id === 1));
    client.send({ type: 'publish', id: 2, event: event({ source: 'over-the-limit' }) });
    await client.until((f) => f.some((m) => m.id === 2));
    expect(client.frames.find((m) => m.id === 1)).toMatchObject({ type: 'published' });
    expect(client.frames.find((m) => m.id === 2)).toMatchObject({ type: 'error', code: 'rate_limited', details: { retry_after_s: expect.any(Number) } });
    expect(await countEvents(herald)).toBe(2);
    client.ws.close();
  });
});

describe('read rate limit', () => {
  it('counts history, reads by id and admin reads together, apart from publishing; probes are never limited', async () => {
    const herald = await app({ HERALD_API_KEYS: 'admin-key:admin', HERALD_RATE_LIMIT_READ: '3', HERALD_RATE_LIMIT_PUBLISH: '100' });
    const get = (url: string) => herald.inject({ url, headers: bearer('admin-key'), remoteAddress: REMOTE });
    const published = await herald.inject({ method: 'POST', url: '/events', payload: event(), headers: bearer('admin-key'), remoteAddress: REMOTE });
    expect((await get('/events')).statusCode).toBe(200);
    expect((await get(`/events/${published.json().event.event_id}`)).statusCode).toBe(200);
    expect((await get('/subscriptions')).statusCode).toBe(200);
    expectRateLimited(await get('/events'), 'read');
    expectRateLimited(await get('/subscriptions'), 'read');

    expect((await herald.inject({ method: 'POST', url: '/events', payload: event(), headers: bearer('admin-key'), remoteAddress: REMOTE })).statusCode).toBe(201);
    for (const url of ['/health', '/api/health', '/ready', '/livez', '/readyz']) {
      for (let i = 0; i < 5; i += 1) expect((await herald.inject({ url, remoteAddress: REMOTE })).statusCode, url).toBe(200);
    }
  });

  it('counts WebSocket upgrades, so a client cannot flood the server with connections', async () => {
    const herald = await app({ HERALD_RATE_LIMIT_READ: '1' });
    await herald.listen({ port: 0, host: '127.0.0.1' });
    const url = `ws://127.0.0.1:${(herald.server.address() as { port: number }).port}/events`;
    const first = await connect(url);
    await expect(connect(url)).rejects.toThrow('upgrade refused: 429');
    first.ws.close();
  });
});
