import fp from 'fastify-plugin';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { HttpError } from '../lib/http-error.js';

type Limit = 'publish' | 'read';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Counts one WebSocket `publish` message against the publish limit of the client that opened the socket
     * with `upgrade`, in the same counter as its HTTP publishes. Resolves to 0, or to the seconds it must wait.
     */
    publishMessageWait(upgrade: FastifyRequest): Promise<number>;
  }
}

const WINDOW_MS = 1000;

/** Publish routes count against the publish limit, read and admin routes the read one; public routes (probes, the dashboard's files) none. */
function limitOf(request: FastifyRequest): Limit | undefined {
  const scope = request.routeOptions.config.scope;
  return scope === undefined ? undefined : scope === 'publish' ? 'publish' : 'read';
}

/** Who is counted: the API key by its id (never the key itself), or the client address without keys (IPv6 per /64). */
const clientOf = (request: FastifyRequest) => request.apiKeyId ?? normalizeIP(request.ip);

/**
 * Per-second request limits per API key or client address (@fastify/rate-limit, in-process counters). Its
 * hook runs on each route after auth's, so the caller's key is known; it runs before the body is read, so a
 * refused request stores nothing. A batch is one request.
 */
export default fp(
  async (app) => {
    const perSecond: Readonly<Record<Limit, number>> = app.config.rateLimit;
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      timeWindow: WINDOW_MS,
      allowList: (request) => {
        const limit = limitOf(request);
        return limit === undefined || perSecond[limit] === 0;
      },
      keyGenerator: (request) => `${limitOf(request) ?? 'none'}:${clientOf(request)}`,
      max: (request) => perSecond[limitOf(request) ?? 'read'],
      onExceeded: (request, key) => request.log.info({ rateLimit: key }, 'rate limited'),
      errorResponseBuilder: (request, context) => {
        const limit = limitOf(request) ?? 'read';
        const who = request.apiKeyId === undefined ? 'this client address' : 'this API key';
        const retryAfter = Math.max(1, Math.ceil(context.ttl / 1000));
        return new HttpError(429, 'rate_limited',
          `over the ${limit} limit of ${context.max} requests per second for ${who}; retry after ${retryAfter} s`,
          { limit, max: context.max, retry_after_s: retryAfter });
      },
    });

    const check = app.createRateLimit();
    app.decorate('publishMessageWait', async (upgrade: FastifyRequest) => {
      if (perSecond.publish === 0) return 0;
      // The same counter as the client's HTTP publishes: the upgrade request, seen as a publish-scoped one.
      const asPublish = Object.create(upgrade, { routeOptions: { value: { config: { scope: 'publish' } } } }) as FastifyRequest;
      const verdict = await check(asPublish);
      return verdict.isAllowed || !verdict.isExceeded ? 0 : Math.max(1, verdict.ttlInSeconds);
    });
  },
  { name: 'rate-limit', dependencies: ['config', 'auth'] },
);
