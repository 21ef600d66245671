import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { countEvents, event, testApp, testConfig } from './helpers/app.js';
import { connect } from './helpers/ws.js';

describe('with API keys configured', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ HERALD_API_KEYS: 'pub-key:publish,read-key:read,admin-key:admin,both:publish+read' });
  });
  afterAll(async () => {
    await app.close();
  });
  const publish = (headers: Record<string, string>, remoteAddress = '203.0.113.7') =>
    app.inject({ method: 'POST', url: '/events', payload: event(), headers, remoteAddress });

  it('refuses a missing key with 401 and stores nothing', async () => {
    const before = await countEvents(app);
    const res = await publish({});
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toMatchObject({ code: 'unauthorized' });
    expect(res.json().error.message).toMatch(/Bearer/);
    expect(await countEvents(app)).toBe(before);
  });

  it('refuses an unknown key with 401', async () => {
    const res = await publish({ authorization: 'Bearer nope' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toBe('invalid API key');
  });

  it('refuses a key without the scope with 403 and stores nothing', async () => {
    const before = await countEvents(app);
    const res = await publish({ authorization: 'Bearer read-key' });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'forbidden' });
    expect(res.json().error.message).toContain("'publish'");
    expect(await countEvents(app)).toBe(before);
    const read = await app.inject({ url: '/events', headers: { authorization: 'Bearer pub-key' }, remoteAddress: '203.0.113.7' });
    expect(read.statusCode).toBe(403);
  });

  it('accepts the right scope, from any address', async () => {
    expect((await publish({ authorization: 'Bearer pub-key' })).statusCode).toBe(201);
    expect((await publish({ authorization: 'Bearer both' })).statusCode).toBe(201);
    const read = await app.inject({ url: '/events', headers: { authorization: 'Bearer read-key' }, remoteAddress: '203.0.113.7' });
    expect(read.statusCode).toBe(200);
  });

  it('lets admin do what publish and read can', async () => {
    expect((await publish({ authorization: 'Bearer admin-key' })).statusCode).toBe(201);
    const read = await app.inject({ url: '/events', headers: { authorization: 'bearer admin-key' }, remoteAddress: '203.0.113.7' });
    expect(read.statusCode).toBe(200);
  });

  it('refuses ?token= on HTTP requests with 400 pointing at the header, and writes nothing', async () => {
    const admin = { authorization: 'Bearer admin-key' };
    const created = await app.inject({ method: 'POST', url: '/subscriptions', headers: admin, payload: { subscriber_name: 'keep' }, remoteAddress: '203.0.113.7' });
    const { subscription_id: id, secret } = created.json();
    const subscriptionCount = async () => (await app.inject({ url: '/subscriptions', headers: admin, remoteAddress: '203.0.113.7' })).json().subscriptions.length;
    const before = { events: await countEvents(app), subscriptions: await subscriptionCount() };
    const attempts = [
      { method: 'POST' as const, url: '/subscriptions?token=admin-key', payload: { subscriber_name: 'leaky' } },
      { method: 'POST' as const, url: `/subscriptions/${id}/rotate-secret?token=admin-key` },
      { method: 'POST' as const, url: '/events?token=pub-key', payload: event() },
      { method: 'GET' as const, url: '/events?token=read-key' },
      // The route takes a token on its WebSocket upgrade and its event stream only (test/sse.test.ts).
      { method: 'GET' as const, url: '/events?token=read-key', headers: { authorization: 'Bearer read-key' } },
      { method: 'GET' as const, url: '/events?token=' },
      { method: 'GET' as const, url: '/health?token=read-key' },
    ];
    for (const attempt of attempts) {
      const res = await app.inject({ ...attempt, remoteAddress: '203.0.113.7' });
      expect(res.statusCode, attempt.url).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'token_in_query', message: expect.stringContaining('Authorization: Bearer') });
    }
    expect({ events: await countEvents(app), subscriptions: await subscriptionCount() }).toEqual(before);
    expect(await app.store.subscriptions.signingSecrets(id, Date.now())).toEqual([secret]);
  });

  it('accepts ?token= on the WebSocket upgrade of GET /events', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/events`;
    const socket = await connect(`${url}?token=read-key`);
    socket.ws.close();
    await expect(connect(`${url}?token=wrong`)).rejects.toThrow(/401/);
    await expect(connect(`${url}?token=pub-key`)).rejects.toThrow(/403/);
  });

  it('keeps health and readiness public', async () => {
    for (const url of ['/health', '/api/health', '/ready']) {
      expect((await app.inject({ url, remoteAddress: '203.0.113.7' })).statusCode).toBe(200);
    }
  });
});

describe('with no API keys (protected mode)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('serves loopback clients, v4, v6 and v4-mapped', async () => {
    for (const remoteAddress of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      const res = await app.inject({ method: 'POST', url: '/events', payload: event(), remoteAddress });
      expect(res.statusCode).toBe(201);
    }
  });

  it('refuses everyone else with 401 and says how to configure keys', async () => {
    const before = await countEvents(app);
    for (const remoteAddress of ['10.0.0.5', '192.168.1.2', '::ffff:10.1.2.3', '2001:db8::1']) {
      const res = await app.inject({ method: 'POST', url: '/events', payload: event(), remoteAddress });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.message).toContain('HERALD_API_KEYS');
    }
    expect((await app.inject({ url: '/health', remoteAddress: '10.0.0.5' })).statusCode).toBe(401);
    expect(await countEvents(app)).toBe(before);
  });
});

describe('protected mode and browsers', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('refuses a page from another origin but serves pages from the loopback', async () => {
    const evil = await app.inject({ url: '/events', headers: { origin: 'https://evil.example' } });
    expect(evil.statusCode).toBe(403);
    expect(evil.json().error.message).toContain('HERALD_API_KEYS');
    const lookalike = await app.inject({ url: '/events', headers: { origin: 'http://localhost.evil.example' } });
    expect(lookalike.statusCode).toBe(403);
    for (const origin of ['http://localhost:8080', 'http://127.0.0.1:3000', 'http://[::1]:8080', 'http://dashboard.localhost:3000']) {
      expect((await app.inject({ url: '/events', headers: { origin } })).statusCode).toBe(200);
    }
  });
});

describe('a route that opts in to ?token= for an event stream', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp({ config: testConfig({ HERALD_API_KEYS: 'read-key:read' }), logger: false });
    app.get('/probe', { config: { scope: 'read', tokenInQuery: ['event-stream'] } }, async () => ({ ok: true }));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it('takes the token from an EventSource request only', async () => {
    const stream = await app.inject({ url: '/probe?token=read-key', headers: { accept: 'text/event-stream' }, remoteAddress: '203.0.113.7' });
    expect(stream.statusCode).toBe(200);
    const wrong = await app.inject({ url: '/probe?token=nope', headers: { accept: 'text/event-stream' }, remoteAddress: '203.0.113.7' });
    expect(wrong.statusCode).toBe(401);
    const json = await app.inject({ url: '/probe?token=read-key', remoteAddress: '203.0.113.7' });
    expect(json.statusCode).toBe(400);
  });
});

describe('protected mode and DNS rebinding (the Host header)', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await testApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
  });

  it.each([
    'evil.example', 'evil.example:8080', 'localhost.evil.example', '127.0.0.1.nip.io', 'localhost.', 'evil.example@localhost',
    'localhost/evil', '10.0.0.1', '0.0.0.0:8080', '[::2]', '[::]', '[fe80::1]', '192.168.1.10:80',
  ])('refuses Host %j with 403 saying how to configure keys, storing nothing', async (host) => {
    const before = await countEvents(app);
    const res = await app.inject({ method: 'POST', url: '/events', payload: event(), headers: { host } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('HERALD_API_KEYS') });
    expect(await countEvents(app)).toBe(before);
  });

  it.each([
    'localhost', 'localhost:8080', 'LOCALHOST:80', 'dashboard.localhost:3000', '127.0.0.1', '127.1.2.3:9', '127.1:8080',
    '[::1]', '[::1]:8080', '[::ffff:127.0.0.1]:80',
  ])('serves Host %j', async (host) => {
    expect((await app.inject({ url: '/events?limit=1', headers: { host } })).statusCode).toBe(200);
  });

  it('refuses a rebinding Host on a real socket, for HTTP and for the WebSocket upgrade', async () => {
    const get = (host: string) =>
      new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/events?limit=1', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject).end();
      });
    expect(await get('evil.example')).toBe(403);
    expect(await get(`evil.example:${port}`)).toBe(403);
    expect(await get(`localhost:${port}`)).toBe(200);
    expect(await get(`127.0.0.1:${port}`)).toBe(200);
    await expect(connect(`ws://127.0.0.1:${port}/events`, { host: `evil.example:${port}` })).rejects.toThrow(/403/);
    const local = await connect(`ws://127.0.0.1:${port}/events`, { host: `localhost:${port}` });
    local.ws.close();
  });
});
