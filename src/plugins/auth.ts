import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { Scope } from '../config.js';
import { HttpError } from '../lib/http-error.js';
import { isLoopback } from '../lib/loopback.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route requires; routes without one (health, readiness) are public. */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** Scopes the caller holds; every scope for a loopback caller in protected mode. */
    scopes: ReadonlySet<Scope>;
  }
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const host = new URL(origin).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || isLoopback(host);
  } catch {
    return false;
  }
}

const ALL: ReadonlySet<Scope> = new Set<Scope>(['publish', 'read', 'admin']);
const digest = (key: string) => createHash('sha256').update(key).digest('hex');

/** Bearer header first; the `token` query parameter exists for browsers, which cannot set WebSocket headers. */
function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match ? match[1] : undefined;
  }
  const query = request.query as Record<string, unknown> | undefined;
  const token = query?.token;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

export default fp(
  async (app) => {
    // Keys are compared by digest so lookup time does not depend on how much of a key matched.
    const keys = new Map<string, ReadonlySet<Scope>>();
    for (const { key, scopes } of app.config.apiKeys) {
      // admin can do everything a publisher or reader can.
      keys.set(digest(key), scopes.includes('admin') ? ALL : new Set(scopes));
    }
    const protectedMode = keys.size === 0;
    if (protectedMode) {
      app.log.warn(
        'no API keys configured (HERALD_API_KEYS): serving loopback clients only; set HERALD_API_KEYS=key:publish+read+admin to accept remote clients',
      );
    }

    const NONE: ReadonlySet<Scope> = new Set();
    app.decorateRequest('scopes', null as unknown as ReadonlySet<Scope>);
    app.addHook('onRequest', async (request) => {
      const required = request.routeOptions.config.scope;
      request.scopes = protectedMode ? ALL : NONE;
      if (protectedMode) {
        if (!isLoopback(request.socket.remoteAddress)) {
          throw new HttpError(401, 'unauthorized',
            'Herald has no API keys configured and only serves loopback clients; set HERALD_API_KEYS (e.g. HERALD_API_KEYS=mykey:publish+read+admin) and send "Authorization: Bearer mykey"');
        }
        // A web page from another site runs on the loopback too; WebSockets have no CORS to stop it.
        const origin = request.headers.origin;
        if (origin !== undefined && !isLoopbackOrigin(origin)) {
          throw new HttpError(403, 'forbidden',
            `Herald has no API keys configured and refuses browser requests from ${origin}; set HERALD_API_KEYS to serve other origins`);
        }
        return;
      }
      if (!required) return;
      const key = presentedKey(request);
      const scopes = key === undefined ? undefined : keys.get(digest(key));
      if (!scopes) {
        throw new HttpError(401, 'unauthorized', key === undefined
          ? 'missing API key: send "Authorization: Bearer <key>"'
          : 'invalid API key');
      }
      request.scopes = scopes;
      if (!scopes.has(required)) throw new HttpError(403, 'forbidden', `this API key lacks the '${required}' scope`);
    });
  },
  { name: 'auth', dependencies: ['config'] },
);
