/**
 * One JSON rule for what clients send (src/lib/json.ts): the HTTP body parser and WebSocket messages refuse
 * the same texts — invalid UTF-8, prototype-poisoning keys, nesting past the bound — and store nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { countEvents, testApp } from './helpers/app.js';
import { connect, type Client } from './helpers/ws.js';
import { JsonRuleError, MAX_JSON_DEPTH, MAX_PAYLOAD_DEPTH, parseJson, textDepthExceeds } from '../src/lib/json.js';

let app: FastifyInstance;
let base: string;
beforeAll(async () => {
  app = await testApp();
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await app.close();
});

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const EVENT_HEAD = '"event_type":"custom","source":"json-rule"';
/** An event whose payload is `payloadText`, as raw JSON text. */
const eventText = (payloadText: string) => `{${EVENT_HEAD},"payload":${payloadText}}`;
const INVALID_UTF8 = Buffer.concat([utf8(`{${EVENT_HEAD},"payload":{"s":"a`), Buffer.from([0xff, 0xfe, 0xc3]), utf8('"}}')]);
const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

/** Client texts the rule refuses, as the payload of one event, and what the refusal says. */
const refusedPayloads: Array<[string, string, string]> = [
  ['a __proto__ key', '{"__proto__":{"admin":true}}', 'forbidden key'],
  ['a nested __proto__ key', '{"a":[{"__proto__":{"x":1}}]}', 'forbidden key'],
  ['constructor.prototype', '{"constructor":{"prototype":{"admin":true}}}', 'forbidden key'],
  [`nesting past ${MAX_JSON_DEPTH} levels`, deep(5000), `deeper than ${MAX_JSON_DEPTH} levels`],
];

describe('the rule itself', () => {
  it('parses ordinary JSON, brackets inside strings and escaped quotes included', () => {
    expect(parseJson(utf8('{"a":"[[{\\"}}","b":[1,{"c":null}],"constructor":"x"}'))).toEqual({ a: '[[{"}}', b: [1, { c: null }], constructor: 'x' });
    expect(parseJson(utf8('\uFEFF{"bom":true}'))).toEqual({ bom: true });
  });
  it.each([
    ['invalid UTF-8', INVALID_UTF8, 'not valid UTF-8'],
    ['an empty text', utf8(''), 'empty'],
    ['a syntax error', utf8('{"a":'), 'does not parse'],
    ...refusedPayloads.map(([name, text, says]) => [name, utf8(eventText(text)), says] as [string, Buffer, string]),
  ])('refuses %s', (_name, bytes, says) => {
    expect(() => parseJson(bytes)).toThrow(JsonRuleError);
    expect(() => parseJson(bytes)).toThrow(says);
  });
  it('measures depth exactly at the bound, ignoring brackets in strings', () => {
    const atBound = `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`;
    expect(textDepthExceeds(atBound, MAX_JSON_DEPTH)).toBe(false);
    expect(textDepthExceeds(`[${atBound}]`, MAX_JSON_DEPTH)).toBe(true);
    expect(textDepthExceeds(`["${'['.repeat(100)}\\\\", "\\"[[["]`, 2)).toBe(false);
  });
});

describe('over HTTP', () => {
  const send = (url: string, payload: string | Buffer) =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });
  const bodies = (payload: Buffer) => [
    ['POST /events', () => send('/events', payload)],
    ['POST /events/batch', () => send('/events/batch', Buffer.concat([utf8('{"events":['), payload, utf8(']}')]))],
  ] as const;

  it.each([
    ['invalid UTF-8', INVALID_UTF8, 'not valid UTF-8'],
    ...refusedPayloads.map(([name, text, says]) => [name, utf8(eventText(text)), says] as [string, Buffer, string]),
  ])('refuses %s with 400 invalid_json, single and batch, storing nothing', async (_name, payload, says) => {
    for (const [, post] of bodies(payload)) {
      const before = await countEvents(app);
      const res = await post();
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: { code: 'invalid_json', message: expect.stringContaining(says) } });
      expect(await countEvents(app)).toBe(before);
    }
  });

  it('keeps a "constructor" key that holds no prototype, like Fastify did', async () => {
    const res = await send('/events', eventText('{"constructor":"plain","s":"é"}'));
    expect(res.statusCode).toBe(201);
    expect(res.json().event.payload).toEqual({ constructor: 'plain', s: 'é' });
  });
});

describe('over the WebSocket', () => {
  let client: Client;
  beforeAll(async () => {
    client = await connect(`${base}/events`);
  });
  afterAll(() => client.ws.close());
  const errorFrames = () => client.frames.filter((f) => f.type === 'error');
  const publishText = (payloadText: string) => `{"type":"publish","id":"p","event":${eventText(payloadText)}}`;

  it.each(refusedPayloads)('refuses %s with an invalid_json error frame, storing nothing', async (_name, text, says) => {
    const before = await countEvents(app);
    const seen = errorFrames().length;
    client.ws.send(publishText(text));
    await client.until(() => errorFrames().length > seen);
    expect(errorFrames().at(-1)).toMatchObject({ type: 'error', code: 'invalid_json', message: expect.stringContaining(says) });
    // A publish that follows is handled after the refused one, so its answer shows nothing was stored.
    client.ws.send(publishText('{"ok":1}'));
    await client.until((f) => f.some((x) => x.type === 'published'));
    expect(await countEvents(app)).toBe(before + 1);
    client.frames.length = 0;
  });

  it(`refuses a payload nested past ${MAX_PAYLOAD_DEPTH} levels with invalid_message naming the limit`, async () => {
    const before = await countEvents(app);
    client.ws.send(publishText(deep(MAX_PAYLOAD_DEPTH + 1)));
    await client.until(() => errorFrames().length > 0);
    expect(errorFrames()[0]).toMatchObject({ code: 'invalid_message', message: expect.stringContaining(`deeper than ${MAX_PAYLOAD_DEPTH} levels`) });
    expect(await countEvents(app)).toBe(before);
    client.frames.length = 0;
  });

  it('closes the socket on a text frame that is not UTF-8, storing nothing', async () => {
    const before = await countEvents(app);
    const other = await connect(`${base}/events`);
    other.ws.send(Buffer.concat([utf8('{"type":"publish","id":"p","event":'), INVALID_UTF8, utf8('}')]), { binary: false });
    expect((await other.closed).code).toBe(1007);
    expect(await countEvents(app)).toBe(before);
  });
});
