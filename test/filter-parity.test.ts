import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Event } from '../src/schemas/event.js';
import type { Subscription } from '../src/schemas/subscription.js';
import { compileFilter, parseFilter } from '../src/events/filter.js';
import { matcherOf } from '../src/webhooks/subscription-index.js';
import { testApp } from './helpers/app.js';
import { connect, listenWs, type Client } from './helpers/ws.js';
import { openSse, type SseClient } from './helpers/sse.js';

/**
 * Filter parity: random events and random filters give the same matches on every transport, and the same
 * as a naive reference evaluator of docs/filters.md written here, independently of src/events/filter*.ts.
 * Each transport is one adapter in TRANSPORTS.
 */
const SEED = Number(process.env.FILTER_PARITY_SEED ?? 20261201);
const FILTERS = Number(process.env.FILTER_PARITY_RUNS ?? 24);
const EVENTS = 40;

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Filter = Record<string, Json>;
interface Case { types: string[]; filter: Filter }

// ---- the reference evaluator --------------------------------------------------------------------------

function valueAt(event: Event, path: string): unknown {
  if (!path.startsWith('payload.')) return (event as unknown as Record<string, unknown>)[path];
  let v: unknown = event.payload;
  for (const key of path.slice('payload.'.length).split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function operatorHolds(op: string, v: unknown, x: Json): boolean {
  const comparable = (typeof v === 'number' && typeof x === 'number') || (typeof v === 'string' && typeof x === 'string');
  switch (op) {
    case '$eq': return v === x;
    case '$ne': return v !== x;
    case '$in': return (x as Json[]).some((y) => y === v);
    case '$nin': return !(x as Json[]).some((y) => y === v);
    case '$gt': return comparable && (v as number) > (x as number);
    case '$gte': return comparable && (v as number) >= (x as number);
    case '$lt': return comparable && (v as number) < (x as number);
    case '$lte': return comparable && (v as number) <= (x as number);
    case '$exists': return (v !== undefined && v !== null) === x;
    case '$prefix': return typeof v === 'string' && v.startsWith(x as string);
    default: throw new Error(`reference: ${op}`);
  }
}

function reference(filter: Filter, event: Event): boolean {
  return Object.entries(filter).every(([key, cond]) => {
    if (key === '$and') return (cond as Filter[]).every((f) => reference(f, event));
    if (key === '$or') return (cond as Filter[]).some((f) => reference(f, event));
    if (key === '$not') return !reference(cond as Filter, event);
    const v = valueAt(event, key);
    if (typeof cond === 'object' && cond !== null && !Array.isArray(cond)) return Object.entries(cond).every(([op, x]) => operatorHolds(op, v, x));
    return v === cond;
  });
}

const namesTarget = (filter: Json): boolean =>
  typeof filter === 'object' && filter !== null && Object.entries(filter).some(([k, v]) => k === 'target' || namesTarget(v));
const typeOk = (types: string[], event: Event) => types.length === 0 || types.some((t) => (t.endsWith('*') ? event.event_type.startsWith(t.slice(0, -1)) : t === event.event_type));
/** History returns what the filter matches; a live subscription gets a targeted event only if it names `target`. */
const expected = (c: Case, events: Event[], live: boolean) =>
  events.filter((e) => typeOk(c.types, e) && reference(c.filter, e) && (!live || e.target === null || namesTarget(c.filter))).map((e) => e.seq);

// ---- random events and filters ------------------------------------------------------------------------

const FIELD_VALUES: Record<string, Json[]> = {
  source: ['a', 'b', 'c', 'ab'],
  target: ['t1', 't2', null],
  priority: ['low', 'normal', 'high', 'critical'],
  event_type: ['task_started', 'task_progress', 'custom'],
  'payload.n': [0, 5, 50, 50.5, -3, '5', '50', true, null],
  'payload.message': ['urgent: disk', 'urgent', 'later', '', 'URGENT', 5, null],
  'payload.flag': [true, false, 'true', 1, null],
  'payload.nested.x': [1, 2, '1', 'x', null],
  'payload.missing': [1, 'a'],
};
const FIELDS = Object.keys(FIELD_VALUES);

const payload = fc.record(
  {
    n: fc.constantFrom(...FIELD_VALUES['payload.n'] as Json[]),
    message: fc.constantFrom(...FIELD_VALUES['payload.message'] as Json[]),
    flag: fc.constantFrom(...FIELD_VALUES['payload.flag'] as Json[]),
    nested: fc.oneof(fc.record({ x: fc.constantFrom(...FIELD_VALUES['payload.nested.x'] as Json[]) }, { requiredKeys: [] }), fc.constant('flat' as Json)),
  },
  { requiredKeys: [] },
);
const eventInput = fc.record({
  event_type: fc.constantFrom('task_started', 'task_progress', 'custom'),
  source: fc.constantFrom('a', 'b', 'c', 'ab'),
  target: fc.constantFrom(null, null, 't1'),
  priority: fc.constantFrom('low', 'normal', 'high', 'critical'),
  payload,
});

const condition = fc.constantFrom(...FIELDS).chain((field) => {
  const value = fc.constantFrom(...(FIELD_VALUES[field] as Json[]));
  const ordered = value.filter((v) => typeof v === 'number' || typeof v === 'string');
  const op = fc.oneof(
    value,
    value.map(($eq) => ({ $eq })), value.map(($ne) => ({ $ne })),
    fc.array(value, { minLength: 1, maxLength: 3 }).map(($in) => ({ $in })),
    fc.array(value, { minLength: 1, maxLength: 3 }).map(($nin) => ({ $nin })),
    ordered.map(($gt) => ({ $gt })), ordered.map(($gte) => ({ $gte })), ordered.map(($lt) => ({ $lt })), ordered.map(($lte) => ({ $lte })),
    fc.boolean().map(($exists) => ({ $exists })),
    fc.constantFrom('urg', 'a', '', 'task_').map(($prefix) => ({ $prefix })),
  );
  return op.map((cond) => ({ [field]: cond }) as Filter);
});
const { filter } = fc.letrec<{ filter: Filter }>((tie) => ({
  filter: fc.oneof(
    // Five levels at most (four combinators deep): the SSE adapter nests each filter in one more $or, and the
    // limit is six (test/filter-errors.test.ts covers the limit itself).
    { depthSize: 'small', withCrossShrink: true, maxDepth: 4 },
    fc.array(condition, { minLength: 0, maxLength: 3 }).map((cs) => Object.assign({}, ...cs) as Filter),
    fc.array(tie('filter'), { minLength: 1, maxLength: 3 }).map(($and) => ({ $and }) as Filter),
    fc.array(tie('filter'), { minLength: 1, maxLength: 3 }).map(($or) => ({ $or }) as Filter),
    tie('filter').map(($not) => ({ $not }) as Filter),
  ),
}));
const caseArb: fc.Arbitrary<Case> = fc.record({
  types: fc.oneof(fc.constant([] as string[]), fc.subarray(['task_started', 'task_*', 'custom'], { minLength: 1 })),
  filter,
});

// ---- one adapter per transport ------------------------------------------------------------------------

interface Transport {
  name: string;
  live: boolean;
  /** Called before the events are published (a live transport subscribes here). */
  subscribe?(cases: Case[]): Promise<void>;
  matches(c: Case, index: number, events: Event[]): Promise<number[]>;
}

let app: FastifyInstance;
let base: string;
const SENTINEL = 'parity.end';

const predicate: Transport = {
  name: 'compiled predicate',
  live: false,
  matches: async (c, _i, events) => events.filter((e) => typeOk(c.types, e) && compileFilter(parseFilter(c.filter))(e)).map((e) => e.seq),
};

const history: Transport = {
  name: 'GET /events?filter=',
  live: false,
  async matches(c) {
    const seqs: number[] = [];
    let after = 0;
    for (;;) {
      const types = c.types.length ? `&types=${c.types.join(',')}` : '';
      const res = await app.inject({ url: `/events?order=asc&limit=7&after=${after}${types}&filter=${encodeURIComponent(JSON.stringify(c.filter))}` });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { events: Event[]; next_cursor: string | null };
      seqs.push(...page.events.filter((e) => e.event_type !== SENTINEL).map((e) => e.seq));
      if (page.next_cursor === null) return seqs;
      after = Number(page.next_cursor);
    }
  },
};

const clients: Client[] = [];
const websocket: Transport = {
  name: 'WebSocket subscribe',
  live: true,
  async subscribe(cases) {
    for (const c of cases) {
      const client = await connect(`${base}/events`);
      client.send({ type: 'subscribe', id: 'f', event_types: c.types, filter: c.filter });
      client.send({ type: 'subscribe', id: 'end', event_types: [SENTINEL], filters: { target: 'end' } });
      clients.push(client);
    }
    await Promise.all(clients.map((client) => client.until((f) => f.filter((x) => x.type === 'subscribed').length === 2)));
  },
  async matches(_c, index) {
    const client = clients[index] as Client;
    // Frames arrive in seq order, so once the sentinel (published last) is in, everything else is too.
    await client.until((f) => f.some((x) => x.event_type === SENTINEL));
    return client.frames.filter((x) => typeof x.seq === 'number' && x.event_type !== SENTINEL).map((x) => x.seq as number);
  },
};

const webhook: Transport = {
  name: 'webhook subscription',
  live: true,
  async matches(c, _i, events) {
    const created = await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'parity', event_types: c.types, filter: c.filter } });
    expect(created.statusCode, created.body).toBe(201);
    // The stored subscription as the index loads it, through the matcher the index uses.
    const stored = (await app.inject({ url: `/subscriptions/${created.json().subscription_id as string}` })).json() as Subscription;
    return events.filter(matcherOf(stored)).map((e) => e.seq);
  },
};

