/** The SDK's HTTP calls against a real app: publish, batch, get, history paging, admin calls and error mapping. */
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HeraldClient, HeraldError, type FetchLike, type HeraldEvent, type WebSocketLike } from '../src/client/index.js';
import { testApp } from './helpers/app.js';

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function rejection(promise: Promise<unknown>): Promise<HeraldError> {
  const error = await promise.then(() => undefined, (err: unknown) => err);
  expect(error).toBeInstanceOf(HeraldError);
  return error as HeraldError;
}

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe('HeraldClient over HTTP', () => {
  let app: FastifyInstance;
  let baseUrl: string;
  let client: HeraldClient;
  const requests: string[] = [];
  // Records each URL, so paging is seen to take several requests.
  const countingFetch: FetchLike = (url, init) => {
    requests.push(url);
    return fetch(url, init);
  };
  beforeAll(async () => {
    app = await testApp({ HERALD_WEBHOOK_WORKER: 'false' });
    baseUrl = await listen(app);
    client = new HeraldClient({ baseUrl: `${baseUrl}/`, fetch: countingFetch });
  });
  afterAll(async () => {
    await app.close();
  });

  it('publishes, re-publishes idempotently and reads one event back', async () => {
    const event = await client.publish({ event_type: 'task_progress', source: 'sdk', payload: { progress: 40 } });
    expect(event).toMatchObject({ event_type: 'task_progress', source: 'sdk', priority: 'normal', payload: { progress: 40 } });
    expect(event.seq).toBeGreaterThan(0);
    const again = await client.publish({ event_id: event.event_id, event_type: 'task_progress', source: 'sdk' });
    expect(again).toEqual(event); // 200 with the stored event
    expect(await client.get(event.event_id)).toEqual(event);
    expect(await client.get(randomUUID())).toBeUndefined();
  });

  it('publishes a batch stamped with its correlation id', async () => {
    const correlationId = randomUUID();
    const events = await client.publishBatch(
      [{ event_type: 'task_started', source: 'sdk' }, { event_type: 'task_completed', source: 'sdk' }],
      { correlationId },
    );
    expect(events.map((e) => [e.event_type, e.correlation_id])).toEqual([['task_started', correlationId], ['task_completed', correlationId]]);
  });

  it('pages through history with next_cursor, in both orders', async () => {
    const workflowId = randomUUID();
    const published: HeraldEvent[] = [];
    for (let i = 0; i < 25; i++) published.push(await client.publish({ event_type: 'paged', source: 'sdk', workflow_id: workflowId, payload: { i } }));
    const seqs = published.map((e) => e.seq);

    requests.length = 0;
    const newestFirst = await all(client.history({ workflow_id: workflowId, types: ['paged'], limit: 10 }));
    expect(newestFirst.map((e) => e.seq)).toEqual([...seqs].reverse());
    expect(requests).toHaveLength(3);
    expect(requests[1]).toContain(`before=${seqs[15]}`);

    const forward = await all(client.history({ workflow_id: workflowId, after: seqs[4], limit: 7 }));
    expect(forward.map((e) => e.seq)).toEqual(seqs.slice(5));

    const page = await client.historyPage({ workflow_id: workflowId, limit: 5, order: 'asc' });
    expect(page.events.map((e) => e.seq)).toEqual(seqs.slice(0, 5));
    expect(page.next_cursor).toBe(String(seqs[4]));

    // Leaving the loop early stops fetching.
    requests.length = 0;
    let newest: HeraldEvent | undefined;
    for await (const e of client.history({ workflow_id: workflowId, limit: 2 })) {
      newest = e;
      break;
    }
    expect(newest?.seq).toBe(seqs.at(-1));
    expect(requests).toHaveLength(1);
  });

  it('maps 400 answers to a HeraldError with code, message and details', async () => {
    const invalid = await rejection(client.publish({ event_type: 'Not A Type', source: 'sdk' }));
    expect(invalid).toMatchObject({ status: 400, code: 'validation_error' });
    expect(invalid.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/event_type' })]));
    const badQuery = await rejection(all(client.history({ after: 'x' })));
    expect(badQuery).toMatchObject({ status: 400, code: 'validation_error' });
    const badId = await rejection(client.get('not-a-uuid'));
    expect(badId.status).toBe(400);
  });

  it('manages subscriptions and their deliveries', async () => {
    const created = await client.subscriptions.create({ subscriber_name: 'sdk-admin', event_types: ['admin_*'], callback_url: null });
    expect(created.secret).toMatch(/^whsec_/);
    const id = created.subscription_id;
    expect(await client.subscriptions.get(id)).toMatchObject({ subscriber_name: 'sdk-admin', event_types: ['admin_*'] });
    expect((await client.subscriptions.list({ subscriberName: 'sdk-admin' })).map((s) => s.subscription_id)).toEqual([id]);
    expect(await client.subscriptions.update(id, { is_active: false })).toMatchObject({ is_active: false });
    const rotated = await client.subscriptions.rotateSecret(id);
    expect(rotated.secret).not.toBe(created.secret);
    const inactive = await rejection(client.subscriptions.replay(id, { since: new Date(0).toISOString() }));
    expect(inactive).toMatchObject({ status: 422, code: 'no_callback_url' });
    expect(await client.deliveries.list(id, { status: ['failed', 'retrying'], limit: 5 })).toEqual({ deliveries: [], next_cursor: null });
    expect(await client.deliveries.get(randomUUID())).toBeUndefined();
    expect(await rejection(client.deliveries.retry(randomUUID()))).toMatchObject({ status: 404, code: 'not_found' });
    await client.subscriptions.delete(id);
    expect(await client.subscriptions.get(id)).toBeUndefined();
    expect(await rejection(client.subscriptions.delete(id))).toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('HeraldClient with API keys', () => {
  let app: FastifyInstance;
  let baseUrl: string;
  beforeAll(async () => {
    app = await testApp({ HERALD_API_KEYS: 'writer:publish+read,reader:read' });
    baseUrl = await listen(app);
  });
  afterAll(async () => {
    await app.close();
  });

  it('sends the key, and maps 401 and 403', async () => {
    const event = { event_type: 'custom', source: 'sdk' };
    expect(await rejection(new HeraldClient({ baseUrl }).publish(event))).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await rejection(new HeraldClient({ baseUrl, apiKey: 'nope' }).publish(event))).toMatchObject({ status: 401 });
    const reader = new HeraldClient({ baseUrl, apiKey: 'reader' });
    const forbidden = await rejection(reader.publish(event));
    expect(forbidden).toMatchObject({ status: 403, code: 'forbidden' });
    expect(forbidden.message).toContain("'publish' scope");
    const stored = await new HeraldClient({ baseUrl, apiKey: 'writer' }).publish(event);
    expect(await reader.get(stored.event_id)).toEqual(stored);
  });

  it('maps an answer that is not Herald JSON to a generic code', async () => {
    const proxy: FetchLike = async () => new Response('<html>bad gateway</html>', { status: 502 });
    const error = await rejection(new HeraldClient({ baseUrl, fetch: proxy }).publish({ event_type: 'custom', source: 'sdk' }));
    expect(error).toMatchObject({ status: 502, code: 'http_502', message: '<html>bad gateway</html>' });
  });
});

describe('a filter-language filter', () => {
  it('goes to Herald unchanged: as JSON in the history query, and in the subscribe message', async () => {
    const urls: string[] = [];
    const recordingFetch: FetchLike = async (url) => {
      urls.push(url);
      return Response.json({ events: [], next_cursor: null });
    };
    const sent: string[] = [];
    class RecordingSocket implements WebSocketLike {
      onopen: WebSocketLike['onopen'] = null;
      onmessage: WebSocketLike['onmessage'] = null;
      onclose: WebSocketLike['onclose'] = null;
      onerror: WebSocketLike['onerror'] = null;
      constructor() {
        queueMicrotask(() => this.onopen?.({}));
      }
      send(data: string) {
        sent.push(data);
      }
      close() {}
    }
    const client = new HeraldClient({ baseUrl: 'http://herald.test', fetch: recordingFetch, WebSocket: RecordingSocket });
    const filter = { 'payload.progress': { $gte: 50 }, $or: [{ source: 'a' }, { source: 'b' }] };

    await client.historyPage({ filter });
    expect(new URL(urls[0] ?? '').searchParams.get('filter')).toBe(JSON.stringify(filter));
    const stream = client.subscribe({ filter, after: 0, heartbeatMs: 0 }, () => undefined);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(JSON.parse(sent[0] ?? '')).toMatchObject({ type: 'subscribe', filter, after: 0 });
    stream.close();
  });
});
