import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { seqOfEventId } from '../src/store/event-ids.js';
import { MAX_BATCH } from '../src/schemas/event.js';
import { SEGMENT_MAX_EVENTS } from '../src/store/segment-rows.js';
import { countEvents, event, twoInstances } from './helpers/app.js';

type Ev = { event_id: string; seq: number; payload: Record<string, unknown> };

describe('event ids on the segment layout', () => {
  let r: Awaited<ReturnType<typeof twoInstances>>;
  beforeAll(async () => {
    r = await twoInstances();
  });
  afterAll(async () => r.close());
  const publish = async (app: FastifyInstance, over: Record<string, unknown> = {}) =>
    app.inject({ method: 'POST', url: '/events', payload: event(over) });
  const batch = async (app: FastifyInstance, events: object[]) => app.inject({ method: 'POST', url: '/events/batch', payload: { events } });

  it('gives server-generated ids that carry their seq, and finds them from either instance', async () => {
    const res = await batch(r.a, Array.from({ length: 50 }, (_, i) => event({ payload: { i } })));
    const events = res.json().events as Ev[];
    for (const e of events) expect(seqOfEventId(e.event_id)).toBe(e.seq);
    for (const e of [events[0], events[17], events[49]] as Ev[]) {
      const fetched = await r.b.inject({ url: `/events/${e.event_id}` });
      expect(fetched.statusCode).toBe(200);
      expect(fetched.json()).toEqual(e);
    }
  });

  it('finds client-supplied ids of any UUID form, and answers 404 for an id whose seq holds another event', async () => {
    const v4 = randomUUID();
    const stored = (await batch(r.a, [event(), event({ event_id: v4 }), event()])).json().events as Ev[];
    expect((await r.b.inject({ url: `/events/${v4}` })).json()).toEqual(stored[1]);
    // A v7 id carrying a stored seq, but not the id stored there.
    const server = stored[0] as Ev;
    const forged = `${server.event_id.slice(0, 19)}${server.event_id[19] === '8' ? '9' : '8'}${server.event_id.slice(20)}`;
    expect(seqOfEventId(forged)).toBe(server.seq);
    expect((await r.b.inject({ url: `/events/${forged}` })).statusCode).toBe(404);
  });

  it.each([
    ['published again', false],
    ['sent back to a replica whose cached counter predates it', true],
  ])('answers a server-generated id %s with the stored event instead of storing it twice', async (_case, staleReplica) => {
    if (staleReplica) await publish(r.b); // b caches the counter as of now
    const first = (await publish(r.a, { payload: { n: 1 } })).json().event as Ev;
    const before = await countEvents(r.a);
    const again = await publish(r.b, { event_id: first.event_id, payload: { n: 2 } });
    expect(again.statusCode).toBe(200);
    expect(again.json().event).toEqual(first);
    expect(await countEvents(r.a)).toBe(before);
  });

  it('stores each client id once when instances race, and commits the rest of a group with fresh seqs', async () => {
    const ids = Array.from({ length: 6 }, () => randomUUID());
    const results = await Promise.all([
      ...ids.map((id) => publish(r.a, { event_id: id })),
      ...ids.map((id) => publish(r.b, { event_id: id })),
      ...Array.from({ length: 6 }, () => publish(r.b)),
    ]);
    expect(results.every((r) => r.statusCode === 200 || r.statusCode === 201)).toBe(true);
    const byId = new Map<string, number[]>();
    for (const r of results) {
      const e = r.json().event as Ev;
      byId.set(e.event_id, [...(byId.get(e.event_id) ?? []), r.statusCode]);
    }
    for (const id of ids) expect(byId.get(id)?.sort()).toEqual([200, 201]);
    const page = (await r.a.inject({ url: '/events?limit=1000' })).json().events as Ev[];
    for (const id of ids) expect(page.filter((e) => e.event_id === id)).toHaveLength(1);
    expect(new Set(page.map((e) => e.seq)).size).toBe(page.length);
  });

  it('keeps the largest batch within one segment', () => {
    expect(MAX_BATCH).toBeLessThanOrEqual(SEGMENT_MAX_EVENTS);
  });
});
