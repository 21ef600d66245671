import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { DEFAULT_JITTER } from '../webhooks/retry-policy.js';
import { WebhookSender } from '../webhooks/sender.js';
import { SubscriptionIndex } from '../webhooks/subscription-index.js';
import { DeliveryWorker } from '../webhooks/worker.js';

export interface Webhooks {
  index: SubscriptionIndex;
  /** Null when HERALD_WEBHOOK_WORKER=false: this replica records deliveries, others send them. */
  worker: DeliveryWorker | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: Webhooks;
  }
}

/**
 * The webhook side of Herald: the in-memory subscription index the committer plans deliveries from, the
 * delivery worker, and the seed's rule that deactivates subscriptions idle for HERALD_SUBSCRIPTION_INACTIVE_AFTER.
 */
export default fp(
  async (app) => {
    const cfg = app.config.webhooks;
    const log = app.log.child({ component: 'webhooks' });
    const index = new SubscriptionIndex(app.store.subscriptions, log);
    await index.start(app.config.subscriptions.refreshMs);

    const sender = new WebhookSender({
      timeoutMs: cfg.timeoutMs,
      connectionsPerOrigin: cfg.perSubscription,
      policy: { allowPrivate: cfg.allowPrivate, allowHosts: cfg.allowHosts },
    });
    const worker = cfg.worker
      ? new DeliveryWorker(
        {
          deliveries: app.store.deliveries, events: app.store.events, subscriptions: app.store.subscriptions,
          index, sender, clock: app.clock, log,
        },
        {
          concurrency: cfg.concurrency, perSubscription: cfg.perSubscription, leaseMs: cfg.leaseMs, pollMs: cfg.pollMs,
          disableAfterMs: cfg.disableAfterMs,
          retry: { scheduleMs: cfg.retryScheduleMs, jitter: DEFAULT_JITTER, maxRetryAfterMs: cfg.maxRetryAfterMs },
        },
      )
      : null;
    app.decorate('webhooks', { index, worker });

    const idleTimer = startIdleRule(app);
    app.addHook('onReady', async () => worker?.start());
    // Runs after the committer's onClose (reverse registration order): queued events and their deliveries
    // are committed first, then leases are handed back and outcomes written, then the store closes.
    app.addHook('onClose', async () => {
      clearInterval(idleTimer);
      index.stop();
      await worker?.stop(Math.min(5000, app.config.shutdownTimeoutMs / 2));
      await sender.close();
    });
  },
  { name: 'webhooks', dependencies: ['store'] },
);

function startIdleRule(app: FastifyInstance): NodeJS.Timeout | undefined {
  const { inactiveAfterMs } = app.config.subscriptions;
  const every = app.config.cleanup.intervalMs;
  if (inactiveAfterMs <= 0 || every <= 0) return undefined;
  const timer = setInterval(() => {
    const now = app.clock.now();
    app.store.subscriptions
      .deactivateIdle(new Date(now - inactiveAfterMs).toISOString(), `no delivery since before ${new Date(now - inactiveAfterMs).toISOString()} (HERALD_SUBSCRIPTION_INACTIVE_AFTER)`, new Date(now).toISOString())
      .then(async (ids) => {
        if (ids.length === 0) return;
        app.log.info({ subscriptions: ids }, 'deactivated idle subscriptions');
        await app.webhooks.index.reload();
      })
      .catch((err) => app.log.error({ err }, 'idle subscription rule failed'));
  }, every);
  timer.unref();
  return timer;
}
