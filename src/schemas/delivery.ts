import { Type, type Static } from 'typebox';
import { DateTime, Nullable, Uuid } from './common.js';
import { Priority } from './event.js';

export const DeliveryStatus = Type.Union([
  Type.Literal('pending'), Type.Literal('retrying'), Type.Literal('delivered'), Type.Literal('failed'), Type.Literal('expired'),
]);
export type DeliveryStatus = Static<typeof DeliveryStatus>;

/**
 * `<subscription_id>.<seq>` for the delivery of an event from the subscription's log cursor; a UUID for a
 * replay (and for deliveries written before webhooks v2). docs/webhooks.md, "Delivery ids".
 */
export const DeliveryId = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(\\.[1-9][0-9]{0,15})?$',
});

/** One webhook delivery: an (event, subscription) pair and where its attempts stand. */
export const Delivery = Type.Object({
  delivery_id: DeliveryId,
  event_id: Uuid,
  subscription_id: Uuid,
  event_type: Type.String(),
  priority: Priority,
  seq: Type.Integer(),
  status: DeliveryStatus,
  attempts: Type.Integer({ minimum: 0 }),
  next_attempt_at: Nullable(Type.String({ description: 'When the next attempt is due (pending/retrying only)' })),
  last_attempt_at: Nullable(Type.String()),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
}, { $id: 'Delivery' });
export type Delivery = Static<typeof Delivery>;

/** One HTTP attempt of a delivery. */
export const DeliveryAttempt = Type.Object({
  attempt: Type.Integer({ minimum: 1 }),
  at: Type.String(),
  status_code: Nullable(Type.Integer()),
  duration_ms: Type.Number(),
  error: Nullable(Type.String()),
  response_body: Nullable(Type.String({ description: 'First 4 KiB of the response body' })),
  webhook_id: Type.String(),
}, { $id: 'DeliveryAttempt' });
export type DeliveryAttempt = Static<typeof DeliveryAttempt>;

export const DeliveryDetail = Type.Evaluate(Type.Intersect([Delivery, Type.Object({ attempts_log: Type.Array(DeliveryAttempt) })]), { $id: 'DeliveryDetail' });
export type DeliveryDetail = Static<typeof DeliveryDetail>;

export const DeliveryParams = Type.Object({ id: DeliveryId }, { additionalProperties: false });

export const DeliveryListQuery = Type.Object(
  {
    status: Type.Optional(Type.String({ pattern: '^(pending|retrying|delivered|failed|expired)(,(pending|retrying|delivered|failed|expired))*$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    after: Type.Optional(Type.String({ ...DeliveryId, description: 'Cursor: the next_cursor of the previous page' })),
    token: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type DeliveryListQuery = Static<typeof DeliveryListQuery>;

export const DeliveryPage = Type.Object({ deliveries: Type.Array(Delivery), next_cursor: Nullable(Type.String()) }, { $id: 'DeliveryPage' });
export type DeliveryPage = Static<typeof DeliveryPage>;

export const ReplayInput = Type.Object(
  {
    since: Type.String({ ...DateTime, description: 'Replay events published at or after this time' }),
    until: Type.Optional(DateTime),
  },
  { $id: 'ReplayInput', additionalProperties: false },
);
export type ReplayInput = Static<typeof ReplayInput>;

export const ReplayResult = Type.Object({
  deliveries_created: Type.Integer({ minimum: 0 }),
  events_scanned: Type.Integer({ minimum: 0 }),
}, { $id: 'ReplayResult' });
