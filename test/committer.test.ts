import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, testApp, twoInstances } from './helpers/app.js';
import { prepareEvent } from '../src/events/prepare.js';

describe('two app instances writing to one database', () => {
  let replicas: Awaited<ReturnType<typeof twoInstances>>;
  let a: FastifyInstance;
  let b: FastifyInstance;
  beforeAll(async () => {
    replicas = await twoInstances();
    ({ a, b } = replicas);
  });
  afterAll(async () => replicas.close());

  it('never gives two events one seq, and seqs follow commit order', async () => {
    const perInstance = 300;
    const publish = (app: FastifyInstance, i: number) =>
      app.inject({ method: 'POST', url: '/events', payload: event({ payload: { i } }) });
    const results = await Promise.all(
      Array.from({ length: perInstance }, (_, i) => [publish(a, i), publish(b, i)]).flat(),
    );
    expect(results.every((r) => r.statusCode === 201)).toBe(true);
    const seqs = results.map((r) => r.json().event.seq as number);
    expect(new Set(seqs).size).toBe(perInstance * 2);

    // Every acknowledged event is visible from either instance, once, in seq order.
    const page = (await b.inject({ url: '/events?order=asc&limit=1000' })).json() as { events: Array<{ seq: number }> };
    expect(page.events.map((e) => e.seq)).toEqual([...seqs].sort((x, y) => x - y));
    expect((await a.inject({ url: '/health' })).json().last_seq).toBe(Math.max(...seqs));
  });

  it('keeps the one-row-per-event_id rule across instances: one 201, every other answer 200 with the same stored event', async () => {
    for (let round = 0; round < 20; round++) {
      const id = crypto.randomUUID();
      // Each publish carries a different payload, so an answer that is not the stored event shows.
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).inject({ method: 'POST', url: '/events', payload: event({ event_id: id, payload: { i } }) })),
      );
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
      const stored = (await a.inject({ url: `/events/${id}` })).json();
      for (const r of results) expect(r.json().event).toEqual(stored);
      const page = (await b.inject({ url: `/events?after=${stored.seq - 1}&before=${stored.seq + 1}` })).json() as { events: unknown[] };
      expect(page.events).toEqual([stored]);
    }
    const page = (await a.inject({ url: '/events?limit=1000' })).json() as { events: Array<{ event_id: string }> };
    expect(new Set(page.events.map((e) => e.event_id)).size).toBe(page.events.length);
  });
});

describe('shutdown', () => {
  it('commits every publish queued before close, then refuses new ones', async () => {
    const app = await testApp();
    const pending = Array.from({ length: 50 }, (_, i) => app.committer.publish([prepareEvent(event({ payload: { i } }) as never, new Date())]));
    await app.close();
    const results = await Promise.all(pending);
    await expect(app.committer.publish([prepareEvent(event() as never, new Date())])).rejects.toThrow(/shutting down/);
    expect(results.flat().every((r) => r.created)).toBe(true);
    expect(new Set(results.flat().map((r) => r.event.seq)).size).toBe(50);
  });
});

describe('publishing, as the webhook engine reads it to give publishes priority', () => {
  it('is true while a publish is unanswered and for the given time after the last one arrived', async () => {
    const app = await testApp();
    try {
      expect(app.committer.publishing(60_000)).toBe(false);
      const pending = app.committer.publish([prepareEvent(event() as never, new Date())]);
      expect(app.committer.publishing(0)).toBe(true);
      await pending;
      expect(app.committer.publishing(0)).toBe(false);
      expect(app.committer.publishing(60_000)).toBe(true);
      // A failed publish is answered too.
      const failing = app.committer.publish([{ ...prepareEvent(event() as never, new Date()), payload: { bad: 1n } as never }]);
      await expect(failing).rejects.toThrow();
      expect(app.committer.publishing(0)).toBe(false);
    } finally {
      await app.close();
    }
  });
});

describe('crowded: publishes queue up behind the transactions', () => {
  it('is true once many requests join each transaction, and false again when they come one per transaction or stop', async () => {
    const app = await testApp();
    try {
      const one = () => app.committer.publish([prepareEvent(event() as never, new Date())]);
      // One request at a time: each transaction holds one.
      for (let i = 0; i < 20; i++) await one();
      expect(app.committer.crowded(8, 60_000)).toBe(false);
      // 40 requests at once, again and again: after the first transaction the rest wait for the next ones together.
      for (let round = 0; round < 15; round++) await Promise.all(Array.from({ length: 40 }, one));
      expect(app.committer.crowded(8, 60_000)).toBe(true);
      // Nobody published within the last 0 ms: not crowded, whatever the recent transactions held.
      expect(app.committer.crowded(8, 0)).toBe(false);
      for (let i = 0; i < 40; i++) await one();
      expect(app.committer.crowded(8, 60_000)).toBe(false);
    } finally {
      await app.close();
    }
  });
});
