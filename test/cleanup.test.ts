import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, testApp } from './helpers/app.js';
import { purgeOnce } from '../src/events/cleanup.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

const publish = async (over: Record<string, unknown> = {}) =>
  (await app.inject({ method: 'POST', url: '/events', payload: event(over) })).json().event as { event_id: string; seq: number };
const exists = async (id: string) => (await app.store.events.getById(id)) !== undefined;

describe('cleanup', () => {
  it('purges expired events, keeps the rest, and removes their id lookups', async () => {
    const soon = new Date(Date.now() + 60_000).toISOString();
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const workflow = crypto.randomUUID();
    const expiring = await publish({ expires_at: soon, workflow_id: workflow });
    const lasting = await publish({ expires_at: later, workflow_id: workflow });
    const forever = await publish({ workflow_id: workflow });

    const report = await purgeOnce(app.store.events, { retentionMs: 0, retentionMaxEvents: 0 }, new Date(Date.now() + 120_000));
    expect(report.expired).toBe(1);
    expect(await exists(expiring.event_id)).toBe(false);
    expect(await exists(lasting.event_id)).toBe(true);
    expect(await exists(forever.event_id)).toBe(true);
    expect((await app.store.events.reads.refs('workflow_id', workflow, 0, Number.MAX_SAFE_INTEGER)).map((r) => r.seq))
      .toEqual([lasting.seq, forever.seq]);
  });

  it('keeps at most HERALD_RETENTION_MAX_EVENTS newest events', async () => {
    const local = await testApp();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await local.inject({ method: 'POST', url: '/events', payload: event() })).json().event.event_id);
    const report = await purgeOnce(local.store.events, { retentionMs: 0, retentionMaxEvents: 10 }, new Date());
    expect(report.retained).toBe(20);
    const left = (await local.inject({ url: '/events?limit=100' })).json().events.map((e: { event_id: string }) => e.event_id);
    expect(left).toEqual(ids.slice(20).reverse());
    await local.close();
  });

  it('deletes events received longer ago than HERALD_RETENTION', async () => {
    const local = await testApp();
    for (let i = 0; i < 5; i++) await local.inject({ method: 'POST', url: '/events', payload: event() });
    const hourLater = new Date(Date.now() + 3_600_000);
    const kept = await purgeOnce(local.store.events, { retentionMs: 2 * 3_600_000, retentionMaxEvents: 0 }, hourLater);
    expect(kept.retained).toBe(0);
    const gone = await purgeOnce(local.store.events, { retentionMs: 30 * 60_000, retentionMaxEvents: 0 }, hourLater);
    expect(gone.retained).toBe(5);
    expect(await local.store.events.count()).toBe(0);
    await local.close();
  });
});
