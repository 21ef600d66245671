import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { CloudEvent, HTTP, type Message } from 'cloudevents';
import { testApp } from './helpers/app.js';
import { cloudEventId } from '../src/events/cloudevents.js';

/** CloudEvents in: what the `cloudevents` SDK's HTTP binding produces, Herald stores, once. */
let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

const post = (message: Message, url = '/events') =>
  app.inject({ method: 'POST', url, headers: message.headers as Record<string, string>, payload: message.body as string });
const count = async () => (await app.inject({ url: '/events?limit=1000' })).json<{ events: unknown[] }>().events.length;

const WORKFLOW = '7b0e4a36-3f9d-4c1e-9a51-2d9a4c1c7f00';
const cases: Array<[string, CloudEvent<unknown>]> = [
  ['object data, no extensions', new CloudEvent({ id: 'order-1', source: 'urn:shop', type: 'com.example.order.created', data: { total: 42 } })],
  ['string data, a UUID id', new CloudEvent({ id: 'b2f4a9de-3c1e-4f1a-8f0b-6f2a2b5d9c11', source: '/sensors/7', type: 'sensor.reading', data: 'hot' })],
  ['extensions, subject, an upper-case type', new CloudEvent({
    id: 'x-17', source: 'https://github.com/acme/repo', type: 'Com.GitHub.Push', subject: 'main', data: { ref: 'main' },
    priority: 'high', workflowid: WORKFLOW, target: 'builder', partitionkey: 'p7', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  })],
];

describe('CloudEvents in (cloudevents SDK → Herald)', () => {
  for (const mode of ['binary', 'structured'] as const) {
    it.each(cases)(`${mode} mode: %s is stored mapped, and sending it again stores it once`, async (_name, ce) => {
      const source = `${ce.source}/${mode}`; // each mode stores its own copy of the case
      const sent = ce.cloneWith({ source });
      const first = await post(HTTP[mode](sent));
      expect(first.statusCode, first.body).toBe(201);
      const event = first.json<{ event: Record<string, unknown> }>().event;
      expect(event).toMatchObject({
        event_id: cloudEventId(source, ce.id), event_type: ce.type.toLowerCase(), source,
        timestamp: new Date(ce.time as string).toISOString(),
        payload: typeof ce.data === 'object' ? ce.data : { data: ce.data },
        cloudevent: { id: ce.id },
      });
      if (ce.type !== ce.type.toLowerCase()) expect(event.cloudevent).toMatchObject({ type: ce.type });
      if (ce.priority) {
        expect(event).toMatchObject({ priority: 'high', workflow_id: WORKFLOW, target: 'builder', traceparent: ce.traceparent });
        expect(event.cloudevent).toMatchObject({ subject: 'main', extensions: { partitionkey: 'p7' } });
      }
      const again = await post(HTTP[mode === 'binary' ? 'structured' : 'binary'](sent));
      expect(again.statusCode).toBe(200);
      expect(again.json().event.event_id).toBe(event.event_id);
    });
  }

  it('the same id from two sources is two events', async () => {
    const a = await post(HTTP.structured(new CloudEvent({ id: 'same', source: 'a', type: 't', data: {} })));
    const b = await post(HTTP.structured(new CloudEvent({ id: 'same', source: 'b', type: 't', data: {} })));
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(a.json().event.event_id).not.toBe(b.json().event.event_id);
  });

  it('a batch of SDK structured events is stored atomically: one invalid event stores none', async () => {
    const batch = (events: CloudEvent<unknown>[]) =>
      app.inject({ method: 'POST', url: '/events/batch', headers: { 'content-type': 'application/cloudevents-batch+json' }, payload: JSON.stringify(events) });
    const good = [1, 2, 3].map((n) => new CloudEvent({ id: `batch-${n}`, source: 'urn:batch', type: 'batch.item', data: { n } }));
    const before = await count();
    const refused = await batch([...good, new CloudEvent({ id: 'batch-4', source: 'urn:batch', type: 'batch item', data: {} }, false)]);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.message).toMatch(/^events\/3: CloudEvents attribute "type"/);
    expect(await count()).toBe(before);
    const stored = await batch(good);
    expect(stored.statusCode).toBe(201);
    expect(stored.json().events.map((e: { cloudevent: { id: string } }) => e.cloudevent.id)).toEqual(['batch-1', 'batch-2', 'batch-3']);
    expect((await batch(good)).statusCode).toBe(200);
    expect(await count()).toBe(before + 3);
  });

  const base = { specversion: '1.0', id: 'bad-1', source: 'urn:bad', type: 'bad.case' };
  const structured = (body: unknown) =>
    app.inject({ method: 'POST', url: '/events', headers: { 'content-type': 'application/cloudevents+json' }, payload: JSON.stringify(body) });
  it.each([
    ['wrong specversion', () => structured({ ...base, specversion: '0.3' }), 400, 'specversion'],
    ['missing source', () => structured({ ...base, source: undefined }), 400, 'source'],
    ['missing id (binary)', () => app.inject({ method: 'POST', url: '/events', headers: { 'ce-specversion': '1.0', 'ce-source': 's', 'ce-type': 't' } }), 400, 'id'],
    ['bad extension name', () => structured({ ...base, Region: 'eu' }), 400, 'Region'],
    ['bad priority extension', () => structured({ ...base, priority: 'urgent' }), 400, 'priority'],
    ['object extension value', () => structured({ ...base, region: { eu: 1 } }), 400, 'region'],
    ['unsupported datacontenttype', () => structured({ ...base, datacontenttype: 'text/xml', data: '<a/>' }), 415, 'datacontenttype'],
    ['binary data_base64', () => structured({ ...base, data_base64: 'AAEC' }), 415, 'data_base64'],
    ['binary mode, text/plain body', () => app.inject({ method: 'POST', url: '/events', headers: { ...HTTP.binary(new CloudEvent({ ...base, data: 'x' })).headers, 'content-type': 'text/plain' }, payload: 'x' }), 415, 'datacontenttype'],
    ['binary mode on the batch route', () => app.inject({ method: 'POST', url: '/events/batch', ...HTTP.binary(new CloudEvent({ ...base, data: {} })) } as never), 400, 'specversion'],
    ['time that is not RFC 3339', () => structured({ ...base, time: 'yesterday' }), 400, 'time'],
  ] as const)('%s: the error names the attribute, nothing stored', async (_name, send, status, attribute) => {
    const before = await count();
    const res = await send();
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json().error.details[0]).toMatchObject({ in: 'cloudevent', attribute });
    expect(await count()).toBe(before);
  });

  it('an oversize CloudEvent gets 413 and stores nothing', async () => {
    const small = await testApp({ HERALD_BODY_LIMIT: '1024' });
    try {
      const res = await small.inject({ method: 'POST', url: '/events', ...HTTP.binary(new CloudEvent({ ...base, data: { blob: 'x'.repeat(2000) } })) } as never);
      expect(res.statusCode).toBe(413);
      expect(res.json().error.code).toBe('payload_too_large');
    } finally {
      await small.close();
    }
  });

  it('the OpenAPI document lists the CloudEvents request media types', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    const media = (path: string) => Object.keys(doc.paths[path].post.requestBody.content);
    expect(media('/events')).toEqual(['application/json', 'application/cloudevents+json']);
    expect(media('/events/batch')).toEqual(['application/json', 'application/cloudevents-batch+json']);
  });

  it('without ce- headers, a body that is not JSON still gets 415', async () => {
    const res = await app.inject({ method: 'POST', url: '/events', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });
});
