import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Surreal } from 'surrealdb';
import { pino } from 'pino';
import { LiveFeed } from '../src/stream/live-feed.js';
import { EventRepository } from '../src/store/event-repository.js';
import { serverEventId } from '../src/store/event-ids.js';
import { toSegmentRecords } from '../src/store/segment-records.js';
import { migrate } from '../src/store/migrations.js';
import { closeConnection, openConnection } from '../src/store/connection.js';
import { prepareEvent } from '../src/events/prepare.js';
import type { Event } from '../src/schemas/event.js';
import { event, testConfig, twoInstances } from './helpers/app.js';
import { connect } from './helpers/ws.js';

let db: Surreal;
let repo: EventRepository;
let seq = 0;
beforeAll(async () => {
  db = await openConnection(testConfig().db);
  await migrate(db);
  repo = new EventRepository(db);
});
afterAll(async () => {
  await closeConnection(db);
});

async function commit(n: number): Promise<Event[]> {
  const prev = seq;
  const events = Array.from({ length: n }, (): Event => ({ ...prepareEvent(event(), new Date()), seq: ++seq, event_id: serverEventId(seq, Date.now()) }));
  await repo.commitSegments(prev, [toSegmentRecords(events, new Set(), Date.now())]);
  return events;
}

describe('LiveFeed', () => {
  it('delivers every commit once, in seq order, and reads commits whose notification never came', async () => {
    const delivered: number[] = [];
    const feed = new LiveFeed(db, repo, pino({ level: 'silent' }), (events) => delivered.push(...events.map((e) => e.seq)), { pollMs: 10, liveQuery: true, repairAfterMs: 30 });
    await feed.start();
    const first = await commit(3);
    await vi.waitFor(() => expect(delivered).toHaveLength(3), { timeout: 10_000, interval: 10 });
    // Lose the LIVE query (as across a reconnect): later commits only show in the counter.
    await (feed as unknown as { live: { kill(): Promise<void> } }).live.kill();
    const lost = [...(await commit(2)), ...(await commit(4))];
    await vi.waitFor(() => expect(delivered).toHaveLength(9), { timeout: 5000, interval: 10 });
    expect(delivered).toEqual([...first, ...lost].map((e) => e.seq));
    expect(feed.position).toBe(seq);
    await feed.stop();
  });
});

describe('LiveFeed under a busy process', () => {
  it('waits for late notifications instead of reading their commits from the store', async () => {
    // Every notification arrives 700 ms late (commit → notification was measured up to ~400 ms under load).
    const live = db.live.bind(db);
    const spy = vi.spyOn(db, 'live').mockImplementation(((table: Parameters<typeof db.live>[0]) =>
      live(table).then((subscription) => {
        const subscribe = subscription.subscribe.bind(subscription);
        subscription.subscribe = (listener) => subscribe((message) => void setTimeout(() => listener(message), 700));
        return subscription;
      })) as typeof db.live);
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const delivered: number[] = [];
    const feed = new LiveFeed(db, repo, log, (events) => delivered.push(...events.map((e) => e.seq)));
    try {
      await feed.start();
      const committed: Event[] = [];
      for (let i = 0; i < 5; i++) committed.push(...(await commit(2)));
      await vi.waitFor(() => expect(delivered).toEqual(committed.map((e) => e.seq)), { timeout: 5000 });
      expect(warnings).toEqual([]);
      expect(feed.stats).toEqual({ repairs: 0, repairedEvents: 0, lateNotifications: 0, repairErrors: 0 });
    } finally {
      spy.mockRestore();
      await feed.stop();
    }
  });
});

describe('a replica whose LIVE notifications never arrive (HERALD_LIVE_QUERY=off)', () => {
  let replicas: Awaited<ReturnType<typeof twoInstances>>;
  let writer: FastifyInstance;
  let tail: FastifyInstance;
  beforeAll(async () => {
    replicas = await twoInstances({ HERALD_LIVE_QUERY: 'off', HERALD_FEED_POLL_INTERVAL: '20ms' });
    ({ a: writer, b: tail } = replicas);
    await tail.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => replicas.close());

  it('streams every event published through another instance, in order, by tailing the store', async () => {
    const live = vi.spyOn(replicas.db, 'live');
    const { port } = tail.server.address() as { port: number };
    const client = await connect(`ws://127.0.0.1:${port}/events?types=task_progress`);
    await vi.waitFor(() => expect(tail.stream.router.size).toBe(1), { timeout: 10_000, interval: 10 });
    const published: number[] = [];
    // Single publishes and batches, so the tail reads segments of several sizes.
    for (let i = 0; i < 20; i++) {
      const res = i % 4 === 0
        ? await writer.inject({ method: 'POST', url: '/events/batch', payload: { events: [event({ payload: { i } }), event({ payload: { i, j: 1 } })] } })
        : await writer.inject({ method: 'POST', url: '/events', payload: event({ payload: { i } }) });
      const body = res.json() as { event?: { seq: number }; events?: Array<{ seq: number }> };
      published.push(...(body.events ?? [body.event as { seq: number }]).map((e) => e.seq));
    }
    const seqs = () => client.frames.map((f) => f.seq as number);
    await client.until(() => seqs().length >= published.length);
    expect(seqs()).toEqual(published);
    expect(live).not.toHaveBeenCalled();
    expect(tail.stream.feed.stats.repairs).toBe(0);
    client.ws.close();
  });
});
