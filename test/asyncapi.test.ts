import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import specs from '@asyncapi/specs';
import { testApp } from './helpers/app.js';
import { Event, HistoryQuery } from '../src/schemas/event.js';
import { CLIENT_MESSAGES, CONTROL_FRAMES, ControlFrame } from '../src/schemas/stream.js';
import { version } from '../src/lib/version.js';

type Message = { payload: unknown; contentType: string };
interface Document {
  asyncapi: string;
  info: { version: string };
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }>; bindings: { ws: { method: string; query: unknown } } }>;
  operations: Record<string, { action: 'send' | 'receive'; channel: { $ref: string }; messages: { $ref: string }[] }>;
  components: { messages: Record<string, Message>; securitySchemes: Record<string, { type: string; in?: string; name?: string }> };
}

let app: FastifyInstance;
let doc: Document;
beforeAll(async () => {
  app = await testApp();
  const res = await app.inject({ url: '/asyncapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json();
});
afterAll(async () => {
  await app.close();
});

/** A schema as it travels: TypeBox's symbol keys do not. */
const asJson = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as unknown;

/** Follows a local `#/…` reference within the document. */
function resolve<T>(ref: string): T {
  return ref.slice(2).split('/').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], doc) as T;
}

describe('AsyncAPI document of the WebSocket stream', () => {
  it('is valid against the official AsyncAPI 3.0.0 JSON Schema, versioned like the package', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(specs.schemasWithoutId['3.0.0']);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.info.version).toBe(version);
    // The schema does check what matters: an operation that neither sends nor receives is refused.
    const broken = structuredClone(doc);
    (broken.operations.receiveFrames as { action: string }).action = 'stream';
    expect(validate(broken)).toBe(false);
  });

  it("uses Herald's own TypeBox schemas as the message payloads", () => {
    const messages = doc.components.messages;
    for (const [type, schema] of Object.entries(CLIENT_MESSAGES)) expect(messages[type]?.payload, type).toEqual(asJson(schema));
    for (const [type, schema] of Object.entries(CONTROL_FRAMES)) expect(messages[type]?.payload, type).toEqual(asJson(schema));
    expect(messages.event?.payload).toEqual(asJson(Event));
    // CONTROL_FRAMES is the list the document walks: it must be every frame the server sends.
    expect(ControlFrame.anyOf).toEqual(Object.values(CONTROL_FRAMES));
  });

  it('describes /events: what the server sends, what it receives, the upgrade query and both ways to pass the key', () => {
    const [channel] = Object.values(doc.channels);
    expect(channel?.address).toBe('/events');
    expect(channel?.bindings.ws.method).toBe('GET');
    expect(channel?.bindings.ws.query).toEqual(asJson(HistoryQuery));

    const byAction = (action: 'send' | 'receive') =>
      Object.values(doc.operations).filter((o) => o.action === action)
        .flatMap((o) => o.messages.map((m) => resolve<{ $ref: string }>(m.$ref).$ref.split('/').at(-1)));
    expect(new Set(byAction('send'))).toEqual(new Set(['event', ...Object.keys(CONTROL_FRAMES)]));
    expect(new Set(byAction('receive'))).toEqual(new Set(Object.keys(CLIENT_MESSAGES)));
    for (const operation of Object.values(doc.operations)) expect(resolve(operation.channel.$ref)).toBe(channel);

    expect(Object.values(doc.components.securitySchemes)).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'http' }),
      expect.objectContaining({ type: 'httpApiKey', in: 'query', name: 'token' }),
    ]));
  });
});
