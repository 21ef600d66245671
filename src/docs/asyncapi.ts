import type { TSchema } from 'typebox';
import { Event, HistoryQuery } from '../schemas/event.js';
import { CLIENT_MESSAGES, CONTROL_FRAMES } from '../schemas/stream.js';
import { version } from '../lib/version.js';

const STREAM = 'stream';

/** What each message means; the payloads are the schemas Herald validates and sends (src/schemas/stream.ts). */
const CLIENT_SUMMARIES: Record<keyof typeof CLIENT_MESSAGES, string> = {
  subscribe: 'Add a subscription: event types, filters and an optional `after` cursor to resume from',
  unsubscribe: 'Drop the subscription the message names by `id`',
  publish: 'Publish one event over the socket; answered with `published` when it is durable',
  ping: 'Ask for a `pong`',
};
const FRAME_SUMMARIES: Record<keyof typeof CONTROL_FRAMES, string> = {
  subscribed: 'A subscribe was registered',
  unsubscribed: 'An unsubscribe was done',
  published: 'A published event is stored and durable',
  pong: 'The answer to a ping',
  error: 'A message was refused or a cursor moved (`cursor_expired`, `cursor_ahead`); the socket stays open',
};

type Message = { name: string; title: string; summary: string; contentType: 'application/json'; payload: TSchema };
const message = (name: string, summary: string, payload: TSchema): Message => ({
  name, title: name, summary, contentType: 'application/json', payload,
});

const entries = <K extends string>(record: Record<K, string>) => Object.entries(record) as [K, string][];

function messages(): Record<string, Message> {
  return {
    event: message('event', 'A stored event, with its `seq` (the resume cursor); the only frame without a `type`. With `format: cloudevents` it is the event as a CloudEvent instead, `seq` an extension attribute (docs/cloudevents.md)', Event),
    ...Object.fromEntries(entries(CLIENT_SUMMARIES).map(([type, summary]) => [type, message(type, summary, CLIENT_MESSAGES[type])])),
    ...Object.fromEntries(entries(FRAME_SUMMARIES).map(([type, summary]) => [type, message(type, summary, CONTROL_FRAMES[type])])),
  };
}

/** An operation of Herald's on the stream channel: `send` is what Herald sends, `receive` what it reads. */
const operation = (action: 'send' | 'receive', title: string, summary: string, names: readonly string[]) => ({
  action,
  channel: { $ref: `#/channels/${STREAM}` },
  title,
  summary,
  messages: names.map((name) => ({ $ref: `#/channels/${STREAM}/messages/${name}` })),
});

/**
 * The AsyncAPI 3.0 document of the live stream on `GET /events` (docs/websocket.md). The message payloads
 * are the TypeBox schemas themselves. A Server-Sent Events stream on the same path would be one more
 * channel under `channels`, with its own operation and the `event` message.
 */
export function buildAsyncApi(): Record<string, unknown> {
  const serverMessages = ['event', ...Object.keys(CONTROL_FRAMES)];
  const clientMessages = Object.keys(CLIENT_MESSAGES);
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Herald live stream',
      version,
      description: `A WebSocket on \`GET /events\` (the path of the history API, with \`Upgrade: websocket\`). The query string may open one subscription at once; more are added with \`subscribe\` messages. Every frame is one JSON text message. Reconnect with \`after=<last seq>\` to resume with no gap and no duplicate. The HTTP API is described by \`/openapi.json\`.`,
    },
    defaultContentType: 'application/json',
    servers: {
      herald: {
        host: 'localhost:8080',
        protocol: 'ws',
        description: 'Your Herald; `wss` behind TLS',
        security: [{ $ref: '#/components/securitySchemes/bearer' }, { $ref: '#/components/securitySchemes/queryToken' }],
      },
    },
    channels: {
      [STREAM]: {
        address: '/events',
        title: 'Live events',
        description: 'Needs the `read` scope; `publish` messages need `publish`. Close codes 4000–4499 mean reconnect and resume, 4500–4999 do not reconnect (docs/websocket.md).',
        messages: Object.fromEntries([...serverMessages, ...clientMessages].map((name) => [name, { $ref: `#/components/messages/${name}` }])),
        bindings: {
          ws: {
            method: 'GET',
            // The upgrade is validated with the history query; the stream ignores since, until, before, order and limit.
            query: HistoryQuery,
            bindingVersion: '0.1.0',
          },
        },
      },
    },
    operations: {
      receiveFrames: operation('send', 'Frames Herald sends', 'Events as they are stored, and the answers to client messages', serverMessages),
      clientMessages: operation('receive', 'Messages Herald receives', 'Answered only when they carry an `id`; errors are always sent', clientMessages),
    },
    components: {
      messages: messages(),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <key>` on the upgrade request; with no keys configured, loopback clients only' },
        queryToken: { type: 'httpApiKey', in: 'query', name: 'token', description: 'The key as `?token=`, for browsers: they cannot set headers on a WebSocket' },
      },
    },
  };
}
