import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { testApp } from './helpers/app.js';
import { connect, listenWs } from './helpers/ws.js';

let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  app = await testApp();
  base = await listenWs(app);
});
afterAll(async () => {
  await app.close();
});

const nested = (depth: number): object => (depth === 1 ? { source: 'a' } : { $not: nested(depth - 1) });
const conditions = (n: number) => ({ $and: Array.from({ length: n }, (_, i) => ({ 'payload.n': { $ne: i } })) });

/** [what is wrong, the filter, the message every transport answers with]. */
const CASES: Array<[string, unknown, string]> = [
  ['unknown operator', { $or: [{ source: 'a' }, { 'payload.message': { $regex: 'x' } }] }, 'filter.$or[1].payload.message: unknown operator $regex'],
  ['unknown combinator', { $nor: [{ source: 'a' }] }, 'filter.$nor: unknown combinator $nor'],
  ['unknown field', { metadata: 'x' }, 'filter.metadata: unknown field "metadata"'],
  ['payload without a path', { payload: 1 }, 'filter.payload: unknown field "payload"'],
  ['too many path segments', { 'payload.a.b.c.d.e.f.g.h.i': 1 }, 'filter.payload.a.b.c.d.e.f.g.h.i: a payload path has at most 8 segments'],
  ['bad path segment', { 'payload.a..b': 1 }, 'filter.payload.a..b: each payload path segment is'],
  ['array as a value', { source: ['a', 'b'] }, 'filter.source: expected string or number or boolean or null, got an array'],
  ['object without operators', { 'payload.x': { a: 1 } }, 'filter.payload.x: expected a value or operators'],
  ['no operator', { source: {} }, 'filter.source: expected a value or at least one operator'],
  ['$in not an array', { source: { $in: 'a' } }, 'filter.source.$in: expected an array of 1–100 values, got a string'],
  ['$in empty', { source: { $in: [] } }, 'filter.source.$in: expected an array of 1–100 values, got an array of 0'],
  ['$nin too long', { source: { $nin: Array.from({ length: 101 }, (_, i) => `s${i}`) } }, 'filter.source.$nin: expected an array of 1–100 values'],
  ['$in holds an object', { source: { $in: ['a', {}] } }, 'filter.source.$in[1]: expected string or number or boolean or null, got an object'],
  ['$gt on a boolean', { 'payload.n': { $gt: true } }, 'filter.payload.n.$gt: expected string or number, got a boolean'],
  ['$prefix on a number', { source: { $prefix: 1 } }, 'filter.source.$prefix: expected string, got a number'],
  ['$exists not boolean', { target: { $exists: 'yes' } }, 'filter.target.$exists: expected boolean, got a string'],
  ['$and not an array', { $and: { source: 'a' } }, 'filter.$and: expected a non-empty array of filters, got an object'],
  ['$or empty', { $or: [] }, 'filter.$or: expected a non-empty array of filters, got an array'],
  ['$not of a value', { $not: 'a' }, 'filter.$not: expected an object, got a string'],
  ['too deep', nested(7), 'nested deeper than 6 levels'],
  ['too many conditions', conditions(65), 'filter.$and[64].payload.n.$ne: more than 64 conditions'],
  ['string too long', { source: 'x'.repeat(1025) }, 'filter.source: a string operand has at most 1024 characters'],
  ['number too large', { 'payload.n': 2 ** 60 }, 'filter.payload.n: a number operand lies within'],
];

/** Only the query form carries filter text, which can be other than a JSON object. */
const QUERY_CASES: Array<[string, string, string]> = [
  ['not JSON', '{source:', 'filter: not JSON'],
  ['not an object', '[1]', 'filter: expected an object, got an array'],
  ['too long', JSON.stringify({ source: { $in: Array.from({ length: 100 }, () => 'x'.repeat(90)) } }), 'filter: longer than 8192 characters'],
];

const queryCases = [...CASES.map(([name, filter, message]) => [name, JSON.stringify(filter), message] as const), ...QUERY_CASES];

describe('a bad filter gets a 400 naming the problem', () => {
  it.each(queryCases)('GET /events?filter=: %s', async (_name, text, message) => {
    const res = await app.inject({ url: `/events?filter=${encodeURIComponent(text)}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_filter');
    expect(res.json().error.message).toContain(message);
  });

  it.each(queryCases)('GET /events?filter= as Server-Sent Events: %s (before the stream starts)', async (_name, text, message) => {
    const res = await app.inject({ url: `/events?filter=${encodeURIComponent(text)}`, headers: { accept: 'text/event-stream' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json().error).toMatchObject({ code: 'invalid_filter', message: expect.stringContaining(message) });
  });

  it.each(CASES)('POST /subscriptions and PATCH: %s', async (_name, filter, message) => {
    const create = await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'bad', filter } });
    expect(create.statusCode).toBe(400);
    expect(create.json().error).toMatchObject({ code: 'invalid_filter', message: expect.stringContaining(message) });
  });

  it('PATCH /subscriptions/:id refuses a bad filter and keeps the stored one', async () => {
    const ok = await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'good', filter: { source: 'a' } } });
    const id = ok.json().subscription_id as string;
    const [, filter, message] = CASES[0] as [string, unknown, string];
    const res = await app.inject({ method: 'PATCH', url: `/subscriptions/${id}`, payload: { filter } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toBe(message);
    expect((await app.inject({ url: `/subscriptions/${id}` })).json().filter).toEqual({ source: 'a' });
  });
});

describe('a bad filter on the WebSocket', () => {
  it('gets an error frame naming the problem for each bad subscribe message, and no subscription', async () => {
    const client = await connect(`${base}/events`);
    const before = app.stream.router.size;
    // One socket takes HERALD_WS_MAX_BAD_MESSAGES (10) bad messages per window: a fresh one per batch.
    for (let at = 0; at < CASES.length; at += 8) {
      const socket = at === 0 ? client : await connect(`${base}/events`);
      const batch = CASES.slice(at, at + 8);
      batch.forEach(([, filter], i) => socket.send({ type: 'subscribe', id: `s${at + i}`, filter }));
      await socket.until((frames) => frames.length >= batch.length);
      expect(socket.frames).toEqual(batch.map(([, , message], i) => ({
        type: 'error', id: `s${at + i}`, code: 'invalid_filter', message: expect.stringContaining(message), details: expect.objectContaining({ path: expect.any(String) }),
      })));
      socket.ws.close();
    }
    expect(app.stream.router.size).toBe(before);
  });

  it.each(queryCases)('refuses the upgrade with ?filter=: %s', async (_name, text) => {
    await expect(connect(`${base}/events?filter=${encodeURIComponent(text)}`)).rejects.toThrow('upgrade refused: 400');
  });
});
