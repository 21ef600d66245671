import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Surreal } from 'surrealdb';
import { pino } from 'pino';
import { Committer } from '../src/events/committer.js';
import { prepareEvent } from '../src/events/prepare.js';
import { EventRepository } from '../src/store/event-repository.js';
import type { EventRecords } from '../src/store/event-rows.js';
import { migrate } from '../src/store/migrations.js';
import { openConnection } from '../src/store/connection.js';
import { event, testConfig } from './helpers/app.js';

/** A real repository whose first transaction is held back until the test lets it go. */
class HeldRepository extends EventRepository {
  private calls = 0;
  release!: () => void;
  readonly held = new Promise<void>((resolve) => (this.release = resolve));
  secondDone!: () => void;
  readonly second = new Promise<void>((resolve) => (this.secondDone = resolve));

  override async insertBatch(records: EventRecords): Promise<Set<string>> {
    const call = ++this.calls;
    if (call === 1) await this.held;
    const result = await super.insertBatch(records);
    if (call === 2) this.secondDone();
    return result;
  }
}

let db: Surreal;
beforeAll(async () => {
  db = await openConnection(testConfig().db);
  await migrate(db);
});
afterAll(async () => {
  await db.close();
});

describe('overlapping transactions', () => {
  it('answer publishers in seq order and hide a later group until the earlier one commits', async () => {
    const repo = new HeldRepository(db);
    const committer = new Committer(repo, pino({ level: 'silent' }), { maxEvents: 100, windowMs: 0, maxInFlight: 2, seqBlock: 1000 });
    const answered: string[] = [];
    const first = committer.publish([prepareEvent(event({ source: 'first' }), new Date())]).then((r) => {
      answered.push('first');
      return r;
    });
    // Let the first group start (and block) before the second is queued, so they form two transactions.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const second = committer.publish([prepareEvent(event({ source: 'second' }), new Date())]).then((r) => {
      answered.push('second');
      return r;
    });

    await repo.second;
    // The second transaction is committed and visible in the database, but nobody has been told.
    const stored = await repo.scan('seq', 0, 10);
    expect(stored.map((r) => JSON.parse(r.doc).source)).toEqual(['second']);
    const secondSeq = stored[0]!.seq;
    expect(committer.isUnanswered(secondSeq)).toBe(true);
    expect(committer.forwardReadLimit).toBeLessThan(secondSeq);
    expect(committer.watermark).toBeLessThan(secondSeq);
    expect(answered).toEqual([]);

    repo.release();
    const [[a], [b]] = await Promise.all([first, second]);
    expect(answered).toEqual(['first', 'second']);
    expect(a!.event.seq).toBeLessThan(b!.event.seq);
    expect(committer.watermark).toBe(b!.event.seq);
    expect(committer.isUnanswered(b!.event.seq)).toBe(false);
    expect(committer.forwardReadLimit).toBe(Number.POSITIVE_INFINITY);
    await committer.close();
  });
});