const streams: SseClient[] = [];
const eventStream: Transport = {
  name: 'Server-Sent Events',
  live: true,
  async subscribe(cases) {
    for (const c of cases) {
      // One selection per stream, so the end marker joins it: the untargeted sentinel from 'parity-sse', a
      // source no random event has. The $or leaves the case's own matches (and its target rule) unchanged.
      const types = c.types.length ? `&types=${[...c.types, SENTINEL].join(',')}` : '';
      const filter = encodeURIComponent(JSON.stringify({ $or: [c.filter, { source: 'parity-sse' }] }));
      const stream = await openSse(`${base.replace('ws:', 'http:')}/events?filter=${filter}${types}`);
      expect(stream.status).toBe(200);
      streams.push(stream);
    }
  },
  async matches(_c, index) {
    const stream = streams[index] as SseClient;
    await stream.until(() => stream.events().some((e) => e.event_type === SENTINEL));
    return stream.events().filter((e) => e.event_type !== SENTINEL).map((e) => e.seq);
  },
};

const TRANSPORTS: Transport[] = [predicate, history, websocket, eventStream, webhook];

beforeAll(async () => {
  app = await testApp();
  base = await listenWs(app);
});
afterAll(async () => {
  for (const client of clients) client.ws.close();
  for (const stream of streams) stream.close();
  await app.close();
});

