import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { every } from '../lib/periodic.js';
import { DEFAULT_JITTER } from '../webhooks/retry-policy.js';
import { WebhookSender } from '../webhooks/sender.js';
import { EndpointGate } from '../webhooks/endpoint-gate.js';
import { prepareEvent } from '../events/prepare.js';
import { ALERT_SOURCE } from '../webhooks/system-alert.js';
import { SubscriptionIndex } from '../webhooks/subscription-index.js';
import { LogDispatcher } from '../webhooks/dispatcher.js';
import { WebhookEngine } from '../webhooks/engine.js';
import { SendSlots } from '../webhooks/send-slots.js';
import { DeliveryWorker } from '../webhooks/worker.js';
import { eventLoopLoad, type LoopSampler } from '../lib/loop-load.js';

const LOOP_WINDOW_MS = 10;
/** Event loop utilization from which deliveries leave the loop to waiting publishes. */
const SATURATED = 0.8;
/** A publish this recent counts as publishing: closed-loop publishers send the next one right after the answer. */
const PUBLISH_RECENT_MS = 10;
/** Publish requests per transaction from which publishing is taken to run at the engine's pace. */
const CROWDED_UNITS = 8;

/** A publish is waiting or just arrived. The committer is registered after this plugin; until it is, nothing publishes. */
const publishing = (app: FastifyInstance): boolean => app.hasDecorator('committer') && app.committer.publishing(PUBLISH_RECENT_MS);

/**
 * Deliveries yield while publishing is held back: publishes crowd the committer (the engine is the limit,
 * and every delivery's outcome write competes with the commits), or the event loop is saturated while
 * publishes wait.
 */
const yieldToPublishing = (app: FastifyInstance, loop: LoopSampler): boolean =>
  app.hasDecorator('committer') && (app.committer.crowded(CROWDED_UNITS, PUBLISH_RECENT_MS) || (loop() >= SATURATED && publishing(app)));

export interface Webhooks {
  index: SubscriptionIndex;
  /** Null when HERALD_WEBHOOK_WORKER=false: this replica stores events, others deliver them. */
  worker: WebhookEngine | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: Webhooks;
  }
}

/**
 * The webhook side of Herald: the in-memory subscription index the committer plans deliveries from, the
 * delivery worker, and housekeeping (idle subscriptions, delivery retention).
 */
export default fp(
  async (app) => {
    const cfg = app.config.webhooks;
    const log = app.log.child({ component: 'webhooks' });
    const index = new SubscriptionIndex(app.store.subscriptions, log);
    await index.start(app.config.subscriptions.refreshMs);

    const sender = new WebhookSender({
      timeoutMs: cfg.timeoutMs,
      // As many as the worker ever has in flight, so no request waits for a connection while its timeout
      // runs (subscriptions on one host share the origin's pool).
      connectionsPerOrigin: cfg.concurrency,
      policy: { allowPrivate: cfg.allowPrivate, allowHosts: cfg.allowHosts },
    });
    const gate = new EndpointGate(
      {
        lookup: (id) => index.get(id),
        save: (id, changes) => app.store.subscriptions.update(id, changes),
        disabled: () => index.reload(),
        // The committer is registered after this plugin; alerts only come once the worker runs.
        alert: (alert) => app.committer.publish([prepareEvent(
          { event_type: 'system_alert', source: ALERT_SOURCE, payload: alert, priority: alert.state === 'disabled' || alert.state === 'circuit_open' ? 'high' : 'normal' },
          new Date(app.clock.now()),
        )]),
        log,
      },
      { circuitFailures: cfg.circuitFailures, coolDownMs: cfg.circuitCoolDownMs, maxCoolDownMs: cfg.circuitMaxCoolDownMs, disableAfterMs: cfg.disableAfterMs },
    );
    const outcome = { retry: { scheduleMs: cfg.retryScheduleMs, jitter: DEFAULT_JITTER, maxRetryAfterMs: cfg.maxRetryAfterMs }, maxPauseMs: cfg.maxPauseMs };
    const { leaseMs, pollMs } = cfg;
    // One bound for first attempts and retries together: HERALD_WEBHOOK_CONCURRENCY is the process's total.
    // Publishing comes first (send-slots.ts): deliveries yield while publishes crowd the committer or wait on a saturated loop.
    const loop = eventLoopLoad(LOOP_WINDOW_MS);
    const slots = new SendSlots(cfg.concurrency, cfg.perSubscription, () => yieldToPublishing(app, loop));
    const common = { deliveries: app.store.deliveries, events: app.store.events, index, sender, gate, slots, clock: app.clock, log };
    const worker = cfg.worker
      ? new WebhookEngine(
        new LogDispatcher({ ...common, cursors: app.store.cursors, publishing: () => publishing(app) }, { leaseMs, pollMs, outcome }),
        new DeliveryWorker(common, { leaseMs, pollMs, outcome }),
      )
      : null;
    app.decorate('webhooks', { index, worker });

    const housekeepingLoop = startHousekeeping(app);
    app.addHook('onReady', async () => worker?.start());
    // Runs after the committer's onClose (reverse registration order): queued events and their deliveries
    // are committed first, then leases are handed back and outcomes written, then the store closes.
    app.addHook('onClose', async () => {
      await housekeepingLoop.stop();
      index.stop();
      await worker?.stop(Math.min(5000, app.config.shutdownTimeoutMs / 2));
      await sender.close();
    });
  },
  { name: 'webhooks', dependencies: ['store'] },
);

/** Purged per transaction by the delivery retention. */
const PURGE_CHUNK = 1000;

/**
 * Every HERALD_CLEANUP_INTERVAL: the inactivity rule that deactivates subscriptions with no delivery for
 * HERALD_SUBSCRIPTION_INACTIVE_AFTER (docs/webhooks.md), and HERALD_DELIVERY_RETENTION for settled
 * deliveries.
 */
function startHousekeeping(app: FastifyInstance): { stop: () => Promise<void> } {
  const { inactiveAfterMs } = app.config.subscriptions;
  const { retentionMs } = app.config.webhooks;
  const intervalMs = inactiveAfterMs <= 0 && retentionMs <= 0 ? 0 : app.config.cleanup.intervalMs;
  return every(intervalMs, () =>
    housekeeping(app, inactiveAfterMs, retentionMs).catch((err) => app.log.error({ err }, 'webhook housekeeping failed')));
}

async function housekeeping(app: FastifyInstance, inactiveAfterMs: number, retentionMs: number): Promise<void> {
  const now = app.clock.now();
  if (inactiveAfterMs > 0) {
    const before = new Date(now - inactiveAfterMs).toISOString();
    const ids = await app.store.subscriptions.deactivateIdle(
      before, `no delivery since before ${before} (HERALD_SUBSCRIPTION_INACTIVE_AFTER)`, new Date(now).toISOString(),
    );
    if (ids.length > 0) {
      app.log.info({ subscriptions: ids }, 'deactivated idle subscriptions');
      await app.webhooks.index.reload();
    }
  }
  if (retentionMs > 0) {
    let purged = 0;
    for (let n = PURGE_CHUNK; n === PURGE_CHUNK; purged += n) n = await app.store.deliveries.purgeSettled(now - retentionMs, PURGE_CHUNK);
    for (let n = PURGE_CHUNK; n === PURGE_CHUNK; purged += n) n = await app.store.attemptLog.purge(now - retentionMs, PURGE_CHUNK);
    if (purged > 0) app.log.info({ purged }, 'purged settled deliveries past HERALD_DELIVERY_RETENTION');
  }
}
