import type { DeliveryRepository } from '../store/delivery-repository.js';
import { cursorDeliveryId } from '../store/delivery-rows.js';
import type { SubscriptionWindow, WindowItem } from './window.js';

type Statuses = Pick<DeliveryRepository, 'statuses'>;
const waitingInQueue = (status: string | undefined) => status === 'pending' || status === 'retrying';

/**
 * An ordered subscription's events whose line waits on the retry queue. After a takeover, events of the
 * window already in the queue wait there (`queued`) or are settled (`done`), not attempted again.
 */
export async function resumeQueued(deliveries: Statuses, subId: string, w: SubscriptionWindow, items: WindowItem[]): Promise<void> {
  const statuses = await deliveries.statuses(items.map((i) => cursorDeliveryId(subId, i.event.seq)));
  for (const item of items) {
    const status = statuses.get(cursorDeliveryId(subId, item.event.seq));
    if (status !== undefined) w.settle(item, waitingInQueue(status) ? 'queued' : 'done');
  }
}

/** Settles the window's queued events that the retry queue has settled; true when it settled any (the cursor may move). */
export async function settleQueued(deliveries: Statuses, subId: string, w: SubscriptionWindow): Promise<boolean> {
  const queued = w.queued();
  if (queued.length === 0) return false;
  const statuses = await deliveries.statuses(queued.map((i) => cursorDeliveryId(subId, i.event.seq)));
  const settled = queued.filter((item) => !waitingInQueue(statuses.get(cursorDeliveryId(subId, item.event.seq))));
  for (const item of settled) w.settle(item, 'done');
  return settled.length > 0;
}
