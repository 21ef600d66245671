import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, testApp } from './helpers/app.js';
import { readHistory } from '../src/store/event-history.js';
import { and, test } from '../src/events/filter.js';
import { EventRepository } from '../src/store/event-repository.js';
import { SEGMENT_SPLIT_EVENTS, SEQ_MAX } from '../src/store/segment-rows.js';

interface Ev { event_type: string; seq: number; workflow_id: string | null }

// Segments of many sizes (1..61 events, one per batch), so windows start, end and page inside segments.
const TYPES = ['a.one', 'a.two', 'b', 'c', 'rare'];
const workflow = randomUUID();
let app: FastifyInstance;
const all: Ev[] = [];
beforeAll(async () => {
  app = await testApp();
  for (let batch = 0, i = 0; batch < 24; batch++) {
    const size = 1 + ((batch * 37) % 61);
    const events = Array.from({ length: size }, () => {
      i += 1;
      return event({ event_type: i % 101 === 0 ? 'rare' : TYPES[(i * 7) % 4], workflow_id: i % 5 === 0 ? workflow : null, payload: { i } });
    });
    const res = await app.inject({ method: 'POST', url: '/events/batch', payload: { events } });
    expect(res.statusCode).toBe(201);
    all.push(...(res.json().events as Ev[]));
  }
  // One batch larger than a segment row holds: one transaction, several rows.
  const big = Array.from({ length: 2 * SEGMENT_SPLIT_EVENTS + 44 }, (_, k) =>
    event({ event_type: TYPES[k % 4], workflow_id: k % 5 === 0 ? workflow : null, event_id: k % 50 === 0 ? randomUUID() : undefined, payload: { big: k } }));
  const res = await app.inject({ method: 'POST', url: '/events/batch', payload: { events: big } });
  expect(res.statusCode).toBe(201);
  all.push(...(res.json().events as Ev[]));
});
afterAll(async () => {
  await app.close();
});

async function readAll(query: string): Promise<number[]> {
  const params = new URLSearchParams(query);
  const desc = params.get('order') !== 'asc';
  const seqs: number[] = [];
  for (let pages = 0; pages < 2000; pages++) {
    const res = await app.inject({ url: `/events?${params}` });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as { events: Ev[]; next_cursor: string | null };
    seqs.push(...page.events.map((e) => e.seq));
    if (page.next_cursor === null) return seqs;
    params.set(desc ? 'before' : 'after', page.next_cursor);
  }
  throw new Error('no end after 2000 pages');
}

describe('history over segments of many sizes', () => {
  const cases: Array<[string, (e: Ev) => boolean]> = [
    ['', () => true],
    ['types=b', (e) => e.event_type === 'b'],
    ['types=rare', (e) => e.event_type === 'rare'],
    ['types=a.*', (e) => e.event_type.startsWith('a.')],
    ['types=rare,c', (e) => e.event_type === 'rare' || e.event_type === 'c'],
    [`workflow_id=${workflow}`, (e) => e.workflow_id === workflow],
    [`workflow_id=${workflow}&types=b`, (e) => e.workflow_id === workflow && e.event_type === 'b'],
  ];
  for (const [query, predicate] of cases) {
    for (const limit of [6, 100]) {
      it(`pages ${query || 'everything'} with limit ${limit} in both orders, from any cursor`, async () => {
        const expected = all.filter(predicate).map((e) => e.seq);
        expect(await readAll(`${query}&limit=${limit}&order=asc`)).toEqual(expected);
        expect(await readAll(`${query}&limit=${limit}`)).toEqual([...expected].reverse());
        // Cursors in the middle of segments.
        for (const cursor of [1, 50, 333]) {
          expect(await readAll(`${query}&limit=${limit}&order=asc&after=${cursor}`)).toEqual(expected.filter((s) => s > cursor));
          expect(await readAll(`${query}&limit=${limit}&before=${cursor}`)).toEqual(expected.filter((s) => s < cursor).reverse());
        }
      });
    }
  }
});

