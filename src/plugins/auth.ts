import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { Scope } from '../config.js';
import { HttpError } from '../lib/http-error.js';
import { isLoopback, isLoopbackHost, isLoopbackName } from '../lib/loopback.js';
import { acceptsEventStream } from '../stream/sse-format.js';

/** Requests a browser cannot put an Authorization header on: a WebSocket upgrade and an EventSource stream. */
export type HeaderlessRequest = 'websocket' | 'event-stream';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route requires; routes without one (health, readiness) are public. */
    scope?: Scope;
    /**
     * The kinds of request on this route that may carry the key as `?token=`, because browsers cannot set
     * headers on them. Everywhere else a `token` query parameter is refused: URLs end up in logs, proxies
     * and browser history.
     */
    tokenInQuery?: readonly HeaderlessRequest[];
  }
  interface FastifyRequest {
    /** Scopes the caller holds; every scope for a loopback caller in protected mode. */
    scopes: ReadonlySet<Scope>;
    /**
     * Which configured key the caller presented, as `key#<position in HERALD_API_KEYS>` (1-based): safe to
     * log and count by, unlike the key. Undefined without a valid key (protected mode, public routes).
     */
    apiKeyId: string | undefined;
  }
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    return isLoopbackName(new URL(origin).hostname);
  } catch {
    return false;
  }
}

const ALL: ReadonlySet<Scope> = new Set<Scope>(['publish', 'read', 'admin']);
const digest = (key: string) => createHash('sha256').update(key).digest('hex');

function requestKind(request: FastifyRequest): HeaderlessRequest | undefined {
  if (request.ws) return 'websocket';
  return acceptsEventStream(request.headers.accept) ? 'event-stream' : undefined;
}

/** The `token` query parameter, refused (400) unless the route takes one on this kind of request. */
function queryToken(request: FastifyRequest): string | undefined {
  const token = (request.query as Record<string, unknown> | undefined)?.token;
  if (token === undefined) return undefined;
  const kind = requestKind(request);
  if (kind === undefined || !request.routeOptions.config.tokenInQuery?.includes(kind)) {
    throw new HttpError(400, 'token_in_query',
      'send the API key as "Authorization: Bearer <key>"; a token query parameter is accepted only on the WebSocket upgrade and the event stream (Accept: text/event-stream) of GET /events, because URLs end up in logs, proxies and browser history');
  }
  return typeof token === 'string' && token !== '' ? token : undefined;
}

/** Bearer header first; the `token` query parameter exists for browsers, which cannot set WebSocket headers. */
function presentedKey(request: FastifyRequest): string | undefined {
  const token = queryToken(request);
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match ? match[1] : undefined;
  }
  return token;
}

const KEYS_HINT = 'set HERALD_API_KEYS (e.g. HERALD_API_KEYS=mykey:publish+read+admin) and send "Authorization: Bearer mykey"';

/** Protected mode serves this machine only: a loopback socket, a loopback Host name and, from a browser, a loopback page. */
function refuseUnlessLocal(request: FastifyRequest): void {
  if (!isLoopback(request.socket.remoteAddress)) {
    throw new HttpError(401, 'unauthorized', `Herald has no API keys configured and only serves loopback clients; ${KEYS_HINT}`);
  }
  // A DNS-rebinding page reaches 127.0.0.1 under its own name, and says so in Host.
  const host = request.headers.host;
  if (host !== undefined && !isLoopbackHost(host)) {
    throw new HttpError(403, 'forbidden',
      `Herald has no API keys configured and only answers to loopback host names (localhost, 127.0.0.1, [::1]), not ${JSON.stringify(host)}; ${KEYS_HINT}`);
  }
  // A web page from another site runs on the loopback too; WebSockets have no CORS to stop it.
  const origin = request.headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(origin)) {
    throw new HttpError(403, 'forbidden',
      `Herald has no API keys configured and refuses browser requests from ${origin}; set HERALD_API_KEYS to serve other origins`);
  }
}

export default fp(
  async (app) => {
    // Keys are compared by digest so lookup time does not depend on how much of a key matched.
    const keys = new Map<string, { id: string; scopes: ReadonlySet<Scope> }>();
    app.config.apiKeys.forEach(({ key, scopes }, index) => {
      // admin can do everything a publisher or reader can.
      keys.set(digest(key), { id: `key#${index + 1}`, scopes: scopes.includes('admin') ? ALL : new Set(scopes) });
    });
    const protectedMode = keys.size === 0;
    if (protectedMode) {
      app.log.warn(
        'no API keys configured (HERALD_API_KEYS): serving loopback clients only; set HERALD_API_KEYS=key:publish+read+admin to accept remote clients',
      );
    }

    const NONE: ReadonlySet<Scope> = new Set();
    app.decorateRequest('scopes', null as unknown as ReadonlySet<Scope>);
    app.decorateRequest('apiKeyId', undefined);
    app.addHook('onRequest', async (request) => {
      const required = request.routeOptions.config.scope;
      request.scopes = protectedMode ? ALL : NONE;
      if (protectedMode) refuseUnlessLocal(request);
      // Checked in both modes, so a client that works against a keyless Herald keeps working with keys.
      const key = presentedKey(request);
      if (protectedMode || !required) return;
      const found = key === undefined ? undefined : keys.get(digest(key));
      if (!found) {
        throw new HttpError(401, 'unauthorized', key === undefined
          ? 'missing API key: send "Authorization: Bearer <key>"'
          : 'invalid API key');
      }
      const { scopes } = found;
      request.scopes = scopes;
      request.apiKeyId = found.id;
      if (!scopes.has(required)) throw new HttpError(403, 'forbidden', `this API key lacks the '${required}' scope`);
    });
  },
  { name: 'auth', dependencies: ['config'] },
);
