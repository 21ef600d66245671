import { segment, type HttpClient } from './http.js';
import type {
  Delivery, DeliveryDetail, DeliveryPage, DeliveryStatus, ReplayInput, ReplayResult, RotatedSecret, Subscription,
  SubscriptionCreated, SubscriptionInput, SubscriptionPatch,
} from './types.js';

/** Webhook subscriptions (admin scope; docs/webhooks.md). */
export class SubscriptionsApi {
  constructor(private readonly http: HttpClient) {}

  /** The answer carries the `whsec_` secret; Herald never shows it again. */
  create(input: SubscriptionInput): Promise<SubscriptionCreated> {
    return this.http.request('POST', '/subscriptions', { body: input });
  }

  async list(options: { subscriberName?: string } = {}): Promise<Subscription[]> {
    const page = await this.http.request<{ subscriptions: Subscription[] }>('GET', '/subscriptions', {
      query: { subscriber_name: options.subscriberName },
    });
    return page.subscriptions;
  }

  /** `undefined` when there is no such subscription. */
  get(id: string): Promise<Subscription | undefined> {
    return this.http.find(`/subscriptions/${segment(id)}`);
  }

  update(id: string, patch: SubscriptionPatch): Promise<Subscription> {
    return this.http.request('PATCH', `/subscriptions/${segment(id)}`, { body: patch });
  }

  async delete(id: string): Promise<void> {
    await this.http.request('DELETE', `/subscriptions/${segment(id)}`);
  }

  rotateSecret(id: string): Promise<RotatedSecret> {
    return this.http.request('POST', `/subscriptions/${segment(id)}/rotate-secret`);
  }

  /** New deliveries for every stored event in the window that the subscription matches now. */
  replay(id: string, window: ReplayInput): Promise<ReplayResult> {
    return this.http.request('POST', `/subscriptions/${segment(id)}/replay`, { body: window });
  }
}

export interface DeliveryListOptions {
  status?: DeliveryStatus | readonly DeliveryStatus[];
  limit?: number;
  /** The `next_cursor` of the previous page. */
  after?: string;
}

/** Webhook deliveries and their attempts (admin scope). */
export class DeliveriesApi {
  constructor(private readonly http: HttpClient) {}

  /** One page of a subscription's deliveries, newest event first; pass `next_cursor` as `after` for the next. */
  list(subscriptionId: string, options: DeliveryListOptions = {}): Promise<DeliveryPage> {
    return this.http.request('GET', `/subscriptions/${segment(subscriptionId)}/deliveries`, {
      query: { status: options.status, limit: options.limit, after: options.after },
    });
  }

  /** The delivery with every attempt (`attempts_log`); `undefined` when there is no such delivery. */
  get(id: string): Promise<DeliveryDetail | undefined> {
    return this.http.find(`/deliveries/${segment(id)}`);
  }

  /** One more attempt now, whatever the status; `409 delivery_in_flight` while one is running. */
  retry(id: string): Promise<Delivery> {
    return this.http.request('POST', `/deliveries/${segment(id)}/retry`);
  }
}
