import type { Event } from '../schemas/event.js';

/** The `source` of the system_alert events Herald publishes itself. */
export const ALERT_SOURCE = 'herald';

/** True for Herald's own health alert about this subscription's endpoint. */
export const isAlertAbout = (event: Event, subscriptionId: string): boolean =>
  event.event_type === 'system_alert' && event.source === ALERT_SOURCE && event.payload.subscription_id === subscriptionId;
