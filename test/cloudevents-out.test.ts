import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { CloudEvent, HTTP } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import { testApp } from './helpers/app.js';
import { connect, listenWs } from './helpers/ws.js';
import { openSse } from './helpers/sse.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

/** CloudEvents out: what Herald sends, the `cloudevents` SDK's `HTTP.toEvent` reads back as the original. */
let app: FastifyInstance;
let receiver: Receiver;
let base: string;
beforeAll(async () => {
  app = await testApp({ HERALD_WEBHOOK_ALLOW_PRIVATE: 'true', HERALD_WEBHOOK_POLL: '50ms' });
  base = await listenWs(app);
  receiver = await startReceiver();
});
afterAll(async () => {
  await app.close();
  await receiver.close();
});

const inbound = new CloudEvent({
  id: 'inv-7', source: 'urn:billing', type: 'Com.Example.Invoice.Paid', subject: 'inv/7', data: 'paid', region: 'eu', priority: 'high',
});

describe('CloudEvents out (Herald → cloudevents SDK)', () => {
  it('a format: cloudevents webhook is a structured CloudEvent with the original id, signed per Standard Webhooks', async () => {
    const created = await app.inject({
      method: 'POST', url: '/subscriptions',
      payload: { subscriber_name: 'ce', callback_url: receiver.url, format: 'cloudevents', event_types: ['com.example.*', 'plain'] },
    });
    expect(created.statusCode).toBe(201);
    const { secret, format, subscription_id: id } = created.json();
    expect(format).toBe('cloudevents');
    expect((await app.inject({ url: `/subscriptions/${id}` })).json().format).toBe('cloudevents');

    const published = await app.inject({ method: 'POST', url: '/events', ...HTTP.binary(inbound) } as never);
    expect(published.statusCode).toBe(201);
    const plain = await app.inject({ method: 'POST', url: '/events', payload: { event_type: 'plain', source: 'agent-1', payload: { n: 1 } } });
    await receiver.until((r) => r.length === 2);

    const [fromCe, fromJson] = receiver.requests.map((request) => {
      expect(request.headers['content-type']).toBe('application/cloudevents+json');
      const verified = new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
      expect(verified).toEqual(JSON.parse(request.body));
      return HTTP.toEvent({ headers: request.headers, body: request.body }) as CloudEvent<unknown>;
    }).sort((a, b) => Number(a.seq) - Number(b.seq));
    expect(fromCe).toMatchObject({ id: 'inv-7', source: 'urn:billing', type: inbound.type, subject: 'inv/7', data: 'paid', region: 'eu', priority: 'high' });
    expect(fromCe?.seq).toBe(published.json().event.seq);
    const event = plain.json().event;
    expect(fromJson).toMatchObject({ id: event.event_id, source: 'agent-1', type: 'plain', data: { n: 1 }, time: event.timestamp, seq: event.seq });
  });

  it('a WebSocket subscription with format: cloudevents gets CloudEvent frames carrying seq, by query or message', async () => {
    const byQuery = await connect(`${base}/events?format=cloudevents&types=ws.*`);
    const byMessage = await connect(`${base}/events`);
    byMessage.send({ type: 'subscribe', id: 'ce', event_types: ['ws.*'], format: 'cloudevents' });
    await byMessage.until((f) => f.some((x) => x.type === 'subscribed'));
    byMessage.send({ type: 'subscribe', id: 'seed', event_types: ['other'] });
    await byMessage.until((f) => f.some((x) => x.code === 'format_conflict'));

    const res = await app.inject({ method: 'POST', url: '/events', ...HTTP.structured(inbound.cloneWith({ type: 'ws.ping', id: 'ws-1' })) } as never);
    const seq = res.json().event.seq;
    for (const client of [byQuery, byMessage]) {
      await client.until((f) => f.some((x) => x.seq === seq));
      const frame = client.frames.find((x) => x.seq === seq);
      expect(frame).toMatchObject({ specversion: '1.0', id: 'ws-1', source: 'urn:billing', type: 'ws.ping', data: 'paid' });
      client.ws.close();
    }
  });

  it('a Server-Sent Events stream with format=cloudevents sends CloudEvents, live and when it resumes', async () => {
    const live = await openSse(`${base.replace('ws:', 'http:')}/events?format=cloudevents&types=sse.*`);
    const first = await app.inject({ method: 'POST', url: '/events', ...HTTP.structured(inbound.cloneWith({ type: 'sse.ping', id: 'sse-1' })) } as never);
    const seq = first.json().event.seq as number;
    await live.until((messages) => messages.some((m) => m.id === String(seq)));
    const resumed = await openSse(`${base.replace('ws:', 'http:')}/events?format=cloudevents&types=sse.*&after=${seq - 1}`);
    await resumed.until((messages) => messages.some((m) => m.id === String(seq)));
    for (const stream of [live, resumed]) {
      const message = stream.messages.find((m) => m.id === String(seq));
      expect(message?.event).toBeUndefined();
      expect(JSON.parse(message?.data ?? '{}')).toMatchObject({ specversion: '1.0', id: 'sse-1', source: 'urn:billing', type: 'sse.ping', data: 'paid', seq });
      stream.close();
    }
  });

  it('history refuses format=cloudevents with 400', async () => {
    const res = await app.inject({ url: '/events?format=cloudevents' });
    expect(res.statusCode).toBe(400);
  });
});
