import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { testApp } from '../helpers/app.js';

// The dashboard's files are served beside the API; no browser needed to check they leave it alone.
describe('dashboard routes', () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app?.close();
  });

  it('serves the page at / with a strict CSP, and its scripts and styles', async () => {
    app = await testApp();
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('<script type="module" src="/js/main.js"></script>');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");

    const script = await app.inject({ url: '/js/main.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect((await app.inject({ url: '/styles.css' })).headers['content-type']).toMatch(/^text\/css/);
  });

  it('serves the built client SDK modules under /client/, not its type declarations', async () => {
    app = await testApp();
    const sdk = await app.inject({ url: '/client/index.js' });
    expect(sdk.statusCode).toBe(200);
    expect(sdk.headers['content-type']).toMatch(/javascript/);
    expect(sdk.body).toContain('HeraldClient');
    expect((await app.inject({ url: '/client/stream.js' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/client/index.d.ts' })).statusCode).toBe(404);
  });

  it('does not shadow the API: /events, health and unknown paths answer as before', async () => {
    app = await testApp();
    const history = await app.inject({ url: '/events' });
    expect(history.statusCode).toBe(200);
    expect(history.json()).toEqual({ events: [], next_cursor: null });
    for (const url of ['/health', '/api/health']) expect((await app.inject({ url })).json()).toMatchObject({ status: 'ok' });
    expect((await app.inject({ url: '/ready' })).json()).toEqual({ ready: true });
    expect((await app.inject({ url: '/subscriptions' })).json()).toEqual({ subscriptions: [] });

    const missing = await app.inject({ url: '/no-such-file.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /no-such-file.js' } });
    expect((await app.inject({ url: '/js/../../package.json' })).statusCode).toBe(404);
  });

  it('needs no API key for the page, while the API still does', async () => {
    app = await testApp({ HERALD_API_KEYS: 'k:read' });
    expect((await app.inject({ url: '/' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/js/api.js' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/events' })).statusCode).toBe(401);
  });

  it('refuses remote clients in protected mode (no keys), like every other route', async () => {
    app = await testApp();
    const remote = await app.inject({ url: '/', remoteAddress: '203.0.113.7' });
    expect(remote.statusCode).toBe(401);
  });
});
