/**
 * Bad input over HTTP: every refusal is a 4xx in the `{error: {code, message}}` shape and writes nothing —
 * numeric query values, date-times JavaScript cannot hold, deep payloads, and errors raised before routing.
 */
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { countEvents, event, testApp } from './helpers/app.js';
import { connect } from './helpers/ws.js';
import { httpValidatorCompiler } from '../src/lib/validation.js';
import { MAX_JSON_DEPTH, MAX_PAYLOAD_DEPTH } from '../src/lib/json.js';

let app: FastifyInstance;
let subscriptionId: string;
beforeAll(async () => {
  app = await testApp();
  subscriptionId = (await app.inject({ method: 'POST', url: '/subscriptions', payload: { subscriber_name: 'bad-input' } })).json().subscription_id;
  await app.listen({ port: 0, host: '127.0.0.1' });
});
const port = () => (app.server.address() as { port: number }).port;
afterAll(async () => {
  await app.close();
});

interface ErrorReply {
  statusCode: number;
  json: () => unknown;
}
/** Sends, then checks the status, the error shape and code, and that the event count did not move. */
async function refused(send: () => Promise<ErrorReply>, status: number, code: string): Promise<string> {
  const before = await countEvents(app);
  const res = await send();
  expect(res.statusCode).toBe(status);
  const body = res.json() as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(await countEvents(app)).toBe(before);
  return body.error.message;
}
const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
const rawPost = (url: string, payload: string | Buffer) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });

describe('numeric query parameters take decimal digits only', () => {
  const numeric = () => [
    ['GET /events limit', (v: string) => `/events?limit=${encodeURIComponent(v)}`],
    ['GET /subscriptions/:id/deliveries limit', (v: string) => `/subscriptions/${subscriptionId}/deliveries?limit=${encodeURIComponent(v)}`],
  ] as const;
  for (const value of ['Infinity', '-Infinity', '1e3', '0x10', '1.5', ' 5', '', '-1', '5abc']) {
    it(`refuses limit=${JSON.stringify(value)} with 400 on every route`, async () => {
      for (const [, url] of numeric()) {
        const message = await refused(() => app.inject({ url: url(value) }), 400, 'validation_error');
        expect(message).toContain('querystring/limit');
      }
    });
  }

  it('refuses them on the WebSocket upgrade of GET /events too', async () => {
    await expect(connect(`ws://127.0.0.1:${port()}/events?limit=Infinity`)).rejects.toThrow('upgrade refused: 400');
  });

  it('still takes plain digits, and applies the default', async () => {
    for (const [, url] of numeric()) {
      expect((await app.inject({ url: url('5') })).statusCode).toBe(200);
      expect((await app.inject({ url: url('0005') })).statusCode).toBe(200);
    }
    expect((await app.inject({ url: '/events' })).statusCode).toBe(200);
  });

  it('checks every numeric query or params property the compiler is given, unions too', () => {
    const compile = httpValidatorCompiler();
    const validate = compile({
      schema: Type.Object({ n: Type.Integer({ minimum: 0 }), x: Type.Union([Type.Number(), Type.Integer()]), s: Type.Optional(Type.String()) }),
      httpPart: 'params', method: 'GET', url: '/',
    }) as (data: unknown) => boolean;
    const params = { n: '12', x: '1.25', s: 'Infinity' };
    expect(validate(params)).toBe(true);
    expect(params).toEqual({ n: 12, x: 1.25, s: 'Infinity' });
    expect(validate({ n: 'Infinity', x: '1' })).toBe(false);
    expect(validate({ n: '1', x: '1e3' })).toBe(false);
  });
});

