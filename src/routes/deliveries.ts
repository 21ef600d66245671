import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../schemas/common.js';
import { Delivery, DeliveryDetail, DeliveryListQuery, DeliveryPage, DeliveryParams, type DeliveryStatus } from '../schemas/delivery.js';
import { SubscriptionParams } from '../schemas/subscription.js';
import { HttpError } from '../lib/http-error.js';
import { toDelivery, type DeliveryRow } from '../store/delivery-rows.js';

/** Rows one listing examines before it returns a short page with a cursor (a rare status filter). */
const LIST_SCAN_BUDGET = 5000;
const LIST_CHUNK = 500;

/** Webhook deliveries and their attempts (docs/webhooks.md, docs/design.md#http-api); admin scope. */
const deliveries: FastifyPluginAsyncTypebox = async (app) => {
  const repo = app.store.deliveries;

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
    const limit = request.query.limit ?? 100;
    if (!(await app.store.subscriptions.get(id))) throw new HttpError(404, 'not_found', `no subscription ${id}`);
    let from = `${id}|`;
    if (after !== undefined) {
      const cursor = await repo.get(after);
      if (!cursor || cursor.subscription_id !== id) {
        throw new HttpError(400, 'invalid_cursor', `after=${after} is not a delivery of subscription ${id}`);
      }
      from = cursor.list_key;
    }
    const wanted = status === undefined ? null : new Set(status.split(',') as DeliveryStatus[]);
    const found: DeliveryRow[] = [];
    const chunkSize = wanted === null ? limit + 1 : LIST_CHUNK;
    let scanned = 0;
    for (;;) {
      const chunk = await repo.listPage(id, from, chunkSize);
      for (const row of chunk) {
        scanned++;
        if (wanted === null || wanted.has(row.status)) found.push(row);
        from = row.list_key;
        if (found.length > limit) break;
      }
      if (found.length > limit) {
        const page = found.slice(0, limit);
        return { deliveries: page.map(toDelivery), next_cursor: String((page.at(-1) as DeliveryRow).id.id) };
      }
      if (chunk.length < chunkSize) return { deliveries: found.map(toDelivery), next_cursor: null };
      if (scanned >= LIST_SCAN_BUDGET) {
        // A short page: everything up to the last examined row has been looked at.
        const last = chunk.at(-1) as DeliveryRow;
        return { deliveries: found.map(toDelivery), next_cursor: String(last.id.id) };
      }
    }
  });

  app.get('/deliveries/:id', {
    config: { scope: 'admin' },
    schema: { summary: 'One delivery with every attempt', params: DeliveryParams, response: { 200: DeliveryDetail, ...errorResponses(404) } },
  }, async (request) => {
    const row = await repo.get(request.params.id);
    if (!row) throw new HttpError(404, 'not_found', `no delivery ${request.params.id}`);
    return { ...toDelivery(row), attempts_log: row.attempts_log ?? [] };
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
    const row = await repo.retryNow(id, app.clock.now());
    if (!row) {
      if (await repo.get(id)) throw new HttpError(409, 'delivery_in_flight', `delivery ${id} is being attempted right now; retry after it settles`);
      throw new HttpError(404, 'not_found', `no delivery ${id}`);
    }
    app.webhooks.worker?.wake();
    return reply.status(202).send(toDelivery(row));
  });
};

export default deliveries;
