import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { countEvents, event, testApp } from './helpers/app.js';

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

  it('accepts the key as a token query parameter (browser WebSockets cannot set headers)', async () => {
    const res = await app.inject({ url: '/events?token=read-key', remoteAddress: '203.0.113.7' });
    expect(res.statusCode).toBe(200);
    const bad = await app.inject({ url: '/events?token=wrong', remoteAddress: '203.0.113.7' });
    expect(bad.statusCode).toBe(401);
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
    for (const origin of ['http://localhost:8080', 'http://127.0.0.1:3000', 'http://[::1]:8080']) {
      expect((await app.inject({ url: '/events', headers: { origin } })).statusCode).toBe(200);
    }
  });
});
