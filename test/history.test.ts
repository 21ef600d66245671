import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { event, testApp } from './helpers/app.js';
import { SCAN_BUDGET } from '../src/store/event-history.js';

interface Ev { event_id: string; event_type: string; source: string; target: string | null; priority: string; seq: number; timestamp: string; correlation_id: string | null; workflow_id: string | null; session_id: string | null; expires_at: string | null }

let app: FastifyInstance;
let all: Ev[] = [];
const TYPES = ['task_started', 'task_progress', 'task_completed', 'agent_status_changed', 'billing.invoice'];
const PRIORITIES = ['low', 'normal', 'high', 'critical'];
const workflows = [randomUUID(), randomUUID(), randomUUID()];
const correlation = randomUUID();

// A deterministic mix: types, sources, priorities, ids and timestamps vary with i.
function fixture(i: number) {
  return event({
    event_type: TYPES[(i * 7) % TYPES.length],
    source: `agent-${i % 3}`,
    target: i % 4 === 0 ? 'ui' : null,
    priority: PRIORITIES[(i * 3) % 4],
    workflow_id: workflows[i % 3],
    correlation_id: i % 10 === 0 ? correlation : null,
    session_id: null,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    payload: { i },
  });
}

beforeAll(async () => {
  app = await testApp();
  for (let start = 0; start < 600; start += 200) {
    const res = await app.inject({ method: 'POST', url: '/events/batch', payload: { events: Array.from({ length: 200 }, (_, k) => fixture(start + k)) } });
    expect(res.statusCode).toBe(201);
    all.push(...res.json().events);
  }
  // One expired and one not-yet-expired event.
  for (const expires_at of [new Date(Date.now() - 1000).toISOString(), new Date(Date.now() + 3_600_000).toISOString()]) {
    const res = await app.inject({ method: 'POST', url: '/events', payload: event({ event_type: 'custom', expires_at }) });
    all.push(res.json().event);
  }
});
afterAll(async () => {
  await app.close();
});

/** Follows next_cursor to the end and returns every event seen. */
async function readAll(query: string, limit: number): Promise<{ events: Ev[]; pages: number }> {
  const params = new URLSearchParams(query.replace(/^&/, ''));
  params.set('limit', String(limit));
  const ascending = params.get('order') === 'asc' || (params.has('after') && !params.has('before') && params.get('order') !== 'desc');
  const events: Ev[] = [];
  let pages = 0;
  for (;;) {
    const res = await app.inject({ url: `/events?${params}` });
    expect(res.statusCode).toBe(200);
    const page = res.json() as { events: Ev[]; next_cursor: string | null };
    pages += 1;
    events.push(...page.events);
    if (page.next_cursor === null) return { events, pages };
    params.set(ascending ? 'after' : 'before', page.next_cursor);
  }
}

const live = () => all.filter((e) => e.expires_at === null || Date.parse(e.expires_at) > Date.now());
const desc = (xs: Ev[]) => [...xs].sort((a, b) => b.seq - a.seq);
const asc = (xs: Ev[]) => [...xs].sort((a, b) => a.seq - b.seq);
const seqs = (xs: Ev[]) => xs.map((e) => e.seq);

