import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { buildApp } from '../src/app.js';
import { event, testApp, testConfig } from './helpers/app.js';
import { connect, listenWs, type Client } from './helpers/ws.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';

const UPSTREAM_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const UPSTREAM = `00-${UPSTREAM_TRACE}-00f067aa0ba902b7-01`;
const traceId = (traceparent: unknown) => String(traceparent).split('-')[1];
const WEBHOOK_ENV = { HERALD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1', HERALD_WEBHOOK_POLL: '50ms' };

/** A listening app with a webhook subscription to `receiver` and a socket streaming `traced.*`. */
async function tracedSetup(app: FastifyInstance, receiver: Receiver): Promise<Client> {
  const url = await listenWs(app);
  const res = await app.inject({
    method: 'POST', url: '/subscriptions',
    payload: { subscriber_name: 'tracing', event_types: ['traced.*'], callback_url: receiver.url },
  });
  expect(res.statusCode, res.body).toBe(201);
  const client = await connect(`${url}/events?types=traced.*`);
  await vi.waitFor(() => expect(app.stream.router.size).toBe(1), { timeout: 10_000, interval: 10 });
  return client;
}

describe('with OpenTelemetry on', () => {
  const exporter = new InMemorySpanExporter();
  let app: FastifyInstance;
  let receiver: Receiver;
  let client: Client;
  beforeAll(async () => {
    receiver = await startReceiver();
    app = await buildApp({ config: testConfig({ ...WEBHOOK_ENV, OTEL_TRACES_EXPORTER: 'otlp' }), logger: false, spanExporter: exporter });
    client = await tracedSetup(app, receiver);
  });
  afterAll(async () => {
    client.ws.close();
    await app.close();
    await receiver.close();
  });

  it("exports a span for a publish and carries its context to the event, its webhook and its stream frame", async () => {
    exporter.reset();
    const res = await app.inject({ method: 'POST', url: '/events', payload: event({ event_type: 'traced.one' }), headers: { traceparent: UPSTREAM, tracestate: 'vendor=abc' } });
    expect(res.statusCode).toBe(201);
    const stored = res.json().event as { event_id: string; traceparent: string; tracestate?: string };
    // Herald's span continues the producer's trace; the event names Herald's span as the parent of what follows.
    expect(traceId(stored.traceparent)).toBe(UPSTREAM_TRACE);
    expect(stored.traceparent).not.toBe(UPSTREAM);
    expect(stored.tracestate).toBe('vendor=abc');
    await expect.poll(() => exporter.getFinishedSpans().some((s) => s.name === 'request')).toBe(true);
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === UPSTREAM_TRACE);
    const request = spans.find((s) => s.name === 'request');
    expect(request?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(request?.attributes['http.route']).toBe('/events');
    expect(spans.map((s) => s.spanContext().spanId)).toContain(stored.traceparent.split('-')[2]);

    await receiver.until((r) => r.some((x) => x.headers['webhook-id'] === stored.event_id));
    const delivery = receiver.requests.find((x) => x.headers['webhook-id'] === stored.event_id);
    expect(delivery?.headers.traceparent).toBe(stored.traceparent);
    expect(delivery?.headers.tracestate).toBe('vendor=abc');
    await client.until((f) => f.some((x) => x.event_id === stored.event_id));
    expect(client.frames.find((x) => x.event_id === stored.event_id)).toMatchObject({ traceparent: stored.traceparent, tracestate: 'vendor=abc' });
  });

  it('starts a trace for a publish that brings none, and stamps every event of a batch with it', async () => {
    exporter.reset();
    const res = await app.inject({ method: 'POST', url: '/events/batch', payload: { events: [event({ event_type: 'traced.a' }), event({ event_type: 'traced.b' })] } });
    const events = res.json().events as Array<{ traceparent: string }>;
    const [first, second] = events;
    expect(first?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(second?.traceparent).toBe(first?.traceparent);
    await expect.poll(() => exporter.getFinishedSpans().some((s) => s.name === 'request')).toBe(true);
    const request = exporter.getFinishedSpans().find((s) => s.name === 'request');
    expect(request?.spanContext().traceId).toBe(traceId(first?.traceparent));
    expect(request?.attributes['http.route']).toBe('/events/batch');
  });

  it('does not trace scrapes and probes', async () => {
    exporter.reset();
    await app.inject({ method: 'GET', url: '/metrics' });
    await app.inject({ method: 'GET', url: '/ready' });
    await app.inject({ method: 'GET', url: '/events?limit=1' });
    await expect.poll(() => exporter.getFinishedSpans().some((s) => s.name === 'request')).toBe(true);
    expect(exporter.getFinishedSpans().filter((s) => s.name === 'request').map((s) => s.attributes['http.route'])).toEqual(['/events']);
  });

  it('does not trace /livez and /readyz either', async () => {
    exporter.reset();
    await app.inject({ method: 'GET', url: '/livez' });
    await app.inject({ method: 'GET', url: '/readyz' });
    await app.inject({ method: 'GET', url: '/events?limit=1' });
    await expect.poll(() => exporter.getFinishedSpans().some((s) => s.name === 'request')).toBe(true);
    expect(exporter.getFinishedSpans().filter((s) => s.name === 'request').map((s) => s.attributes['http.route'])).toEqual(['/events']);
  });

  it('exports no span attribute carrying the ?token= API key', async () => {
    exporter.reset();
    await app.inject({ method: 'GET', url: '/events?limit=1&token=secret' });
    await expect.poll(() => exporter.getFinishedSpans().some((s) => s.name === 'request')).toBe(true);
    const request = exporter.getFinishedSpans().find((s) => s.name === 'request');
    expect(String(request?.attributes['url.path'])).toContain('token=[redacted]');
    for (const span of exporter.getFinishedSpans()) {
      expect(JSON.stringify(span.attributes)).not.toContain('secret');
    }
  });
});

describe('with OpenTelemetry off', () => {
  let app: FastifyInstance;
  let receiver: Receiver;
  let client: Client;
  beforeAll(async () => {
    receiver = await startReceiver();
    app = await testApp(WEBHOOK_ENV);
    client = await tracedSetup(app, receiver);
  });
  afterAll(async () => {
    client.ws.close();
    await app.close();
    await receiver.close();
  });
  afterEach(() => {
    client.frames.length = 0;
  });

  it("passes a producer's valid traceparent through to the event, its webhook and its stream frame", async () => {
    const res = await app.inject({ method: 'POST', url: '/events', payload: event({ event_type: 'traced.one' }), headers: { traceparent: UPSTREAM } });
    const stored = res.json().event as { event_id: string };
    expect(stored).toMatchObject({ traceparent: UPSTREAM });
    expect(stored).not.toHaveProperty('tracestate');
    await receiver.until((r) => r.some((x) => x.headers['webhook-id'] === stored.event_id));
    expect(receiver.requests.find((x) => x.headers['webhook-id'] === stored.event_id)?.headers.traceparent).toBe(UPSTREAM);
    await client.until((f) => f.some((x) => x.event_id === stored.event_id));
    expect(client.frames.find((x) => x.event_id === stored.event_id)).toMatchObject({ traceparent: UPSTREAM });
    const read = await app.inject({ method: 'GET', url: `/events/${stored.event_id}` });
    expect(read.json()).toMatchObject({ traceparent: UPSTREAM });
  });

  it('leaves events without one unchanged, and ignores an invalid traceparent rather than refusing the publish', async () => {
    for (const traceparent of [undefined, 'garbage', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `ff-${UPSTREAM_TRACE}-00f067aa0ba902b7-01`, `${UPSTREAM}-extra`]) {
      const res = await app.inject({
        method: 'POST', url: '/events', payload: event({ event_type: 'traced.none' }),
        headers: traceparent === undefined ? {} : { traceparent, tracestate: 'vendor=abc' },
      });
      expect(res.statusCode).toBe(201);
      const stored = res.json().event as Record<string, unknown>;
      expect(stored, String(traceparent)).not.toHaveProperty('traceparent');
      expect(stored).not.toHaveProperty('tracestate');
      await client.until((f) => f.some((x) => x.event_id === stored.event_id));
      expect(client.frames.find((x) => x.event_id === stored.event_id)).not.toHaveProperty('traceparent');
    }
  });
});

it('loads OpenTelemetry only from the module tracing loads on demand', () => {
  const root = new URL('../src/', import.meta.url).pathname;
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  const runtimeImports = files.filter((file) =>
    /^import (?!type )[^;]*from '@(opentelemetry\/|fastify\/otel)/m.test(readFileSync(join(root, file), 'utf8')));
  expect(runtimeImports).toEqual([join('tracing', 'otel.ts')]);
  expect(readFileSync(join(root, 'plugins', 'tracing.ts'), 'utf8')).toContain("await import('../tracing/otel.js')");
});