describe('an id filter', () => {
  it('reads ref rows in proportion to the page, not to how many events carry the id', async () => {
    const repo = new EventRepository(app.store.db);
    const refs = repo.reads.refs.bind(repo.reads);
    let rowsRead = 0;
    repo.reads.refs = async (...args) => {
      const rows = await refs(...args);
      rowsRead += rows.length;
      return rows;
    };
    const carrying = all.filter((e) => e.workflow_id === workflow).map((e) => e.seq);
    const limit = 6;
    for (const order of ['asc', 'desc'] as const) {
      rowsRead = 0;
      const page = await readHistory(repo, { selection: { types: [], filter: and(test('workflow_id', '$eq', workflow)) }, order, after: 0, before: SEQ_MAX, limit });
      const expected = order === 'asc' ? carrying.slice(0, limit) : carrying.slice(-limit).reverse();
      expect(page.events.map((e) => e.seq)).toEqual(expected);
      expect(rowsRead).toBeLessThanOrEqual(4 * (limit + 1));
    }
    expect(carrying.length).toBeGreaterThan(16 * (limit + 1));
  });
});

describe('segment documents', () => {
  it('are parsed only as a page needs them', async () => {
    const repo = new EventRepository(app.store.db);
    const [newest] = await repo.reads.endingIn(0, SEQ_MAX).then((rows) => rows.slice(-1));
    const parsed = vi.spyOn(JSON, 'parse');
    try {
      const page = await readHistory(repo, { selection: { types: [], filter: and() }, order: 'desc', after: 0, before: SEQ_MAX, limit: 6 });
      expect(page.events.map((e) => e.seq)).toEqual(all.slice(-6).reverse().map((e) => e.seq));
      const chars = parsed.mock.calls.reduce((n, [text]) => n + String(text).length, 0);
      expect(chars).toBeLessThan((newest?.docs.length ?? 0) / 4);
    } finally {
      parsed.mockRestore();
    }
  });

  it('of a batch larger than a row holds are consecutive rows of at most SEGMENT_SPLIT_EVENTS that tile its seqs', async () => {
    const repo = new EventRepository(app.store.db);
    const bigFirst = (all.at(-(2 * SEGMENT_SPLIT_EVENTS + 44)) as Ev).seq;
    const rows = (await repo.reads.endingIn(bigFirst - 1, SEQ_MAX)).map((r) => ({ first: r.first, last: r.last }));
    expect(rows).toEqual([
      { first: bigFirst, last: bigFirst + SEGMENT_SPLIT_EVENTS - 1 },
      { first: bigFirst + SEGMENT_SPLIT_EVENTS, last: bigFirst + 2 * SEGMENT_SPLIT_EVENTS - 1 },
      { first: bigFirst + 2 * SEGMENT_SPLIT_EVENTS, last: bigFirst + 2 * SEGMENT_SPLIT_EVENTS + 43 },
    ]);
    // Every event of it is found by id, the client's ids through their key rows, and by history.
    for (const e of all.slice(-(2 * SEGMENT_SPLIT_EVENTS + 44)).filter((_, k) => k % 37 === 0 || k % 50 === 0)) {
      const found = await app.inject({ url: `/events/${(e as Ev & { event_id: string }).event_id}` });
      expect(found.json().seq).toBe(e.seq);
    }
  });

  it('written without offsets (Herald 0.2.0) read the same', async () => {
    await app.store.db.query('UPDATE segment UNSET offs RETURN NONE').collect();
    const expected = all.filter((e) => e.event_type === 'b').map((e) => e.seq);
    expect(await readAll('types=b&limit=6&order=asc&after=50')).toEqual(expected.filter((s) => s > 50));
    expect(await readAll('limit=100')).toEqual(all.map((e) => e.seq).reverse());
  });
});