describe('filter parity', () => {
  it('gives the reference evaluator\'s matches on every transport', async () => {
    const cases = fc.sample(caseArb, { seed: SEED, numRuns: FILTERS });
    const inputs = fc.sample(eventInput, { seed: SEED + 1, numRuns: EVENTS });
    for (const t of TRANSPORTS) await t.subscribe?.(cases);
    const res = await app.inject({ method: 'POST', url: '/events/batch', payload: { events: inputs } });
    expect(res.statusCode).toBe(201);
    const events = res.json().events as Event[];
    await app.inject({ method: 'POST', url: '/events', payload: { event_type: SENTINEL, source: 'parity', target: 'end' } });
    await app.inject({ method: 'POST', url: '/events', payload: { event_type: SENTINEL, source: 'parity-sse' } });
    // Most random filters should neither match everything nor nothing, or the check says little.
    const counts = cases.map((c) => expected(c, events, false).length);
    expect(counts.filter((n) => n > 0 && n < events.length).length).toBeGreaterThan(FILTERS / 3);
    for (const [i, c] of cases.entries()) {
      for (const t of TRANSPORTS) {
        expect(await t.matches(c, i, events), `${t.name}: types ${JSON.stringify(c.types)} filter ${JSON.stringify(c.filter)}`).toEqual(expected(c, events, t.live));
      }
    }
  });
});
