import { Type, type Static } from 'typebox';
import { DateTime, JsonObject, JsonObjectInput, Nullable, Uuid } from './common.js';

/** The ten built-in types (task_started … custom) or any dotted name; see docs/design.md#events. */
export const EVENT_TYPE_PATTERN = '^[a-z0-9_]+([.:-][a-z0-9_]+)*$';
/** A history/subscription type filter: an event type where `*` may stand for any run of characters. */
export const EVENT_TYPE_FILTER_PATTERN = '^[a-z0-9_*]+([.:-][a-z0-9_*]+)*$';
/** Most `*` in one type filter: matching stays linear, but each one multiplies the work per event type. */
export const MAX_TYPE_WILDCARDS = 8;
/** Holds when a pattern (or each of a comma list of them) has at most MAX_TYPE_WILDCARDS `*`. */
const wildcardBound = (separator: string) => {
  const one = `[^*${separator}]*(\\*[^*${separator}]*){0,${MAX_TYPE_WILDCARDS}}`;
  return { type: 'string', pattern: separator ? `^${one}(${separator}${one})*$` : `^${one}$` } as const;
};
/**
 * One type filter of a WebSocket or webhook subscription. The `*` bound is a second pattern (allOf), so a
 * pattern with too many `*` fails with a message that shows the bound instead of the character rules.
 */
export const EventTypeFilter = Type.String({
  pattern: EVENT_TYPE_FILTER_PATTERN,
  maxLength: 128,
  allOf: [wildcardBound('')],
  description: `an event type where * stands for any run of characters, at most ${MAX_TYPE_WILDCARDS} of them`,
});


export const Priority = Type.Union([
  Type.Literal('low'), Type.Literal('normal'), Type.Literal('high'), Type.Literal('critical'),
]);
export type Priority = Static<typeof Priority>;

/** retry_count and max_retries are 32-bit counts: the store encodes integers exactly only up to 2^53. */
export const MAX_RETRY_FIELD = 2_147_483_647;

export const EventType = Type.String({ pattern: EVENT_TYPE_PATTERN, minLength: 1, maxLength: 128 });

/** What a producer sends. Unknown top-level fields are rejected. */
export const EventInput = Type.Object(
  {
    event_id: Type.Optional(Uuid),
    event_type: EventType,
    source: Type.String({ minLength: 1, maxLength: 256 }),
    target: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 256 }))),
    payload: Type.Optional(JsonObjectInput),
    metadata: Type.Optional(JsonObjectInput),
    timestamp: Type.Optional(DateTime),
    priority: Type.Optional(Priority),
    correlation_id: Type.Optional(Nullable(Uuid)),
    workflow_id: Type.Optional(Nullable(Uuid)),
    session_id: Type.Optional(Nullable(Uuid)),
    retry_count: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_RETRY_FIELD })),
    max_retries: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: MAX_RETRY_FIELD }))),
    expires_at: Type.Optional(Nullable(DateTime)),
  },
  { $id: 'EventInput', additionalProperties: false },
);
export type EventInput = Static<typeof EventInput>;

/**
 * How events are shown to a subscriber: `seed` is Herald's own event object, `cloudevents` a CloudEvent in
 * the JSON format (docs/cloudevents.md). Webhook subscriptions and stream subscriptions choose one.
 */
export const EventFormat = Type.Union([Type.Literal('seed'), Type.Literal('cloudevents')]);
export type EventFormat = Static<typeof EventFormat>;

/** CloudEvents extension attribute values Herald keeps: the CloudEvents type system's string, integer, boolean. */
export const CloudEventExtensionValue = Type.Union([Type.String({ maxLength: 4096 }), Type.Integer(), Type.Boolean()]);

/**
 * What a CloudEvent carried that Herald's own fields do not (docs/cloudevents.md): its original `id`, its
 * `type` when that is not already a Herald event type, `subject`, `dataschema`, `datacontenttype`, how
 * `payload` holds its data, and the extensions Herald has no field for. Only the CloudEvents paths set it.
 */
export const CloudEventOrigin = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 256 }),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    subject: Type.Optional(Type.String({ maxLength: 1024 })),
    dataschema: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    datacontenttype: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** `none`: the CloudEvent had no data; `wrapped`: its data was not an object and is `payload.data`. */
    data: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('wrapped')])),
    extensions: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z0-9]+$' }), CloudEventExtensionValue)),
  },
  { $id: 'CloudEventOrigin', additionalProperties: false },
);
export type CloudEventOrigin = Static<typeof CloudEventOrigin>;

