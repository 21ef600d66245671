import type { Event } from '../schemas/event.js';
import type { Subscription } from '../schemas/subscription.js';
import { toCloudEvent } from '../events/cloudevents.js';

/** What one delivery POSTs: the body the signature covers, and its content type. */
export interface DeliveryBody {
  body: string;
  contentType: string;
}

/**
 * The body of a delivery of `event` to a subscription in its `format` (docs/webhooks.md,
 * docs/cloudevents.md): `seed` is `{event, subscription: {id, subscriber}}`, `cloudevents` the event as a
 * structured-mode CloudEvent. A subscription deleted meanwhile gets the seed form.
 */
export function deliveryBody(event: Event, subscriptionId: string, subscription: Subscription | undefined): DeliveryBody {
  if (subscription?.format === 'cloudevents') {
    return { body: JSON.stringify(toCloudEvent(event)), contentType: 'application/cloudevents+json' };
  }
  return {
    body: JSON.stringify({ event, subscription: { id: subscriptionId, subscriber: subscription?.subscriber_name ?? null } }),
    contentType: 'application/json',
  };
}
