import { DeliveriesApi, SubscriptionsApi } from './admin.js';
import { HttpClient, segment, type FetchLike } from './http.js';
import { historyPage, iterateHistory } from './history.js';
import { ResumableStream, type EventHandler, type StreamHandle, type SubscribeOptions } from './stream.js';
import { runTransaction, type TransactionOptions, type TransactionPublisher, type TransactionResult } from './transaction.js';
import type { EventInput, HeraldEvent, HistoryOptions, HistoryPage } from './types.js';
import { webSocketConstructor, type WebSocketConstructor } from './websocket.js';

export interface HeraldClientOptions {
  /** `http(s)://host:port`, with a path prefix if Herald sits behind one; the WebSocket URL is derived from it. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`, and as `?token=` on the WebSocket (browsers cannot set its headers). */
  apiKey?: string;
  /** Default `globalThis.WebSocket`; Node 20 has none, so pass `WebSocket` from the `ws` package there. */
  WebSocket?: WebSocketConstructor;
  /** Default `globalThis.fetch`. */
  fetch?: FetchLike;
}

/**
 * Herald over HTTP and WebSocket, for Node 20+ and browsers. Failed requests reject with a `HeraldError`
 * (status, code, message, details from Herald's error body); network failures reject as `fetch` does.
 */
export class HeraldClient {
  readonly subscriptions: SubscriptionsApi;
  readonly deliveries: DeliveriesApi;
  private readonly http: HttpClient;
  private readonly WebSocketImpl: WebSocketConstructor | undefined;

  constructor(options: HeraldClientOptions) {
    // Called through a wrapper: a browser's fetch throws "Illegal invocation" when detached from window.
    const fetchImpl = options.fetch ?? ((url: string, init: RequestInit) => globalThis.fetch(url, init));
    this.http = new HttpClient(options.baseUrl, options.apiKey, fetchImpl);
    this.WebSocketImpl = options.WebSocket;
    this.subscriptions = new SubscriptionsApi(this.http);
    this.deliveries = new DeliveriesApi(this.http);
  }

  /** Stores one event; resolves once it is durable. Re-sending an `event_id` returns the stored event. */
  async publish(event: EventInput): Promise<HeraldEvent> {
    return (await this.http.request<{ event: HeraldEvent }>('POST', '/events', { body: event })).event;
  }

  /** Up to 1000 events, all stored or none, each stamped with `correlationId` when given. */
  async publishBatch(events: readonly EventInput[], options: { correlationId?: string } = {}): Promise<HeraldEvent[]> {
    const body = { events, ...(options.correlationId !== undefined && { correlation_id: options.correlationId }) };
    return (await this.http.request<{ events: HeraldEvent[] }>('POST', '/events/batch', { body })).events;
  }

  /** Every matching event, following `next_cursor` page by page (newest first unless `order`/`after` say otherwise). */
  history(options: HistoryOptions = {}): AsyncGenerator<HeraldEvent, void, undefined> {
    return iterateHistory(this.http, options);
  }

  /** One page of history with its `next_cursor`, for callers that page themselves (a UI). */
  historyPage(options: HistoryOptions = {}): Promise<HistoryPage> {
    return historyPage(this.http, options);
  }

  /** The event, or `undefined` when Herald has no such event (or it expired). */
  get(eventId: string): Promise<HeraldEvent | undefined> {
    return this.http.find(`/events/${segment(eventId)}`);
  }

  /** A live subscription that reconnects with backoff and resumes after the last seq it received. */
  subscribe(options: SubscribeOptions, onEvent: EventHandler): StreamHandle {
    return new ResumableStream(this.http, webSocketConstructor(this.WebSocketImpl), options, onEvent);
  }

  /** Publishes a group of events atomically (`event_transaction` of the Python client); see `runTransaction`. */
  transaction<T>(
    correlationId: string,
    fn: (tx: TransactionPublisher) => Promise<T> | T,
    options: TransactionOptions = {},
  ): Promise<TransactionResult<T>> {
    return runTransaction(this, correlationId, fn, options);
  }
}
