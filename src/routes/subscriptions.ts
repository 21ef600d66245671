import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BODY_ERRORS, errorResponses } from '../schemas/common.js';
import {
  Subscription, SubscriptionInput, SubscriptionList, SubscriptionListQuery, SubscriptionParams, SubscriptionPatch,
  SubscriptionWithSecret, RotatedSecret,
} from '../schemas/subscription.js';
import { ReplayInput, ReplayResult } from '../schemas/delivery.js';
import { replay } from '../webhooks/replay.js';
import { HttpError } from '../lib/http-error.js';
import { orBadRequest, parseFilter } from '../events/filter.js';
import { generateSecret } from '../webhooks/signer.js';
import { healthView, healthyEndpoint } from '../webhooks/endpoint-health.js';
import { UnsafeUrlError, checkCallbackUrl } from '../webhooks/url-guard.js';

/** Webhook subscriptions (docs/webhooks.md, docs/design.md#webhooks); every route needs the admin scope. */
const subscriptions: FastifyPluginAsyncTypebox = async (app) => {
  const repo = app.store.subscriptions;
  const notFound = (id: string) => new HttpError(404, 'not_found', `no subscription ${id}`);

  async function guard(url: string | null | undefined): Promise<void> {
    if (url === null || url === undefined) return;
    try {
      await checkCallbackUrl(url, { allowPrivate: app.config.webhooks.allowPrivate, allowHosts: app.config.webhooks.allowHosts });
    } catch (err) {
      if (err instanceof UnsafeUrlError) throw new HttpError(422, 'unsafe_callback_url', err.message);
      throw err;
    }
  }

  app.post('/subscriptions', {
    config: { scope: 'admin' },
    schema: { summary: 'Create a subscription; its secret is shown once', body: SubscriptionInput, response: { 201: SubscriptionWithSecret, ...errorResponses(...BODY_ERRORS, 422) } },
  }, async (request, reply) => {
    const body = request.body;
    if (body.filter !== undefined) orBadRequest(() => parseFilter(body.filter));
    await guard(body.callback_url);
    const now = new Date().toISOString();
    const subscription = {
      subscription_id: randomUUID(),
      subscriber_name: body.subscriber_name,
      event_types: [...new Set(body.event_types ?? [])],
      filters: body.filters ?? {},
      filter: body.filter ?? {},
      callback_url: body.callback_url ?? null,
      is_active: body.is_active ?? true,
      created_at: now,
      updated_at: now,
      last_activity: null,
      disabled_reason: null,
      failing_since: null,
      format: body.format ?? 'seed',
      ordering_key: body.ordering_key ?? null,
      rate_limit: body.rate_limit ?? null,
      health: healthView(undefined, { is_active: body.is_active ?? true, failing_since: null, disabled_reason: null }),
    };
    const secret = body.secret ?? generateSecret();
    await repo.create(subscription, secret);
    await app.webhooks.index.reload();
    return reply.status(201).send({ ...subscription, secret });
  });

  app.get('/subscriptions', {
    config: { scope: 'admin' },
    schema: { summary: 'List subscriptions', querystring: SubscriptionListQuery, response: { 200: SubscriptionList, ...errorResponses() } },
  }, async (request) => ({ subscriptions: await repo.list(request.query.subscriber_name) }));

  app.get('/subscriptions/:id', {
    config: { scope: 'admin' },
    schema: { summary: 'One subscription', params: SubscriptionParams, response: { 200: Subscription, ...errorResponses(404) } },
  }, async (request) => (await repo.get(request.params.id)) ?? Promise.reject(notFound(request.params.id)));

  app.patch('/subscriptions/:id', {
    config: { scope: 'admin' },
    schema: { summary: 'Change a subscription', params: SubscriptionParams, body: SubscriptionPatch, response: { 200: Subscription, ...errorResponses(404, ...BODY_ERRORS, 422) } },
  }, async (request) => {
    const { id } = request.params;
    if (request.body.filter !== undefined) orBadRequest(() => parseFilter(request.body.filter));
    const existing = await repo.get(id);
    if (!existing) throw notFound(id);
    await guard(request.body.callback_url);
    // Events published while it was disabled are not delivered (replay sends them): its cursor moves to now.
    if (!existing.is_active && request.body.is_active === true) await app.store.cursors.skipToNow(id);
    const changes = {
      ...request.body,
      ...(request.body.event_types && { event_types: [...new Set(request.body.event_types)] }),
      // Re-activating clears why it was disabled.
      ...(request.body.is_active === true && { disabled_reason: null }),
      // …and starts its endpoint afresh: a closed circuit, no failing run.
      ...(request.body.is_active === true && !existing.is_active && { failing_since: null, endpoint_health: { ...healthyEndpoint(), state: 'healthy' as const } }),
      updated_at: new Date().toISOString(),
    };
    const updated = await repo.update(id, changes);
    if (!updated) throw notFound(id);
    await app.webhooks.index.reload();
    return updated;
  });

  app.delete('/subscriptions/:id', {
    config: { scope: 'admin' },
    schema: { summary: 'Delete a subscription', params: SubscriptionParams, response: { 204: Type.Null(), ...errorResponses(404) } },
  }, async (request, reply) => {
    if (!(await repo.delete(request.params.id))) throw notFound(request.params.id);
    await app.webhooks.index.reload();
    return reply.status(204).send(null);
  });

  app.post('/subscriptions/:id/rotate-secret', {
    config: { scope: 'admin' },
    schema: {
      summary: 'Replace the signing secret; the old one keeps signing for HERALD_WEBHOOK_SECRET_OVERLAP',
      params: SubscriptionParams,
      response: { 200: RotatedSecret, ...errorResponses(404) },
    },
  }, async (request) => {
    const now = Date.now();
    const secret = generateSecret();
    const until = now + app.config.webhooks.secretOverlapMs;
    if (!(await repo.rotate(request.params.id, secret, until, now))) throw notFound(request.params.id);
    await app.webhooks.index.reload();
    return { secret, previous_valid_until: new Date(until).toISOString() };
  });

  app.post('/subscriptions/:id/replay', {
    config: { scope: 'admin' },
    schema: {
      summary: 'Create a new delivery for every stored event since a time that the subscription matches',
      params: SubscriptionParams,
      body: ReplayInput,
      response: { 202: ReplayResult, ...errorResponses(404, ...BODY_ERRORS, 422) },
    },
  }, async (request, reply) => {
    const { id } = request.params;
    const subscription = await repo.get(id);
    if (!subscription) throw notFound(id);
    if (subscription.callback_url === null) throw new HttpError(422, 'no_callback_url', `subscription ${id} has no callback_url to deliver to`);
    if (!subscription.is_active) throw new HttpError(422, 'subscription_inactive', `subscription ${id} is inactive; PATCH is_active=true first`);
    const result = await replay(app.store.events, app.store.deliveries, subscription, request.body, app.clock.now());
    app.webhooks.worker?.wake();
    return reply.status(202).send(result);
  });
};

export default subscriptions;
