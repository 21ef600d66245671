import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Counter } from 'prom-client';
import { errorResponses } from '../schemas/common.js';
import { BACKLOG_CAP, defineMetrics, type Metrics } from '../metrics/definitions.js';
import { logBacklog } from '../webhooks/log-backlog.js';

/**
 * Prometheus metrics at `GET /metrics` (admin scope; docs/operations.md#metrics). Hot paths only bump plain
 * numbers or observe a histogram; gauges and the counters other components keep are read on scrape, and the
 * store is asked two bounded index reads and one bounded read of the log above the webhook cursors per
 * scrape — never a table scan.
 */
export default fp(
  async (app) => {
    const metrics = defineMetrics();
    const commitErrors = { count: 0 };

    // A callback hook, not an async one: no promise per request.
    app.addHook('onResponse', (request, reply, done) => {
      metrics.httpDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: reply.statusCode },
        reply.elapsedTime / 1000,
      );
      done();
    });

    app.committer.onCommit((events) => metrics.eventsPublished.inc(events.length));
    app.committer.onGroupCommit((group) => {
      if (group.error !== undefined) {
        commitErrors.count += 1;
        return;
      }
      metrics.commitEvents.observe(group.events);
      metrics.commitDuration.observe(group.ms / 1000);
    });
    app.webhooks.worker?.onSettled((settled) => {
      metrics.webhookDeliveries.inc({ outcome: settled.status });
      if (settled.durationMs !== undefined) metrics.webhookDuration.observe(settled.durationMs / 1000);
    });

    // Concurrent scrapes share one sample.
    let sampling: Promise<void> | null = null;
    const sample = () => (sampling ??= readState(app, metrics, commitErrors.count).finally(() => (sampling = null)));

    app.get('/metrics', {
      config: { scope: 'admin' },
      logLevel: 'warn',
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }), ...errorResponses() },
      },
    }, async (_request, reply) => {
      await sample();
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  },
  { name: 'metrics', dependencies: ['committer', 'stream', 'webhooks'] },
);

/** Sets a counter to a total another component keeps. */
function setTotal<L extends string>(counter: Counter<L>, total: number, labels?: Partial<Record<L, string>>): void {
  if (labels) {
    counter.remove(labels);
    counter.inc(labels, total);
  } else {
    counter.reset();
    counter.inc(total);
  }
}

async function readState(app: FastifyInstance, metrics: Metrics, commitErrors: number): Promise<void> {
  const { stream, webhooks, store } = app;
  metrics.wsConnections.set(stream.connections.size);
  // Each event stream is one router subscription of its own.
  metrics.wsSubscriptions.set(stream.router.size - stream.eventStreams.size);
  setTotal(metrics.wsFramesSent, stream.stats.framesSent);
  for (const [reason, n] of Object.entries(stream.stats.slowConsumerCloses)) setTotal(metrics.wsSlowConsumerCloses, n, { reason });
  metrics.sseConnections.set(stream.eventStreams.size);
  for (const [reason, n] of Object.entries(stream.stats.eventStreamSlowCloses)) setTotal(metrics.sseSlowConsumerCloses, n, { reason });
  setTotal(metrics.feedRepairs, stream.feed.stats.repairs);
  metrics.feedIdle.set((performance.now() - stream.feed.lastNotificationAt) / 1000);

  let scrapeErrors = 0;
  try {
    const now = app.clock.now();
    const [upper, due, fromLog] = await Promise.all([
      store.events.seqUpperBound(), store.deliveries.dueStats(now, BACKLOG_CAP),
      logBacklog({ cursors: store.cursors, events: store.events, index: webhooks.index }, BACKLOG_CAP),
    ]);
    metrics.feedLagSeq.set(Math.max(0, upper - stream.feed.position));
    // Retries due in the queue, and first attempts still to make above the subscriptions' cursors.
    metrics.webhookBacklog.set(due.due + fromLog.due);
    const oldest = Math.min(due.oldestDueMs ?? Infinity, fromLog.oldestDueMs ?? Infinity);
    metrics.webhookLag.set(Number.isFinite(oldest) ? Math.max(0, now - oldest) / 1000 : 0);
  } catch (err) {
    // The gauges keep their last values; the scrape still answers, and the failure is counted.
    scrapeErrors = 1;
    app.log.warn({ err }, 'metrics: could not read the store');
  }
  const errors = { commit: commitErrors, live_feed: stream.feed.stats.repairErrors, webhook_worker: webhooks.worker?.stats.storeErrors ?? 0 };
  for (const [operation, n] of Object.entries(errors)) setTotal(metrics.storeErrors, n, { operation });
  if (scrapeErrors > 0) metrics.storeErrors.inc({ operation: 'metrics' });
}