/**
 * A CloudEvent in the JSON format, as `POST /events` takes it with `content-type: application/cloudevents+json`
 * (and in an array with `application/cloudevents-batch+json`). Describes the request for the API reference;
 * src/events/cloudevents.ts checks it and maps it to EventInput.
 */
export const CloudEventInput = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String({ minLength: 1, maxLength: 256 }),
    source: Type.String({ minLength: 1, maxLength: 256 }),
    type: Type.String({ minLength: 1, maxLength: 128, description: 'lower-cased, it must be a Herald event type' }),
    time: Type.Optional(Type.String({ format: 'date-time' })),
    subject: Type.Optional(Type.String({ maxLength: 1024 })),
    datacontenttype: Type.Optional(Type.String({ description: 'a JSON media type: application/json, text/json or */*+json' })),
    dataschema: Type.Optional(Type.String({ maxLength: 2048 })),
    data: Type.Optional(Type.Unknown()),
  },
  {
    $id: 'CloudEvent',
    additionalProperties: CloudEventExtensionValue,
    description: 'Extensions: priority, correlationid, workflowid, sessionid, target, traceparent, tracestate map to Herald fields; others are kept (docs/cloudevents.md)',
  },
);

/** A stored event as every API returns it. */
export const Event = Type.Object(
  {
    event_id: Uuid,
    event_type: Type.String(),
    source: Type.String(),
    target: Nullable(Type.String()),
    payload: JsonObject,
    metadata: JsonObject,
    timestamp: Type.String(),
    priority: Priority,
    correlation_id: Nullable(Type.String()),
    workflow_id: Nullable(Type.String()),
    session_id: Nullable(Type.String()),
    retry_count: Type.Integer(),
    max_retries: Nullable(Type.Integer()),
    expires_at: Nullable(Type.String()),
    seq: Type.Integer({ minimum: 1 }),
    /** W3C trace context of the publish (CloudEvents distributed tracing); absent when it had none. */
    traceparent: Type.Optional(Type.String()),
    tracestate: Type.Optional(Type.String()),
    /** Present on events published as CloudEvents: what `toCloudEvent` needs to give the original back. */
    cloudevent: Type.Optional(CloudEventOrigin),
  },
  { $id: 'Event', additionalProperties: false },
);
export type Event = Static<typeof Event>;

export const MAX_BATCH = 1000;

export const BatchInput = Type.Object(
  {
    events: Type.Array(EventInput, { minItems: 1, maxItems: MAX_BATCH }),
    correlation_id: Type.Optional(Uuid),
  },
  { $id: 'BatchInput', additionalProperties: false },
);
export type BatchInput = Static<typeof BatchInput>;

export const SEQ_PATTERN = '^[0-9]{1,15}$';

export const HistoryQuery = Type.Object(
  {
    types: Type.Optional(Type.String({
      pattern: `^${EVENT_TYPE_FILTER_PATTERN.slice(1, -1)}(,${EVENT_TYPE_FILTER_PATTERN.slice(1, -1)})*$`,
      maxLength: 4096,
      allOf: [wildcardBound(',')],
    })),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    target: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    priority: Type.Optional(Type.String({ pattern: '^(low|normal|high|critical)(,(low|normal|high|critical))*$' })),
    correlation_id: Type.Optional(Uuid),
    workflow_id: Type.Optional(Uuid),
    session_id: Type.Optional(Uuid),
    /** A filter as URL-encoded JSON (docs/filters.md), ANDed with the shortcuts above. */
    filter: Type.Optional(Type.String({ description: 'A filter as JSON (docs/filters.md), combined with the other conditions by AND' })),
    since: Type.Optional(DateTime),
    until: Type.Optional(DateTime),
    after: Type.Optional(Type.String({ pattern: SEQ_PATTERN })),
    before: Type.Optional(Type.String({ pattern: SEQ_PATTERN })),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    /** The API key, for clients that cannot set an Authorization header (browser WebSockets). */
    token: Type.Optional(Type.String()),
    /** The stream's frames (docs/cloudevents.md); history is always Herald events. */
    format: Type.Optional(EventFormat),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuery>;

export const HistoryPage = Type.Object({
  events: Type.Array(Event),
  next_cursor: Nullable(Type.String()),
}, { $id: 'HistoryPage' });
export type HistoryPage = Static<typeof HistoryPage>;

export const EventParams = Type.Object({ event_id: Uuid }, { additionalProperties: false });
