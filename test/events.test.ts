import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Value } from 'typebox/value';
import { Event } from '../src/schemas/event.js';
import { countEvents, event, testApp } from './helpers/app.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp({ HERALD_BODY_LIMIT: '4096' });
});
afterAll(async () => {
  await app.close();
});

const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });

describe('POST /events', () => {
  it('stores an event with the documented defaults and a server seq', async () => {
    const res = await post('/events', event());
    expect(res.statusCode).toBe(201);
    const stored = res.json().event;
    expect(stored).toMatchObject({
      event_type: 'task_progress', source: 'agent-1', target: null, payload: { progress: 0.5 }, metadata: {},
      priority: 'normal', correlation_id: null, workflow_id: null, session_id: null, retry_count: 0,
      max_retries: null, expires_at: null,
    });
    expect(stored.event_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isInteger(stored.seq) && stored.seq > 0).toBe(true);
    expect(Date.parse(stored.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    const fetched = await app.inject({ url: `/events/${stored.event_id}` });
    expect(fetched.json()).toEqual(stored);
  });

  it('is idempotent on event_id: the same id again answers 200 with the stored event', async () => {
    const id = randomUUID();
    const first = await post('/events', event({ event_id: id, payload: { n: 1 } }));
    const before = await countEvents(app);
    const again = await post('/events', event({ event_id: id, payload: { n: 2 } }));
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(200);
    expect(again.json().event).toEqual(first.json().event);
    expect(await countEvents(app)).toBe(before);
  });

  it('collapses concurrent publishes of one event_id into one row', async () => {
    const id = randomUUID();
    const before = await countEvents(app);
    const results = await Promise.all(Array.from({ length: 10 }, () => post('/events', event({ event_id: id }))));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.json().event.seq)).size).toBe(1);
    expect(await countEvents(app)).toBe(before + 1);
  });

  it('assigns strictly increasing seqs to concurrent publishes', async () => {
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => post('/events', event({ payload: { i } }))));
    const seqs = results.map((r) => r.json().event.seq as number);
    expect(new Set(seqs).size).toBe(100);
  });

  it('accepts any dotted event type and normalizes timestamps to UTC', async () => {
    const res = await post('/events', event({ event_type: 'billing.invoice:paid-v2', timestamp: '2026-01-02T03:04:05+02:00' }));
    expect(res.statusCode).toBe(201);
    expect(res.json().event.timestamp).toBe('2026-01-02T01:04:05.000Z');
  });
});

