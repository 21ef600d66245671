import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric Herald exports, on one registry per app (docs/operations.md#metrics lists them with the
 * alerts to set). Labels are bounded sets — route patterns, status codes, outcomes, reasons — never ids,
 * keys or URLs, so the series count does not grow with traffic.
 */
export function defineMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpDuration: new Histogram({
      name: 'herald_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    eventsPublished: new Counter({
      name: 'herald_events_published_total',
      help: 'Events stored by this process (re-publishes of a stored event_id are not counted)',
      registers,
    }),
    commitEvents: new Histogram({
      name: 'herald_commit_events',
      help: 'Events per group-commit transaction',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    }),
    commitDuration: new Histogram({
      name: 'herald_commit_duration_seconds',
      help: 'Duration of a group-commit transaction, retries after lost seq races included',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    storeErrors: new Counter({
      name: 'herald_store_errors_total',
      help: 'Failed store operations by the part of Herald that ran them',
      labelNames: ['operation'] as const,
      registers,
    }),
    wsConnections: new Gauge({ name: 'herald_ws_connections', help: 'Open WebSocket connections', registers }),
    wsSubscriptions: new Gauge({ name: 'herald_ws_subscriptions', help: 'Subscriptions held by open WebSocket connections', registers }),
    wsFramesSent: new Counter({ name: 'herald_ws_frames_sent_total', help: 'WebSocket frames sent (events and control frames)', registers }),
    wsSlowConsumerCloses: new Counter({
      name: 'herald_ws_slow_consumer_closes_total',
      help: 'WebSocket connections closed with 4000, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    sseConnections: new Gauge({ name: 'herald_sse_connections', help: 'Open Server-Sent Events streams of GET /events', registers }),
    sseSlowConsumerCloses: new Counter({
      name: 'herald_sse_slow_consumer_closes_total',
      help: 'Server-Sent Events streams ended after an error event slow_consumer, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'herald_webhook_deliveries_total',
      help: 'Webhook delivery outcomes recorded by this process (delivered, retrying, failed, expired)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    webhookDuration: new Histogram({
      name: 'herald_webhook_delivery_duration_seconds',
      help: 'Duration of one webhook HTTP attempt',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    webhookBacklog: new Gauge({
      name: 'herald_webhook_backlog',
      help: `Webhook deliveries due now and waiting: retries in the queue (counted up to ${BACKLOG_CAP} per priority) and first attempts above the subscriptions' cursors (up to ${BACKLOG_CAP})`,
      registers,
    }),
    webhookLag: new Gauge({ name: 'herald_webhook_lag_seconds', help: 'Age of the oldest due webhook delivery (0 when none is due)', registers }),
    feedLagSeq: new Gauge({ name: 'herald_live_feed_lag_seq', help: 'Seqs committed but not yet dispatched to WebSocket clients by this process', registers }),
    feedIdle: new Gauge({
      name: 'herald_live_feed_last_notification_age_seconds',
      help: 'Time since the LIVE query last delivered a commit (or since the feed started)',
      registers,
    }),
    feedRepairs: new Counter({ name: 'herald_live_feed_repairs_total', help: 'Gaps in the LIVE feed read from the store instead', registers }),
  };
}

export type Metrics = ReturnType<typeof defineMetrics>;

/** herald_webhook_backlog counts at most this many deliveries per priority, so a scrape stays cheap. */
export const BACKLOG_CAP = 10_000;
