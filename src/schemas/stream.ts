import { Type, type Static } from 'typebox';
import { Uuid } from './common.js';
import { Filter } from './filter.js';
import { EventFormat, EventInput, EventTypeFilter, Priority, SEQ_PATTERN } from './event.js';

/** Filter numbers stay within ±(2^53 − 1): larger ones are not exact in JSON and the store cannot encode them. */
const Scalar = Type.Union([
  Type.String({ maxLength: 1024 }),
  Type.Number({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }),
  Type.Boolean(),
  Type.Null(),
]);

/** The older `filters` shortcut: each key is one equality test of the filter language (docs/filters.md#shortcuts). */
export const StreamFilters = Type.Object(
  {
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    target: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    priority: Type.Optional(Type.Union([Priority, Type.Array(Priority, { minItems: 1, maxItems: 4 })])),
    workflow_id: Type.Optional(Uuid),
    session_id: Type.Optional(Uuid),
    correlation_id: Type.Optional(Uuid),
  },
  { additionalProperties: false, patternProperties: { '^payload\\.[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)*$': Scalar } },
);
export type StreamFilters = Static<typeof StreamFilters> & Record<`payload.${string}`, string | number | boolean | null>;

export const MESSAGE_ID_MAX_LENGTH = 128;
const MessageId = Type.Optional(Type.Union([Type.String({ maxLength: MESSAGE_ID_MAX_LENGTH }), Type.Number()]));
const Cursor = Type.Union([Type.String({ pattern: SEQ_PATTERN }), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })]);

export const SubscribeMessage = Type.Object(
  {
    type: Type.Literal('subscribe'),
    id: MessageId,
    event_types: Type.Optional(Type.Array(EventTypeFilter, { maxItems: 100 })),
    filters: Type.Optional(StreamFilters),
    filter: Type.Optional(Filter),
    after: Type.Optional(Cursor),
    format: Type.Optional(EventFormat),
  },
  { additionalProperties: false },
);
export const UnsubscribeMessage = Type.Object({ type: Type.Literal('unsubscribe'), id: MessageId }, { additionalProperties: false });
export const PublishMessage = Type.Object({ type: Type.Literal('publish'), id: MessageId, event: EventInput }, { additionalProperties: false });
export const PingMessage = Type.Object({ type: Type.Literal('ping'), id: MessageId }, { additionalProperties: false });

export type SubscribeMessage = Static<typeof SubscribeMessage>;
export type ClientMessage =
  | SubscribeMessage
  | Static<typeof UnsubscribeMessage>
  | Static<typeof PublishMessage>
  | Static<typeof PingMessage>;

export const CLIENT_MESSAGES = {
  subscribe: SubscribeMessage,
  unsubscribe: UnsubscribeMessage,
  publish: PublishMessage,
  ping: PingMessage,
} as const;

export const SubscribedFrame = Type.Object({ type: Type.Literal('subscribed'), id: MessageId, subscription: Type.String() });
export const UnsubscribedFrame = Type.Object({ type: Type.Literal('unsubscribed'), id: MessageId });
export const PublishedFrame = Type.Object({
  type: Type.Literal('published'), id: MessageId, event_id: Type.String(), seq: Type.Integer(), created: Type.Boolean(),
});
export const PongFrame = Type.Object({ type: Type.Literal('pong'), id: MessageId });
export const ErrorFrame = Type.Object({
  type: Type.Literal('error'),
  id: MessageId,
  code: Type.String(),
  message: Type.String(),
  oldest_seq: Type.Optional(Type.Integer()),
  details: Type.Optional(Type.Unknown()),
});

/** Control frames; event frames are the plain event object (no `type` field). */
export const CONTROL_FRAMES = {
  subscribed: SubscribedFrame,
  unsubscribed: UnsubscribedFrame,
  published: PublishedFrame,
  pong: PongFrame,
  error: ErrorFrame,
} as const;
export const ControlFrame = Type.Union([SubscribedFrame, UnsubscribedFrame, PublishedFrame, PongFrame, ErrorFrame]);
export type ControlFrame = Static<typeof ControlFrame>;

/** Close codes: 4000–4499 reconnect and resume, 4500–4999 do not reconnect (docs/websocket.md lists them). */
export const CloseCode = {
  goingAway: 1001,
  /** Sent by the ws library for a text frame that is not UTF-8, before Herald reads it. */
  invalidUtf8: 1007,
  policyViolation: 1008,
  /** Sent by the ws library for a frame over its own limit (4× HERALD_WS_MAX_MESSAGE). */
  frameTooBig: 1009,
  slowConsumer: 4000,
  tooBig: 4503,
} as const;

/** The data of a Server-Sent Events `event: error` message (docs/streaming.md); events are the plain event object. */
export const EventStreamError = Type.Object({
  code: Type.String(),
  message: Type.String(),
  oldest_seq: Type.Optional(Type.Integer()),
  details: Type.Optional(Type.Unknown()),
});
export type EventStreamError = Static<typeof EventStreamError>;