describe('POST /events/batch', () => {
  it('stores all events atomically with the batch correlation_id stamped on each', async () => {
    const correlation = randomUUID();
    const res = await post('/events/batch', {
      correlation_id: correlation,
      events: [event({ event_type: 'task_started' }), event({ correlation_id: randomUUID() }), event({ event_type: 'task_completed' })],
    });
    expect(res.statusCode).toBe(201);
    const events = res.json().events as Array<{ correlation_id: string; seq: number }>;
    expect(events).toHaveLength(3);
    expect(events.every((e) => e.correlation_id === correlation)).toBe(true);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    const history = await app.inject({ url: `/events?correlation_id=${correlation}&order=asc` });
    expect(history.json().events.map((e: { seq: number }) => e.seq)).toEqual(events.map((e) => e.seq));
  });

  it('answers with the stored documents in the schema\'s form, as GET /events/:id serves them', async () => {
    // The publish answer reuses the stored document text (routes/events.ts); it must say what the schema says.
    const res = await app.inject({
      method: 'POST', url: '/events/batch',
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      payload: { events: [
        event({ payload: { text: 'line\u2028sep "quoted" \\ é 🎉', nested: { list: [1, null, true] } }, metadata: { m: 1 } }),
        event({ event_id: randomUUID(), target: 'agent-2', workflow_id: randomUUID(), expires_at: '2999-01-01T00:00:00+02:00', max_retries: 3 }),
      ] },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const events = res.json().events as Array<{ event_id: string }>;
    for (const e of events) {
      expect(Value.Check(Event, e)).toBe(true);
      const fetched = (await app.inject({ url: `/events/${e.event_id}` })).json();
      expect(fetched).toEqual(e);
      expect(Object.keys(e)).toEqual(Object.keys(fetched)); // the schema's order, as every other answer
    }
    const single = await post('/events', event({ payload: { n: '\u0000' } }));
    expect(Value.Check(Event, single.json().event)).toBe(true);
    const fetched = (await app.inject({ url: `/events/${single.json().event.event_id}` })).json();
    expect(fetched).toEqual(single.json().event);
    expect(Object.keys(single.json().event)).toEqual(Object.keys(fetched));
  });

  it('answers a batch of several segment rows that repeats a stored id with every event as stored', async () => {
    const stored = (await post('/events', event({ event_id: randomUUID() }))).json().event;
    const events = Array.from({ length: 300 }, (_, i) => (i === 200 ? event({ event_id: stored.event_id }) : event({ payload: { i } })));
    const res = await post('/events/batch', { events });
    expect(res.statusCode).toBe(201);
    const answered = res.json().events as Array<{ event_id: string; seq: number; payload: { i?: number } }>;
    expect(answered[200]).toEqual(stored);
    for (const i of [0, 127, 128, 199, 201, 255, 256, 299]) {
      expect(answered[i]?.payload.i).toBe(i);
      expect((await app.inject({ url: `/events/${answered[i]?.event_id}` })).json()).toEqual(answered[i]);
    }
  });

  it('rolls back the whole commit attempt that met a stored id: the new id is stored once, by the retry, with no seq lost', async () => {
    const stored = (await post('/events', event({ event_id: randomUUID() }))).json().event;
    const fresh = randomUUID();
    // The first attempt inserts fresh's key, then finds stored's and throws: the key, the counter and the
    // rows of that attempt must all be gone, or the retry would take fresh for stored and lose it.
    const res = await post('/events/batch', { events: [event({ event_id: fresh }), event({ event_id: stored.event_id })] });
    expect(res.statusCode).toBe(201);
    const [created, again] = res.json().events as Array<{ event_id: string; seq: number }>;
    expect(again).toEqual(stored);
    expect(created?.seq).toBe(stored.seq + 1);
    expect((await app.inject({ url: `/events/${fresh}` })).json()).toEqual(created);
    expect((await app.inject({ url: '/health' })).json().last_seq).toBe(created?.seq);
    const page = (await app.inject({ url: `/events?after=${stored.seq - 1}&order=asc` })).json() as { events: Array<{ event_id: string }> };
    expect(page.events.map((e) => e.event_id)).toEqual([stored.event_id, fresh]);
  });

  it('answers a repeated batch with the stored events and stores nothing new', async () => {
    const body = { events: [event({ event_id: randomUUID() }), event({ event_id: randomUUID() })] };
    const first = await post('/events/batch', body);
    const before = await countEvents(app);
    const again = await post('/events/batch', body);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(200);
    expect(again.json().events).toEqual(first.json().events);
    expect(await countEvents(app)).toBe(before);
  });
});

describe('bad input gets the JSON error shape and stores nothing', () => {
  const cases: Array<[string, () => Promise<{ statusCode: number; json: () => unknown }>, number, string]> = [
    ['invalid JSON', () => app.inject({ method: 'POST', url: '/events', headers: { 'content-type': 'application/json' }, payload: '{"event_type":' }), 400, 'invalid_json'],
    ['wrong field type', () => post('/events', event({ retry_count: '5' })), 400, 'validation_error'],
    ['payload not an object', () => post('/events', event({ payload: [1, 2] })), 400, 'validation_error'],
    ['unknown top-level field', () => post('/events', event({ colour: 'red' })), 400, 'validation_error'],
    ['bad event_type pattern', () => post('/events', event({ event_type: 'Task Progress' })), 400, 'validation_error'],
    ['event_type too long', () => post('/events', event({ event_type: 'a'.repeat(129) })), 400, 'validation_error'],
    ['missing source', () => post('/events', { event_type: 'custom' }), 400, 'validation_error'],
    ['bad priority', () => post('/events', event({ priority: 'urgent' })), 400, 'validation_error'],
    ['non-uuid event_id', () => post('/events', event({ event_id: 'abc' })), 400, 'validation_error'],
    ['non-uuid workflow_id', () => post('/events', event({ workflow_id: '123' })), 400, 'validation_error'],
    ['bad timestamp', () => post('/events', event({ timestamp: 'yesterday' })), 400, 'validation_error'],
    ['body over the limit', () => post('/events', event({ payload: { blob: 'x'.repeat(5000) } })), 413, 'payload_too_large'],
    ['empty batch', () => post('/events/batch', { events: [] }), 400, 'validation_error'],
    ['batch over 1000', () => post('/events/batch', { events: Array.from({ length: 1001 }, () => event()) }), 400, 'validation_error'],
    ['repeated event_id inside a batch', () => { const id = randomUUID(); return post('/events/batch', { events: [event({ event_id: id }), event({ event_id: id })] }); }, 400, 'duplicate_event_id'],
    ['unknown route', () => app.inject({ url: '/nope' }), 404, 'not_found'],
    ['unknown event id', () => app.inject({ url: `/events/${randomUUID()}` }), 404, 'not_found'],
    ['non-uuid event id in the path', () => app.inject({ url: '/events/not-a-uuid' }), 400, 'validation_error'],
    ['bad cursor', () => app.inject({ url: '/events?after=abc' }), 400, 'validation_error'],
    ['negative cursor', () => app.inject({ url: '/events?before=-1' }), 400, 'validation_error'],
    ['limit 0', () => app.inject({ url: '/events?limit=0' }), 400, 'validation_error'],
    ['limit over 1000', () => app.inject({ url: '/events?limit=1001' }), 400, 'validation_error'],
    ['bad order', () => app.inject({ url: '/events?order=up' }), 400, 'validation_error'],
    ['bad types filter', () => app.inject({ url: '/events?types=Bad%20Type' }), 400, 'validation_error'],
    ['unknown query parameter', () => app.inject({ url: '/events?colour=red' }), 400, 'validation_error'],
  ];
  for (const [name, send, status, code] of cases) {
    it(name, async () => {
      const before = await countEvents(app);
      const res = await send();
      expect(res.statusCode).toBe(status);
      const body = res.json() as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(0);
      expect(await countEvents(app)).toBe(before);
    });
  }

  it('names the index of the one bad event in a batch', async () => {
    const before = await countEvents(app);
    const res = await post('/events/batch', { events: [event(), event(), event({ priority: 'urgent' }), event()] });
    expect(res.statusCode).toBe(400);
    const body = res.json() as { error: { message: string; details: Array<{ path: string }> } };
    expect(body.error.details[0]?.path).toMatch(/^\/events\/2\b/);
    expect(body.error.message).toContain('events/2');
    expect(await countEvents(app)).toBe(before);
  });
});