describe('GET /events', () => {
  it('returns newest first by default, never the expired event', async () => {
    const res = await app.inject({ url: '/events?limit=5' });
    expect(seqs(res.json().events)).toEqual(seqs(desc(live()).slice(0, 5)));
    const { events } = await readAll('', 50);
    expect(seqs(events)).toEqual(seqs(desc(live())));
  });

  it('pages forward with after and order=asc', async () => {
    const { events } = await readAll('&order=asc', 64);
    expect(seqs(events)).toEqual(seqs(asc(live())));
    const start = all[100]!.seq;
    const fromAfter = await readAll(`&after=${start}`, 77);
    expect(seqs(fromAfter.events)).toEqual(seqs(asc(live()).filter((e) => e.seq > start)));
  });

  it('combines after and before into a window, both directions', async () => {
    const lo = all[50]!.seq;
    const hi = all[150]!.seq;
    const expected = live().filter((e) => e.seq > lo && e.seq < hi);
    const down = await app.inject({ url: `/events?after=${lo}&before=${hi}&limit=1000` });
    expect(seqs(down.json().events)).toEqual(seqs(desc(expected)));
    const up = await app.inject({ url: `/events?after=${lo}&before=${hi}&order=asc&limit=1000` });
    expect(seqs(up.json().events)).toEqual(seqs(asc(expected)));
  });

  const filters: Array<[string, string, (e: Ev) => boolean]> = [
    ['one type', '&types=task_progress', (e) => e.event_type === 'task_progress'],
    ['two types', '&types=task_progress,billing.invoice', (e) => ['task_progress', 'billing.invoice'].includes(e.event_type)],
    ['a wildcard', '&types=task_*', (e) => e.event_type.startsWith('task_')],
    ['a wildcard and a type', '&types=task_c*,agent_status_changed', (e) => e.event_type.startsWith('task_c') || e.event_type === 'agent_status_changed'],
    ['source', '&source=agent-1', (e) => e.source === 'agent-1'],
    ['target', '&target=ui', (e) => e.target === 'ui'],
    ['priority list', '&priority=high,critical', (e) => ['high', 'critical'].includes(e.priority)],
    ['workflow_id', `&workflow_id=${workflows[1]}`, (e) => e.workflow_id === workflows[1]],
    ['correlation_id and a type', `&correlation_id=${correlation}&types=task_started`, (e) => e.correlation_id === correlation && e.event_type === 'task_started'],
    ['since/until', `&since=2026-01-01T00:01:00Z&until=2026-01-01T00:02:00Z`, (e) => e.timestamp >= '2026-01-01T00:01:00' && e.timestamp < '2026-01-01T00:02:00'],
    ['type, source and priority', '&types=task_progress&source=agent-2&priority=low', (e) => e.event_type === 'task_progress' && e.source === 'agent-2' && e.priority === 'low'],
  ];
  for (const [name, query, predicate] of filters) {
    it(`filters by ${name}, in both orders, across pages`, async () => {
      const expected = live().filter(predicate);
      expect(expected.length).toBeGreaterThan(0);
      const newest = await readAll(query, 7);
      expect(seqs(newest.events)).toEqual(seqs(desc(expected)));
      const oldest = await readAll(`${query}&order=asc`, 13);
      expect(seqs(oldest.events)).toEqual(seqs(asc(expected)));
    });
  }

  it('returns an empty page and no cursor for an unknown type', async () => {
    const res = await app.inject({ url: '/events?types=nothing_here' });
    expect(res.json()).toEqual({ events: [], next_cursor: null });
  });

  it('hides an expired event from GET /events/:id', async () => {
    const expired = all.find((e) => e.expires_at !== null && Date.parse(e.expires_at) < Date.now())!;
    expect((await app.inject({ url: `/events/${expired.event_id}` })).statusCode).toBe(404);
  });
});

describe('a rare filter over a long history', () => {
  it('returns short pages with a cursor instead of scanning without bound, and still finds everything', async () => {
    const local = await testApp();
    try {
      const total = SCAN_BUDGET * 2 + 500;
      const rare = new Set([10, SCAN_BUDGET + 700, total - 3]);
      for (let start = 0; start < total; start += 1000) {
        const n = Math.min(1000, total - start);
        const res = await local.inject({
          method: 'POST', url: '/events/batch',
          payload: { events: Array.from({ length: n }, (_, k) => rare.has(start + k) ? event({ source: 'rare', event_type: 'rare_type' }) : event({ source: 'common' })) },
        });
        expect(res.statusCode).toBe(201);
      }
      const found: number[] = [];
      let cursor = '';
      let pages = 0;
      for (;;) {
        const res = await local.inject({ url: `/events?source=rare&limit=10${cursor}` });
        const page = res.json() as { events: Ev[]; next_cursor: string | null };
        pages += 1;
        found.push(...page.events.map((e) => e.seq));
        if (!page.next_cursor) break;
        cursor = `&before=${page.next_cursor}`;
      }
      expect(found).toHaveLength(3);
      expect(found).toEqual([...found].sort((a, b) => b - a));
      expect(pages).toBeGreaterThanOrEqual(3);

      // A rare type has its own index stream, whose windows widen until they find it.
      for (const order of ['desc', 'asc']) {
        const byType: number[] = [];
        let next: string | null = null;
        do {
          const cursor = next === null ? '' : order === 'asc' ? `&after=${next}` : `&before=${next}`;
          const page = (await local.inject({ url: `/events?types=rare_type&order=${order}&limit=2${cursor}` })).json() as { events: Ev[]; next_cursor: string | null };
          byType.push(...page.events.map((e) => e.seq));
          next = page.next_cursor;
        } while (next !== null);
        expect(byType).toEqual(order === 'asc' ? [...found].reverse() : found);
      }
    } finally {
      await local.close();
    }
  }, 120_000);
});
