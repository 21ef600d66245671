import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../schemas/common.js';
import { Delivery, DeliveryDetail, DeliveryListQuery, DeliveryPage, DeliveryParams, type DeliveryStatus } from '../schemas/delivery.js';
import { SubscriptionParams } from '../schemas/subscription.js';
import { HttpError } from '../lib/http-error.js';
import type { Event } from '../schemas/event.js';
import { logDelivery } from '../store/attempt-log.js';
import { parseCursorDeliveryId, toDelivery } from '../store/delivery-rows.js';
import { noAttemptReason } from '../webhooks/attempt.js';
import { listDeliveries, positionOf } from '../webhooks/delivery-listing.js';
import { retryRowOf } from '../webhooks/queue-row.js';

/** Webhook deliveries and their attempts (docs/webhooks.md, docs/design.md#http-api); admin scope. */
const deliveries: FastifyPluginAsyncTypebox = async (app) => {
  const repo = app.store.deliveries;
  const sources = (subscriptionId: string) => ({
    deliveries: repo, attemptLog: app.store.attemptLog, cursors: app.store.cursors, events: app.store.events,
    matches: (event: Event) => app.webhooks.index.matches(subscriptionId, event),
    delivering: noAttemptReason(app.webhooks.index, subscriptionId) === null,
    heldUntil: app.webhooks.worker?.dispatcher.heldBack(subscriptionId),
  });

  /** A delivery wherever it lives: the retry queue, the attempt log, or above its subscription's cursor (pending). */
  async function findDelivery(id: string): Promise<DeliveryDetail | undefined> {
    const row = await repo.get(id);
    if (row) return { ...toDelivery(row), attempts_log: row.attempts_log ?? [] };
    const parsed = parseCursorDeliveryId(id);
    if (!parsed) return undefined;
    const record = await app.store.attemptLog.find(parsed.subscriptionId, parsed.seq);
    if (record) return { ...logDelivery(parsed.subscriptionId, record), attempts_log: [record.attempt] };
    const page = await listDeliveries(sources(parsed.subscriptionId), parsed.subscriptionId, { seq: parsed.seq + 1, id: '' }, null, 1);
    const pending = page.deliveries.find((d) => d.delivery_id === id);
    return pending ? { ...pending, attempts_log: [] } : undefined;
  }

  app.get('/subscriptions/:id/deliveries', {
    config: { scope: 'admin' },
    schema: {
      summary: "A subscription's deliveries, newest event first",
      params: SubscriptionParams,
      querystring: DeliveryListQuery,
      response: { 200: DeliveryPage, ...errorResponses(404) },
    },
  }, async (request) => {
    const { id } = request.params;
    const { status, after } = request.query;
    if (!(await app.store.subscriptions.get(id))) throw new HttpError(404, 'not_found', `no subscription ${id}`);
    const from = after === undefined ? undefined : await positionOf(repo, id, after);
    if (after !== undefined && !from) throw new HttpError(400, 'invalid_cursor', `after=${after} is not a delivery of subscription ${id}`);
    const wanted = status === undefined ? null : new Set(status.split(',') as DeliveryStatus[]);
    return listDeliveries(sources(id), id, from, wanted, request.query.limit ?? 100);
  });

  app.get('/deliveries/:id', {
    config: { scope: 'admin' },
    schema: { summary: 'One delivery with every attempt', params: DeliveryParams, response: { 200: DeliveryDetail, ...errorResponses(404) } },
  }, async (request) => {
    const found = await findDelivery(request.params.id);
    if (!found) throw new HttpError(404, 'not_found', `no delivery ${request.params.id}`);
    return found;
  });

  app.post('/deliveries/:id/retry', {
    config: { scope: 'admin' },
    schema: {
      summary: 'Attempt a delivery again now, whatever its status',
      params: DeliveryParams,
      response: { 202: Delivery, ...errorResponses(404, 409) },
    },
  }, async (request, reply) => {
    const { id } = request.params;
    let row = await repo.retryNow(id, app.clock.now());
    if (!row) {
      // Delivered at the first attempt (the attempt log) or not attempted yet (pending): a retry-queue row from now on.
      const found = await findDelivery(id);
      if (found && found.status === 'delivered' && !(await repo.get(id))) {
        await repo.insertMany([retryRowOf(found, app.clock.now())]);
        row = await repo.get(id);
      }
    }
    if (!row) {
      if (await repo.get(id)) throw new HttpError(409, 'delivery_in_flight', `delivery ${id} is being attempted right now; retry after it settles`);
      throw new HttpError(404, 'not_found', `no delivery ${id}`);
    }
    app.webhooks.worker?.wake();
    return reply.status(202).send(toDelivery(row));
  });
};

export default deliveries;
