import { describe, expect, it, vi } from 'vitest';
import { appsClosedAfterEach, event } from './helpers/app.js';
import { MAX_FEED_LAG, readiness } from '../src/lib/readiness.js';

const app = appsClosedAfterEach();

describe('readiness policy', () => {
  it('is ready only with the store up, the feed within the bound, and not closing', () => {
    expect(readiness({ closing: false, storeUp: true, feedLag: 0 })).toEqual({ ready: true });
    expect(readiness({ closing: false, storeUp: true, feedLag: MAX_FEED_LAG })).toEqual({ ready: true });
    expect(readiness({ closing: false, storeUp: true, feedLag: MAX_FEED_LAG + 1 })).toMatchObject({ ready: false, reason: expect.stringContaining('live feed') });
    expect(readiness({ closing: false, storeUp: false, feedLag: 0 })).toEqual({ ready: false, reason: 'store not answering' });
    expect(readiness({ closing: true, storeUp: true, feedLag: 0 })).toEqual({ ready: false, reason: 'shutting down' });
  });
});

describe('GET /livez and GET /readyz', () => {
  it('are 200 on a working Herald, with the feed caught up', async () => {
    const herald = await app();
    await herald.inject({ method: 'POST', url: '/events', payload: event() });
    expect((await herald.inject({ url: '/livez' })).json()).toEqual({ live: true });
    await vi.waitFor(async () => {
      const ready = await herald.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ ready: true, feed_lag: 0 });
    });
  });

  it('need no API key', async () => {
    const herald = await app({ HERALD_API_KEYS: 'k:read' });
    for (const url of ['/livez', '/readyz']) {
      expect((await herald.inject({ url, remoteAddress: '203.0.113.7' })).statusCode, url).toBe(200);
    }
  });

  it('livez stays 200 without asking the store; readyz is 503 when the store does not answer', async () => {
    const herald = await app();
    const ping = vi.fn(async () => false);
    herald.store.ping = ping;
    expect((await herald.inject({ url: '/livez' })).statusCode).toBe(200);
    expect(ping).not.toHaveBeenCalled();
    const ready = await herald.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ ready: false, reason: 'store not answering' });
  });

  it('readyz is 503 while the live feed is behind the seq counter, and 200 again once it caught up', async () => {
    const herald = await app();
    // Commits the feed has not seen: the counter moves past seqs no notification will announce. The feed
    // reads such a gap from the store only after it stood still for a second (live-feed.ts), so the first
    // probe sees it behind.
    const jump = MAX_FEED_LAG + 1000;
    await herald.store.db.query('UPSERT herald_seq:event SET value = (value ?? 0) + $jump', { jump }).collect();
    const behind = await herald.inject({ url: '/readyz' });
    expect(behind.statusCode).toBe(503);
    expect(behind.json()).toMatchObject({ ready: false, reason: expect.stringContaining('live feed'), feed_lag: jump });
    await vi.waitFor(async () => expect((await herald.inject({ url: '/readyz' })).statusCode).toBe(200), { timeout: 15_000 });
  });
});
