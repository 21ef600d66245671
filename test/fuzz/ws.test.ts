/**
 * Property tests over every WebSocket message type (and unknown ones): after each hostile message the
 * socket still answers a ping, or it closed with a documented close code; a message with an id is answered;
 * a refused publish writes nothing; and HTTP and WebSocket agree on which events they accept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { CloseCode, ControlFrame, PingMessage, PublishMessage, SubscribeMessage, UnsubscribeMessage } from '../../src/schemas/stream.js';
import { EventInput, Event } from '../../src/schemas/event.js';
import { cleanupServers } from '../helpers/spawn-server.js';
import { connect, type Client } from '../helpers/ws.js';
import { arbitraryOf } from './arbitraries.js';
import { PROPERTY_TIMEOUT_MS, fuzz, jsonHeaders, rawRequest, startFuzzServer, type FuzzServer } from './harness.js';
import { expectLiveness, markFlight, watchHealth } from './liveness.js';
import { PROTOTYPE_NAMES, hostileValue, mutated, ownObject, serialize } from './hostile.js';

/** The close codes docs/websocket.md lists for a server-side close. */
const DOCUMENTED_CLOSE = new Set<number>(Object.values(CloseCode));
/** A message the server refuses to parse is answered by an `invalid_json` error, which cannot carry its id. */
const unparsed = (frame: Record<string, unknown>) => frame.code === 'invalid_json' && frame.id === undefined;
const MAX_MESSAGE = 65_536;
const OVERSIZED_FRAME = 'over 4× HERALD_WS_MAX_MESSAGE';

let server: FuzzServer;
let health: ReturnType<typeof watchHealth>;
let client: Client | undefined;
let probes = 0;

beforeAll(async () => {
  server = await startFuzzServer({ HERALD_WS_MAX_MESSAGE: String(MAX_MESSAGE) });
  health = watchHealth(server.port);
}, 60_000);

afterAll(async () => {
  client?.ws.terminate();
  await health?.stop();
  await cleanupServers();
});

/** The open socket, or a new one when the last hostile message closed it. */
async function socket(): Promise<Client> {
  if (!client || client.ws.readyState !== client.ws.OPEN) client = await connect(`ws://127.0.0.1:${server.port}/events`);
  return client;
}

async function lastSeq(): Promise<unknown> {
  const res = await rawRequest(server.port, { method: 'GET', path: '/health' });
  return (JSON.parse(res.body) as { last_seq: unknown }).last_seq;
}

/** A frame as sent: a JSON value, or raw bytes (a text frame that is not UTF-8, a binary frame). */
class Frame {
  constructor(readonly bytes: Buffer, readonly binary: boolean, readonly label: string) {}
  [fc.toStringMethod](): string {
    return `frame(${this.label})`;
  }
}

const rawFrames: fc.Arbitrary<Frame> = fc.constantFrom(
  new Frame(Buffer.from('{"type":"ping","id":"\xff"}', 'latin1'), false, 'ping with invalid UTF-8'),
  new Frame(Buffer.from([0xc3, 0x28]), false, 'invalid UTF-8'),
  new Frame(Buffer.from('{"type":"ping","id":1}'), true, 'binary ping'),
  new Frame(Buffer.from('{"type":'), false, 'truncated JSON'),
  new Frame(Buffer.from(''), false, 'empty'),
  new Frame(Buffer.from(`{"type":"ping","id":"${'x'.repeat(MAX_MESSAGE + 10)}"}`), false, 'over HERALD_WS_MAX_MESSAGE'),
  new Frame(Buffer.from(`"${'x'.repeat(MAX_MESSAGE * 4 + 10)}"`), false, OVERSIZED_FRAME),
);

const withId = (m: fc.Arbitrary<unknown>) =>
  fc.tuple(m, fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.integer()), { nil: undefined })).map(([msg, id]) =>
    msg !== null && typeof msg === 'object' && !Array.isArray(msg) && id !== undefined ? ownObject([...Object.entries(msg), ['id', id]]) : msg);

/** Per message type: valid messages from its schema, and mutated ones. */
const MESSAGE_TYPES = { subscribe: SubscribeMessage, unsubscribe: UnsubscribeMessage, publish: PublishMessage, ping: PingMessage };
const familyOf = (schema: TSchema) => fc.oneof(arbitraryOf(schema), mutated(arbitraryOf(schema)));

/** Types the protocol does not have: prototype member names, near misses, non-strings. */
const unknownTypes = withId(
  fc.oneof(
    fc.constantFrom<unknown>(...PROTOTYPE_NAMES, 'Subscribe', 'pong', 'error', 'subscribed', '', 'publish ', 1, null, [], {}, true),
    fc.string(),
  ).chain((type) => fc.constantFrom({ type }, { type, event_types: ['a'] }, { type, event: { event_type: 'a', source: 's' } })),
);

/** The `id` the server must answer to: a JSON object's string (≤ 128) or number id, as the schema allows. */
function answerableId(message: unknown): string | number | undefined {
  if (message === null || typeof message !== 'object' || Array.isArray(message) || message instanceof Frame) return undefined;
  const id = (message as Record<string, unknown>).id;
  if (typeof id === 'number' || (typeof id === 'string' && id.length <= 128 && !/[\ud800-\udfff]/.test(id))) return id;
  return undefined;
}

const isEventFrame = (frame: unknown) => Value.Check(Event, frame);

/**
 * Sends `message`, then a ping: the ping is answered, or the socket closed with a documented code. Frames in
 * between are control or event frames; a message with an id got an answer; a refused one wrote no event.
 */
