import { Type, type Static } from 'typebox';
import { Nullable, Uuid } from './common.js';
import { EventFormat, EventTypeFilter } from './event.js';
import { StreamFilters } from './stream.js';
import { Filter } from './filter.js';

const EventTypes = Type.Array(EventTypeFilter, { maxItems: 100 });
const CallbackUrl = Type.String({ minLength: 1, maxLength: 2048 });
/** docs/webhooks.md#ordering */
const OrderingKey = Nullable(Type.String({
  pattern: '^(subscription|workflow_id|session_id|correlation_id|source|target|payload(\\.[A-Za-z0-9_-]+)+)$',
  maxLength: 256,
  description: 'null: parallel; "subscription": one FIFO line; an event field (workflow_id, session_id, correlation_id, source, target, payload.<path>): same value → seq order',
}));
/** Deliveries per second to one subscription's endpoint (docs/webhooks.md#throttle); null = unlimited. */
const RateLimit = Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 10_000, description: 'Deliveries per second; null = unlimited' }));
const Secret = Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{24,}={0,2}$', description: 'whsec_ + base64 of at least 18 bytes' });

export const SubscriptionInput = Type.Object(
  {
    subscriber_name: Type.String({ minLength: 1, maxLength: 256 }),
    event_types: Type.Optional(EventTypes),
    filters: Type.Optional(StreamFilters),
    filter: Type.Optional(Filter),
    callback_url: Type.Optional(Nullable(CallbackUrl)),
    secret: Type.Optional(Secret),
    is_active: Type.Optional(Type.Boolean()),
    format: Type.Optional(EventFormat),
    ordering_key: Type.Optional(OrderingKey),
    rate_limit: Type.Optional(RateLimit),
  },
  { $id: 'SubscriptionInput', additionalProperties: false },
);
export type SubscriptionInput = Static<typeof SubscriptionInput>;

export const SubscriptionPatch = Type.Object(
  {
    subscriber_name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    event_types: Type.Optional(EventTypes),
    filters: Type.Optional(StreamFilters),
    filter: Type.Optional(Filter),
    callback_url: Type.Optional(Nullable(CallbackUrl)),
    is_active: Type.Optional(Type.Boolean()),
    format: Type.Optional(EventFormat),
    ordering_key: Type.Optional(OrderingKey),
    rate_limit: Type.Optional(RateLimit),
  },
  { $id: 'SubscriptionPatch', additionalProperties: false, minProperties: 1 },
);
export type SubscriptionPatch = Static<typeof SubscriptionPatch>;

const IsoOrNull = Nullable(Type.String());
/** The endpoint's health as of its last change (docs/webhooks.md#endpoint-health). */
export const SubscriptionHealth = Type.Object({
  state: Type.Union([
    Type.Literal('healthy'), Type.Literal('failing'), Type.Literal('paused'), Type.Literal('circuit_open'), Type.Literal('circuit_half_open'), Type.Literal('disabled'),
  ]),
  circuit: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')]),
  consecutive_failures: Type.Integer({ minimum: 0, description: 'Failed attempts in a row, as of the last change of state' }),
  failing_since: IsoOrNull,
  paused_until: Nullable(Type.String({ description: 'A Retry-After pause: no request to the endpoint before this' })),
  next_probe_at: Nullable(Type.String({ description: 'Circuit open: when the one probe request may go' })),
  disabled_reason: IsoOrNull,
}, { $id: 'SubscriptionHealth' });
export type SubscriptionHealth = Static<typeof SubscriptionHealth>;

/** A subscription as the API shows it; its secrets are only ever shown on creation and rotation. */
export const Subscription = Type.Object({
  subscription_id: Uuid,
  subscriber_name: Type.String(),
  event_types: Type.Array(Type.String()),
  filters: Type.Record(Type.String(), Type.Unknown()),
  /** `{}` (every event) when none was given. */
  filter: Filter,
  callback_url: Nullable(Type.String()),
  is_active: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
  last_activity: Nullable(Type.String()),
  disabled_reason: Nullable(Type.String()),
  failing_since: Nullable(Type.String({ description: 'Start of the current run of failed attempts; null after a success' })),
  format: EventFormat,
  ordering_key: OrderingKey,
  rate_limit: RateLimit,
  health: SubscriptionHealth,
}, { $id: 'Subscription' });
export type Subscription = Static<typeof Subscription>;

export const SubscriptionWithSecret = Type.Evaluate(Type.Intersect([Subscription, Type.Object({ secret: Type.String() })]), { $id: 'SubscriptionWithSecret' });
export const SubscriptionParams = Type.Object({ id: Uuid }, { additionalProperties: false });
export const SubscriptionListQuery = Type.Object(
  { subscriber_name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })), token: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export const SubscriptionList = Type.Object({ subscriptions: Type.Array(Subscription) }, { $id: 'SubscriptionList' });
export const RotatedSecret = Type.Object(
  { secret: Type.String(), previous_valid_until: Type.String() },
  { $id: 'RotatedSecret' },
);
