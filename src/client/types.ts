/**
 * The wire types, taken from the server's TypeBox schemas so client and server cannot drift apart. Only
 * `import type` may name src/schemas here: those modules load TypeBox at run time, and a type-only import
 * is erased, which keeps the client free of server code in a browser bundle.
 */
import type { Static } from 'typebox';
import type { Event, EventInput, HistoryPage, HistoryQuery, Priority } from '../schemas/event.js';
import type { StreamFilters } from '../schemas/stream.js';
import type {
  Subscription, SubscriptionInput, SubscriptionPatch, SubscriptionWithSecret,
} from '../schemas/subscription.js';
import type {
  Delivery, DeliveryDetail, DeliveryPage, DeliveryStatus, ReplayInput, ReplayResult as ReplayResultSchema,
} from '../schemas/delivery.js';

/** A stored event (`Event` on the server; renamed so it does not shadow the DOM's `Event` in browser code). */
export type HeraldEvent = Event;
export type {
  Delivery, DeliveryDetail, DeliveryPage, DeliveryStatus, EventInput, HistoryPage, Priority, ReplayInput, StreamFilters,
  Subscription, SubscriptionInput, SubscriptionPatch,
};

/** `POST /subscriptions` answers with the subscription and, this once, its `whsec_` secret. */
export type SubscriptionCreated = Static<typeof SubscriptionWithSecret>;
export type ReplayResult = Static<typeof ReplayResultSchema>;
/** `POST /subscriptions/:id/rotate-secret`: the new secret; the old one keeps signing until `previous_valid_until`. */
export interface RotatedSecret {
  secret: string;
  previous_valid_until: string;
}

type Seq = number | string;

/**
 * `GET /events` parameters. Lists may be given as arrays; `limit` is the page size (the iterator keeps
 * fetching pages until the history ends, so stop early with `break`).
 */
export type HistoryOptions = Omit<Partial<HistoryQuery>, 'types' | 'priority' | 'after' | 'before' | 'token'> & {
  types?: string | readonly string[];
  priority?: Priority | readonly Priority[];
  after?: Seq;
  before?: Seq;
  /** A filter-language expression, sent as `filter=` (JSON) for Herald to check. */
  filter?: string | Readonly<Record<string, unknown>>;
};

/** What a webhook receiver gets in the body (docs/webhooks.md). */
export interface WebhookPayload {
  event: HeraldEvent;
  subscription: { id: string; subscriber: string };
}