async function checkMessage(message: unknown): Promise<void> {
  const ws = await socket();
  const seqBefore = await lastSeq();
  const firstFrame = ws.frames.length;
  const probe = `probe-${++probes}`;
  const from = Date.now();
  if (message instanceof Frame) ws.ws.send(message.bytes, { binary: message.binary });
  else ws.ws.send(serialize(message), { binary: false });
  ws.send({ type: 'ping', id: probe });
  const answered = ws.until((frames) => frames.some((f) => f.type === 'pong' && f.id === probe), 5000).then(() => 'pong' as const);
  answered.catch(() => undefined); // a close wins the race below; the ping's deadline then passes unobserved
  const outcome = await Promise.race([answered, ws.closed.then((c) => c)]).catch((err: Error) => err);
  markFlight(from, `ws ${message instanceof Frame ? message.label : serialize(message).subarray(0, 100).toString('utf8')}`);
  if (outcome instanceof Error) throw new Error(`the socket neither answered the ping nor closed: ${outcome.message}`);
  if (outcome !== 'pong') {
    // The ws library drops the connection on a frame over its limit, so its 1009 may never reach the client.
    const oversized = message instanceof Frame && message.label === OVERSIZED_FRAME;
    expect(oversized ? [...DOCUMENTED_CLOSE, 1006] : DOCUMENTED_CLOSE, `closed with undocumented code ${outcome.code} (${outcome.reason})`).toContain(outcome.code);
    return;
  }
  const frames = ws.frames.slice(firstFrame);
  for (const frame of frames) {
    expect(Value.Check(ControlFrame, frame) || isEventFrame(frame), `not a control or event frame: ${JSON.stringify(frame).slice(0, 300)}`).toBe(true);
  }
  const id = answerableId(message);
  if (id === undefined || id === probe) return;
  const answers = frames.filter((f) => f.id === id || unparsed(f));
  expect(answers.length, `message with id ${JSON.stringify(id)} was not answered`).toBeGreaterThan(0);
  if (!answers.some((f) => f.type === 'published')) expect(await lastSeq(), 'a refused message wrote an event').toEqual(seqBefore);
}

describe('every WebSocket message type leaves the socket answering pings, or closes it with a documented code', () => {
  for (const [type, schema] of Object.entries(MESSAGE_TYPES)) {
    it(type, async () => {
      await fuzz(familyOf(schema), checkMessage);
    }, PROPERTY_TIMEOUT_MS);
  }
  it('unknown and prototype-named types', async () => {
    await fuzz(unknownTypes, checkMessage);
  }, PROPERTY_TIMEOUT_MS);
  it('hostile values and raw frames', async () => {
    await fuzz(fc.oneof(hostileValue, rawFrames), checkMessage);
  }, PROPERTY_TIMEOUT_MS);
});

describe('HTTP and WebSocket agree', () => {
  const events = fc.oneof(
    arbitraryOf(EventInput),
    mutated(arbitraryOf(EventInput)),
    arbitraryOf(EventInput).chain((e) =>
      fc.tuple(fc.constantFrom(...PROTOTYPE_NAMES), fc.constantFrom<unknown>(1, { polluted: true }, null)).map(([key, value]) =>
        ownObject([...Object.entries(e as object), ['payload', ownObject([[key, value]])]]))),
  );
  it('an event POST /events accepts is one a publish message accepts, and the reverse', async () => {
    await fuzz(events, async (event) => {
        const stripped = event !== null && typeof event === 'object' && !Array.isArray(event)
          ? ownObject(Object.entries(event).filter(([k]) => k !== 'event_id')) : event;
        if (serialize(stripped).length > MAX_MESSAGE - 100 || JSON.stringify(stripped)?.includes('\\ud8')) return;
        const http = await rawRequest(server.port, { method: 'POST', path: '/events', headers: jsonHeaders, body: serialize(stripped) });
        // A socket of its own: refused publishes count toward the 1008 limit, which is not what this compares.
        const ws = await connect(`ws://127.0.0.1:${server.port}/events`);
        const id = `diff-${++probes}`;
        const firstFrame = ws.frames.length;
        ws.ws.send(Buffer.concat([Buffer.from(`{"type":"publish","id":"${id}","event":`), serialize(stripped), Buffer.from('}')]), { binary: false });
        // Messages are answered in order, so the publish's answer precedes the pong.
        ws.send({ type: 'ping', id: `${id}-done` });
        const answered = ws.until((frames) => frames.some((f) => f.id === `${id}-done`), 5000).then(() => undefined);
        // A text frame that is not UTF-8 never reaches Herald: the ws library closes with 1007 instead.
        const closed = await Promise.race([answered, ws.closed]);
        if (closed) expect(closed.code, `publish closed the socket: ${closed.code} ${closed.reason}`).toBe(CloseCode.invalidUtf8);
        const answer = closed ? undefined : ws.frames.slice(firstFrame).find((f) => f.id === id || unparsed(f));
        const httpAccepted = http.status < 300;
        const wsAccepted = answer?.type === 'published';
        ws.ws.close();
        expect(wsAccepted, `HTTP ${http.status} ${http.body.slice(0, 200)} but WebSocket ${JSON.stringify(answer ?? closed).slice(0, 300)}`).toBe(httpAccepted);
      });
  }, PROPERTY_TIMEOUT_MS);
});

describe('liveness while fuzzing the stream', () => {
  it('/health answers within 100 ms (99 % of answers) and never stalls for a second', async () => {
    await expectLiveness(health, 'ws');
  });
});

