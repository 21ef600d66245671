import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, testApp } from './helpers/app.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

describe('health and readiness', () => {
  it('reports ok with the store up and the last seq, on both paths the original browser page and probes use', async () => {
    await app.inject({ method: 'POST', url: '/events', payload: event() });
    for (const url of ['/health', '/api/health']) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'ok', store: { status: 'up', engine: 'mem' } });
      expect(res.json().last_seq).toBeGreaterThanOrEqual(1);
    }
  });

  it('reports the last seq from the counter without reading any segment', async () => {
    const published = (await app.inject({ method: 'POST', url: '/events', payload: event() })).json().event as { seq: number };
    const reads = app.store.events.reads;
    const spies = (['endingIn', 'byIds', 'covering', 'typeRows', 'refs'] as const).map((m) => vi.spyOn(reads, m));
    try {
      const res = await app.inject({ url: '/health' });
      expect(res.json().last_seq).toBe(published.seq);
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('is ready while the store answers', async () => {
    const res = await app.inject({ url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ready: true });
  });

  it('reports degraded and not ready when the store stops answering', async () => {
    const local = await testApp();
    // Simulate a store outage: the ping path is what both probes use.
    local.store.ping = async () => false;
    const health = await local.inject({ url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ status: 'degraded', store: { status: 'down' } });
    const ready = await local.inject({ url: '/ready' });
    expect(ready.statusCode).toBe(503);
    await local.close();
  });
});
