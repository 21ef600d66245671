import { Type, type Static } from 'typebox';
import { Nullable, Uuid } from './common.js';

/**
 * The payload of the `system_alert` event Herald publishes (source `herald`) when a webhook endpoint's
 * health changes (docs/webhooks.md#system_alert-events). Times are ISO-8601.
 */
export const EndpointAlert = Type.Object({
  alert: Type.Literal('webhook_endpoint'),
  subscription_id: Uuid,
  subscriber_name: Type.String(),
  state: Type.Union([
    Type.Literal('failing'), Type.Literal('paused'), Type.Literal('circuit_open'), Type.Literal('circuit_half_open'),
    Type.Literal('recovered'), Type.Literal('disabled'),
  ]),
  reason: Type.String(),
  at: Type.String(),
  circuit: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')]),
  consecutive_failures: Type.Integer({ minimum: 0 }),
  failing_since: Nullable(Type.String()),
  paused_until: Nullable(Type.String()),
  next_probe_at: Nullable(Type.String()),
}, { $id: 'EndpointAlert' });
export type EndpointAlert = Static<typeof EndpointAlert>;
