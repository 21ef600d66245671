import type { Delivery, DeliveryStatus } from '../schemas/delivery.js';
import type { Event } from '../schemas/event.js';
import { logDelivery, type AttemptLog } from '../store/attempt-log.js';
import type { CursorRepository } from '../store/cursor-repository.js';
import type { DeliveryRepository } from '../store/delivery-repository.js';
import { SEQ_MAX } from '../store/segment-rows.js';
import { cursorDeliveryId, listKey, parseCursorDeliveryId, toDelivery } from '../store/delivery-rows.js';
import type { EventRepository } from '../store/event-repository.js';
import { readWindowEvents } from './log-reader.js';

/** Where a page starts: after (seq, delivery id) in the order seq descending, id ascending. */
export interface ListPosition {
  seq: number;
  id: string;
}

export interface ListSources {
  deliveries: DeliveryRepository;
  attemptLog: AttemptLog;
  cursors: CursorRepository;
  events: EventRepository;
  matches: (event: Event) => boolean;
  /** Whether the subscription gets deliveries now; events above the cursor of one that does not are not pending. */
  delivering: boolean;
  /** Until when this process's endpoint gate holds the subscription's first attempts back (pause, circuit, throttle). */
  heldUntil?: number | undefined;
}

/** Queue rows one page reads at most. */
const QUEUE_CHUNK = 500;
/** Seqs above a cursor one page reads for pending deliveries. */
const PENDING_SPAN = 16_384;

const after = (d: Delivery, p: ListPosition): boolean => d.seq < p.seq || (d.seq === p.seq && d.delivery_id > p.id);
const order = (a: Delivery, b: Delivery): number => b.seq - a.seq || (a.delivery_id < b.delivery_id ? -1 : a.delivery_id > b.delivery_id ? 1 : 0);

/** The position of a page cursor (a delivery id; a cursor-form id needs no row), or undefined when it is not this subscription's. */
export async function positionOf(deliveries: DeliveryRepository, subscriptionId: string, id: string): Promise<ListPosition | undefined> {
  const parsed = parseCursorDeliveryId(id);
  if (parsed) return parsed.subscriptionId === subscriptionId ? { seq: parsed.seq, id } : undefined;
  const row = await deliveries.get(id);
  return row && row.subscription_id === subscriptionId ? { seq: row.seq, id } : undefined;
}

/**
 * One page of a subscription's deliveries, newest event first, from all three places a delivery lives: the
 * events above its cursor not settled yet (pending), the attempt log (delivered at the first attempt) and
 * the retry queue (everything else, and replays). Each source is read a bounded amount; the page holds what
 * all three covered, and when a rare status filter finds fewer than `limit` there it ends with a cursor.
 */
export async function listDeliveries(
  src: ListSources, subscriptionId: string, from: ListPosition | undefined, wanted: Set<DeliveryStatus> | null, limit: number,
): Promise<{ deliveries: Delivery[]; next_cursor: string | null }> {
  const pos = from ?? { seq: SEQ_MAX, id: '' };
  const found = new Map<string, Delivery>();
  let floor = 0;

  const rows = await src.deliveries.listPage(subscriptionId, listKey(subscriptionId, pos.seq, pos.id), QUEUE_CHUNK);
  for (const row of rows) found.set(String(row.id.id), toDelivery(row));
  if (rows.length === QUEUE_CHUNK) floor = Math.max(floor, (rows.at(-1) as { seq: number }).seq + 1);

  const upper = Math.min(pos.seq, await src.events.seqUpperBound());
  const log = await src.attemptLog.below(subscriptionId, upper + 1);
  for (const r of log.records) {
    const d = logDelivery(subscriptionId, r);
    if (!found.has(d.delivery_id)) found.set(d.delivery_id, d);
  }
  floor = Math.max(floor, log.scannedFrom);

  const cursor = await src.cursors.get(subscriptionId);
  if (src.delivering && cursor && upper > cursor.seq) {
    const settled = new Set(cursor.above);
    const held = src.heldUntil === undefined ? undefined : new Date(src.heldUntil).toISOString();
    // Pending events are the newest: read the top of what is above the cursor, a bounded amount.
    let at = Math.max(cursor.seq, upper - PENDING_SPAN);
    if (at > cursor.seq) floor = Math.max(floor, at + 1);
    while (at < upper) {
      const { events, readTo } = await readWindowEvents(src.events.reads, at, upper);
      for (const e of events) {
        const id = cursorDeliveryId(subscriptionId, e.seq);
        if (e.seq > upper || settled.has(e.seq) || found.has(id) || !src.matches(e)) continue;
        found.set(id, {
          delivery_id: id, event_id: e.event_id, subscription_id: subscriptionId, event_type: e.event_type, priority: e.priority, seq: e.seq,
          status: 'pending', attempts: 0, next_attempt_at: held ?? e.timestamp, last_attempt_at: null, last_status_code: null, last_error: null,
          created_at: e.timestamp, updated_at: e.timestamp,
        });
      }
      at = readTo;
    }
  }

  // Everything from `pos` down to `bottom` (inclusive) has been looked at in all three sources.
  const bottom: ListPosition = { seq: floor, id: cursorDeliveryId(subscriptionId, floor) };
  const covered = [...found.values()].filter((d) => after(d, pos) && (floor <= 0 || !after(d, bottom))).sort(order);
  const page = covered.filter((d) => wanted === null || wanted.has(d.status));
  if (page.length > limit) return { deliveries: page.slice(0, limit), next_cursor: (page[limit - 1] as Delivery).delivery_id };
  if (floor <= 0) return { deliveries: page, next_cursor: null };
  // A short page: the next one starts below what this one looked at.
  return { deliveries: page, next_cursor: bottom.id };
}
