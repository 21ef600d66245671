import { randomUUID } from 'node:crypto';
import type { ReplayInput } from '../schemas/delivery.js';
import type { Subscription } from '../schemas/subscription.js';
import type { DeliveryRepository } from '../store/delivery-repository.js';
import { newDelivery } from '../store/delivery-rows.js';
import type { EventRepository } from '../store/event-repository.js';
import { readHistory } from '../store/event-history.js';
import { SEQ_MAX } from '../store/segment-rows.js';
import { selectionOf } from './subscription-index.js';

const PAGE = 1000;

/**
 * Svix's "replay": a new delivery (new attempts, same webhook-id) for every stored, unexpired event with a
 * timestamp in [since, until] that the subscription matches today — also events delivered before, so a
 * receiver that lost its data can rebuild it. Deliveries are written a page at a time.
 */
export async function replay(
  events: EventRepository,
  deliveries: DeliveryRepository,
  subscription: Subscription,
  input: ReplayInput,
  nowMs: number,
): Promise<{ deliveries_created: number; events_scanned: number }> {
  const selection = {
    ...selectionOf(subscription),
    since: Date.parse(input.since),
    ...(input.until !== undefined && { until: Date.parse(input.until) }),
  };
  let after = 0;
  let created = 0;
  let scanned = 0;
  for (;;) {
    const page = await readHistory(events, { selection, order: 'asc', after, before: SEQ_MAX, limit: PAGE }, nowMs);
    scanned += page.events.length;
    const rows = page.events.map((e) => newDelivery(randomUUID(), e, subscription.subscription_id, nowMs));
    await deliveries.insertMany(rows);
    created += rows.length;
    if (page.next_cursor === null) return { deliveries_created: created, events_scanned: scanned };
    after = Number(page.next_cursor);
  }
}