describe('date-times JavaScript cannot represent (a leap second) are refused', () => {
  const leap = '2026-06-30T23:59:60Z';
  it.each([
    ['timestamp', () => post('/events', event({ timestamp: leap }))],
    ['expires_at', () => post('/events', event({ expires_at: leap }))],
    ['a batch event', () => post('/events/batch', { events: [event(), event({ timestamp: leap })] })],
    ['since', () => app.inject({ url: `/events?since=${leap}` })],
    ['until', () => app.inject({ url: `/events?until=${leap}` })],
    ['replay since', () => post(`/subscriptions/${subscriptionId}/replay`, { since: leap })],
  ])('%s', async (_name, send) => {
    const message = await refused(send, 400, 'validation_error');
    expect(message).toContain('date-time');
  });

  it('over the WebSocket too: an invalid_message frame, nothing stored', async () => {
    const before = await countEvents(app);
    const client = await connect(`ws://127.0.0.1:${port()}/events`);
    client.send({ type: 'publish', id: 'leap', event: event({ timestamp: leap }) });
    await client.until((f) => f.some((x) => x.type === 'error'));
    expect(client.frames[0]).toMatchObject({ id: 'leap', code: 'invalid_message', message: expect.stringContaining('date-time') });
    expect(await countEvents(app)).toBe(before);
    client.ws.close();
  });

  it.each(['0000-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00'])('refuses %s, whose UTC form has no four-digit year', async (timestamp) => {
    const message = await refused(() => post('/events', event({ timestamp })), 400, 'validation_error');
    expect(message).toContain('date-time');
  });

  it('accepts the first and last instants of years 0000–9999 and echoes them as sent', async () => {
    for (const timestamp of ['0000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      const res = await post('/events', event({ timestamp }));
      expect(res.statusCode).toBe(201);
      expect(res.json().event.timestamp).toBe(timestamp);
    }
  });

  it('accepts second 59 and offsets', async () => {
    const res = await post('/events', event({ timestamp: '2026-06-30T23:59:59.999Z', expires_at: '2026-07-01T01:59:59+02:00' }));
    expect(res.statusCode).toBe(201);
    expect(res.json().event).toMatchObject({ timestamp: '2026-06-30T23:59:59.999Z', expires_at: '2026-06-30T23:59:59.000Z' });
  });
});

describe(`payload and metadata nest at most ${MAX_PAYLOAD_DEPTH} levels`, () => {
  const nested = (levels: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = { a: value };
    return value;
  };
  const deepText = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

  it('accepts exactly the limit', async () => {
    expect((await post('/events', event({ payload: nested(MAX_PAYLOAD_DEPTH), metadata: nested(MAX_PAYLOAD_DEPTH) }))).statusCode).toBe(201);
    expect((await post('/events', event({ payload: { list: [[[1]]] } }))).statusCode).toBe(201);
  });
  it.each([
    ['payload', () => post('/events', event({ payload: nested(MAX_PAYLOAD_DEPTH + 1) }))],
    ['metadata', () => post('/events', event({ metadata: nested(MAX_PAYLOAD_DEPTH + 1) }))],
    ['an array in the payload', () => post('/events', event({ payload: { a: JSON.parse(`${'['.repeat(MAX_PAYLOAD_DEPTH)}${']'.repeat(MAX_PAYLOAD_DEPTH)}`) } }))],
    ['a batch event', () => post('/events/batch', { events: [event(), event({ payload: nested(MAX_PAYLOAD_DEPTH + 1) })] })],
  ])('refuses one level more in %s, naming the limit', async (_name, send) => {
    const message = await refused(send, 400, 'validation_error');
    expect(message).toContain(`deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  });
  it.each([
    ['POST /events', () => rawPost('/events', `{"event_type":"custom","source":"s","payload":${deepText(5000)}}`)],
    ['POST /events/batch', () => rawPost('/events/batch', `{"events":[{"event_type":"custom","source":"s","payload":${deepText(5000)}}]}`)],
  ])('refuses a payload 5000 levels deep before parsing it (%s)', async (_name, send) => {
    const message = await refused(send, 400, 'invalid_json');
    expect(message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
  });
});

describe('errors Fastify raises before routing have the error shape', () => {
  it('a path that is not valid percent-encoding', async () => {
    await refused(() => app.inject({ url: '/events/%ff' }), 400, 'bad_url');
  });
  it('a path parameter over 100 characters', async () => {
    const message = await refused(() => app.inject({ url: `/events/${'a'.repeat(101)}` }), 414, 'uri_too_long');
    expect(message).toContain('100');
  });

  /** Writes raw bytes to a listening app and reads the whole answer (the server closes the socket). */
  const rawExchange = async (request: string): Promise<{ status: number; headers: string; body: string }> => {
    const text = await new Promise<string>((resolve, reject) => {
      const socket = tcpConnect(port(), '127.0.0.1', () => socket.end(request));
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    const [head = '', body = ''] = text.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), headers: head, body };
  };

  it('headers over 16 KiB get 431 in the error shape', async () => {
    const before = await countEvents(app);
    const res = await rawExchange(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(res.headers.toLowerCase()).toContain('content-type: application/json');
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'headers_too_large', message: expect.stringContaining('16384 bytes') } });
    expect(await countEvents(app)).toBe(before);
  });
  it('a malformed request gets 400 in the error shape', async () => {
    const res = await rawExchange('GARBAGE\r\n\r\n');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'bad_request' } });
  });
});
