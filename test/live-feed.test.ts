import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Surreal } from 'surrealdb';
import { pino } from 'pino';
import { LiveFeed } from '../src/stream/live-feed.js';
import { EventRepository } from '../src/store/event-repository.js';
import { toRecords } from '../src/store/event-rows.js';
import { migrate } from '../src/store/migrations.js';
import { openConnection } from '../src/store/connection.js';
import { prepareEvent } from '../src/events/prepare.js';
import type { Event } from '../src/schemas/event.js';
import { event, testApp, testConfig } from './helpers/app.js';

let db: Surreal;
let repo: EventRepository;
let seq = 0;
beforeAll(async () => {
  db = await openConnection(testConfig().db);
  await migrate(db);
  repo = new EventRepository(db);
});
afterAll(async () => {
  await db.close();
});

async function commit(n: number): Promise<Event[]> {
  const prev = seq;
  const events = Array.from({ length: n }, (): Event => ({ ...prepareEvent(event(), new Date()), seq: ++seq }));
  await repo.insertBatch(prev, seq, toRecords(events, new Date()));
  return events;
}

describe('LiveFeed', () => {
  it('delivers every commit once, in seq order, and reads commits whose notification never came', async () => {
    const delivered: number[] = [];
    const feed = new LiveFeed(db, repo, pino({ level: 'silent' }), (events) => delivered.push(...events.map((e) => e.seq)), { repairAfterMs: 30 });
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

describe('commit_log purge', () => {
  it('deletes the rows older than the cutoff and none newer', async () => {
    for (let i = 0; i < 25; i++) await commit(1);
    const rows = async () => (await db.query<[number]>('RETURN count(SELECT id FROM commit_log)').collect())[0];
    const before = await rows();
    expect(before).toBeGreaterThanOrEqual(25);
    expect(await repo.purgeCommitLog(new Date(0))).toBe(0);
    expect(await repo.purgeCommitLog(new Date(Date.now() + 60_000))).toBe(before);
    expect(await rows()).toBe(0);
  });
});

describe('commit_log purge loop', () => {
  it('runs every 30 s, and closing the app waits for a purge in progress', async () => {
    // Only intervals are faked, so the app's purge tick can be fired at will; the store runs on real time.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const app = await testApp();
      // A purge that takes a second: long enough that a close not waiting for it reaches the store first.
      let purgeDone = false;
      const purge = vi.spyOn(app.store.events, 'purgeCommitLog').mockImplementation(
        () => new Promise<number>((resolve) => setTimeout(() => {
          purgeDone = true;
          resolve(0);
        }, 1000)),
      );
      let purgeDoneAtStoreClose: boolean | undefined;
      const closeStore = app.store.db.close.bind(app.store.db);
      vi.spyOn(app.store.db, 'close').mockImplementation(() => {
        purgeDoneAtStoreClose = purgeDone;
        return closeStore();
      });
      vi.advanceTimersByTime(30_000);
      await vi.waitFor(() => expect(purge).toHaveBeenCalledTimes(1));
      await app.close();
      expect(purgeDoneAtStoreClose).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
