import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { tempRocksDb, testApp } from './helpers/app.js';
import { connect } from './helpers/ws.js';
import {
  UNKNOWN_ID, expectedHistory, expectedReplay, isExpired, orderOf, publishes, queries, queryString, sentinelFor, storedForm, streamResumes,
  type EventInput, type Filter, type Publish, type Query, type StoredEvent,
} from './helpers/history-model.js';

/**
 * Random publishes, then random reads over every read path, compared with a naive model of docs/design.md.
 * It talks HTTP and WebSocket only, so it holds for any storage layout. Each case costs a whole app, so a
 * failure is not shrunk: its message names the failing request, and fast-check prints the seed and path to
 * replay it with HISTORY_PROPERTY_SEED=<seed> HISTORY_PROPERTY_PATH=<path>.
 */
const SEED = Number(process.env.HISTORY_PROPERTY_SEED ?? 20261130);
const RUNS = Number(process.env.HISTORY_PROPERTY_RUNS ?? 5);
const PATH = process.env.HISTORY_PROPERTY_PATH;

/** Publishes in order, checks every answer against the model, and returns what is stored, by event_id. */
async function publishAll(app: FastifyInstance, steps: Publish[]): Promise<Map<string, StoredEvent>> {
  const stored = new Map<string, StoredEvent>();
  const check = (input: EventInput, answer: StoredEvent, batchCorrelationId?: string) => {
    const known = input.event_id === undefined ? undefined : stored.get(input.event_id);
    if (known) {
      // A known event_id answers the stored event, unchanged.
      expect(answer).toEqual(known);
      return false;
    }
    expect(answer).toMatchObject(storedForm(input, batchCorrelationId));
    if (input.event_id !== undefined) expect(answer.event_id).toBe(input.event_id);
    stored.set(answer.event_id, answer);
    return true;
  };
  for (const step of steps) {
    if (step.kind === 'one') {
      const res = await app.inject({ method: 'POST', url: '/events', payload: step.event });
      const created = check(step.event, res.json().event as StoredEvent);
      expect(res.statusCode).toBe(created ? 201 : 200);
      continue;
    }
    const res = await app.inject({ method: 'POST', url: '/events/batch', payload: { events: step.events, correlation_id: step.correlation_id } });
    const ids = step.events.flatMap((e) => (e.event_id === undefined ? [] : [e.event_id]));
    if (new Set(ids).size < ids.length) {
      // A batch repeating an id within itself is refused whole and stores nothing.
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('duplicate_event_id');
      continue;
    }
    const answers = res.json().events as StoredEvent[];
    expect(answers).toHaveLength(step.events.length);
    const created = step.events.map((e, i) => check(e, answers[i] as StoredEvent, step.correlation_id));
    expect(res.statusCode).toBe(created.some(Boolean) ? 201 : 200);
  }
  return stored;
}

/** Reads every page of `q` through next_cursor and returns the events in the order received. */
async function readAllPages(app: FastifyInstance, q: Query): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let query = q;
  for (let pages = 0; ; pages++) {
    const res = await app.inject({ url: `/events?${queryString(query)}` });
    expect(res.statusCode, `GET /events?${queryString(query)}: ${res.body}`).toBe(200);
    const page = res.json() as { events: StoredEvent[]; next_cursor: string | null };
    expect(page.events.length).toBeLessThanOrEqual(q.limit);
    events.push(...page.events);
    if (page.next_cursor === null) return events;
    expect(pages, 'paging does not end').toBeLessThan(2000);
    // The cursor continues in the page's direction: as `before` newest-first, as `after` forward.
    query = orderOf(q) === 'asc' ? { ...query, after: Number(page.next_cursor) } : { ...query, before: Number(page.next_cursor) };
  }
}

async function checkHistory(app: FastifyInstance, stored: StoredEvent[], qs: Query[]): Promise<void> {
  for (const q of qs) {
    const expected = expectedHistory(stored, q, Date.now()).map((e) => e.seq);
    const got = (await readAllPages(app, q)).map((e) => e.seq);
    expect(got, `GET /events?${queryString(q)}`).toEqual(expected);
  }
  // Whole events, not only seqs: the newest-first listing of everything returns them as stored.
  const all = await readAllPages(app, { limit: 1000 });
  expect(all).toEqual(expectedHistory(stored, { limit: 1000 }, Date.now()));
}

async function checkLookups(app: FastifyInstance, stored: StoredEvent[]): Promise<void> {
  for (const e of stored) {
    const res = await app.inject({ url: `/events/${e.event_id}` });
    if (isExpired(e, Date.now())) {
      expect(res.statusCode, `expired ${e.event_id}`).toBe(404);
    } else {
      expect(res.statusCode, `GET /events/${e.event_id}`).toBe(200);
      expect(res.json()).toEqual(e);
    }
  }
  expect((await app.inject({ url: `/events/${UNKNOWN_ID}` })).statusCode).toBe(404);
}

/**
 * Each resume replays what the model says, in seq order, with nothing extra: a sentinel matching the
 * filter is published after the replay, and must be the next frame.
 */
async function checkResumes(app: FastifyInstance, url: string, stored: StoredEvent[], resumes: Array<{ filter: Filter; afterPercent: number }>): Promise<void> {
  for (const { filter, afterPercent } of resumes) {
    // Any seq up to the newest one Herald answered; a cursor above the counter would be `cursor_ahead`.
    const after = Math.floor((afterPercent / 100) * Math.max(0, ...stored.map((e) => e.seq)));
    const expected = expectedReplay(stored, filter, after, Date.now());
    const qs = queryString({ ...filter, after });
    const client = await connect(`${url}/events?${qs}`);
    try {
      await client.until((frames) => frames.length >= expected.length);
      const res = await app.inject({ method: 'POST', url: '/events', payload: sentinelFor(filter) });
      expect(res.statusCode).toBe(201);
      const sentinel = res.json().event as StoredEvent;
      stored.push(sentinel);
      await client.until((frames) => frames.some((f) => f.event_id === sentinel.event_id));
      expect(client.frames.map((f) => f.seq), `WS /events?${qs}`).toEqual([...expected, sentinel].map((e) => e.seq));
      expect(client.frames.slice(0, expected.length)).toEqual(expected);
    } finally {
      client.ws.close();
    }
  }
}

describe('history against a model of what was published', () => {
  it('agrees on every read path: GET /events (all filters, cursors, pages), GET /events/:id and WebSocket resume', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), publishes, queries, streamResumes, async (onRocksDb, steps, qs, resumes) => {
        // Both engines: mem:// is what most tests use, RocksDB is what Herald runs on.
        const store = onRocksDb ? await tempRocksDb() : undefined;
        const app = await testApp({}, store?.db);
        try {
          await app.listen({ port: 0, host: '127.0.0.1' });
          const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}`;
          const stored = [...(await publishAll(app, steps)).values()];
          await checkHistory(app, stored, qs);
          await checkLookups(app, stored);
          await checkResumes(app, url, stored, resumes);
        } finally {
          await app.close();
          await store?.dispose();
        }
      }),
      { numRuns: RUNS, seed: SEED, ...(PATH !== undefined && { path: PATH }), endOnFailure: true },
    );
  }, 120_000);
});
