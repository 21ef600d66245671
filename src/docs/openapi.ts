import { STATUS_CODES } from 'node:http';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { RouteOptions } from 'fastify';
import { ERROR_STATUS_MEANING, ErrorBody } from '../schemas/common.js';
import { EventStreamError } from '../schemas/stream.js';
import { version } from '../lib/version.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Request bodies a route takes besides its `application/json` body schema, by media type (API reference only). */
    requestMedia?: Record<string, unknown>;
  }
}

const BEARER = 'bearerAuth';
const QUERY_TOKEN = 'queryToken';

/** Tags group the operations by resource, as the route plugins do (src/routes/*.ts). */
const TAGS: readonly [RegExp, string][] = [
  [/^\/(api\/)?health$|^\/ready$|^\/livez$|^\/readyz$/, 'health'],
  [/\/deliveries(\/|$)/, 'deliveries'],
  [/^\/subscriptions(\/|$)/, 'subscriptions'],
  [/^\/events(\/|$)/, 'events'],
  [/^\/(openapi|asyncapi)\.json$/, 'docs'],
  [/^\/metrics$/, 'operations'],
];

function tagOf(url: string): string | undefined {
  return TAGS.find(([pattern]) => pattern.test(url))?.[1];
}

type RouteSchema = NonNullable<RouteOptions['schema']> & {
  querystring?: { properties?: Record<string, unknown>; required?: string[] };
  body?: unknown;
  response?: Record<string, unknown>;
};

/**
 * @fastify/swagger names a component after the `$id` of a schema nested in a route's schema, but inlines a
 * route's top-level body or response schema. Nesting it in a one-member allOf makes it a component too;
 * `finishDocument` turns the allOf back into a plain $ref.
 */
const nested = (schema: unknown): unknown =>
  typeof schema === 'object' && schema !== null && '$id' in schema ? { allOf: [schema] } : schema;

const MEDIA = 'x-herald-media';

/**
 * A body schema carrying the other media types a route takes; `finishDocument` moves them into the request
 * body's `content`. (@fastify/swagger's own `content` form would inline the JSON body's named schema.)
 */
function withMedia(body: unknown, media: Record<string, unknown> | undefined): unknown {
  return media === undefined ? body : { ...(body as object), [MEDIA]: media };
}

/**
 * The query string as a client sees it: no `token` (a security scheme, not a parameter, and refused on
 * most requests: 400 token_in_query, src/plugins/auth.ts), and a parameter with a default is optional.
 */
function clientQuery(querystring: RouteSchema['querystring']): RouteSchema['querystring'] {
  if (!querystring?.properties) return querystring;
  const { token: _token, ...properties } = querystring.properties;
  const hasDefault = (name: string) => typeof properties[name] === 'object' && properties[name] !== null && 'default' in properties[name];
  return { ...querystring, properties, ...(querystring.required && { required: querystring.required.filter((name) => !hasDefault(name)) }) };
}

/**
 * The answers of the plugins that run before any route: the rate limiter (429) on every route with a scope,
 * load shedding (503) on every route but the probes.
 */
function withLimits(response: Record<string, unknown>, route: RouteOptions): Record<string, unknown> {
  return {
    ...response,
    ...(route.config?.scope !== undefined && !(429 in response) && { 429: ErrorBody }),
    ...(route.config?.probe !== true && !(503 in response) && { 503: ErrorBody }),
  };
}

/**
 * One route's operation: its tag, the key it needs (the route's `config.scope` as the Bearer role, and
 * `?token=` only where the route takes it on a plain HTTP request), and a pointer to the AsyncAPI
 * document where the path also upgrades to a WebSocket.
 */
export function describeRoute({ schema, url, route }: { schema: RouteSchema; url: string; route: RouteOptions }): { schema: RouteSchema; url: string } {
  const scope = route.config?.scope;
  const tag = tagOf(url);
  const viaQuery = route.config?.tokenInQuery?.includes('event-stream') ?? false;
  const stream = 'wsHandler' in route && route.wsHandler !== undefined
    ? 'With `Upgrade: websocket` this path is the live stream instead, described by `/asyncapi.json` (docs/websocket.md).'
    : undefined;
  return {
    url,
    schema: {
      ...schema,
      querystring: clientQuery(schema.querystring),
      ...(schema.body !== undefined && { body: withMedia(nested(schema.body), route.config?.requestMedia) }),
      ...(schema.response && {
        response: Object.fromEntries(Object.entries(withLimits(schema.response, route)).map(([status, s]) => [status, nested(s)])),
      }),
      ...(tag && { tags: [tag] }),
      ...(scope && { security: [{ [BEARER]: [scope] }, ...(viaQuery ? [{ [QUERY_TOKEN]: [scope] }] : [])] }),
      ...(stream && { description: [schema.description, stream].filter(Boolean).join('\n\n') }),
    },
  };
}

type Response = { description?: string; content?: Record<string, { schema?: { allOf?: unknown[]; [keyword: string]: unknown } }> };
type Operation = { responses?: Record<string, Response>; requestBody?: Response; security?: Array<Record<string, string[]>> };
type OpenApiDocument = { paths?: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, unknown> } };

/** What a route that takes `?token=` from an EventSource answers to `Accept: text/event-stream` (docs/streaming.md). */
const EVENT_STREAM_MEDIA = {
  schema: {
    type: 'string',
    description: 'With `Accept: text/event-stream`: the live stream as Server-Sent Events. Each event is `id: <seq>` and `data: <Event JSON>` '
      + '(no `event:` field); an `event: error` message carries an EventStreamError; `Last-Event-ID` (or `after`) resumes with no gap.',
  },
};

/** `{ allOf: [{ $ref }] }` (see `nested`) back to `{ $ref }`, and the media types `withMedia` carried into `content`. */
function unnest(body: Response | undefined): void {
  const json = body?.content?.['application/json']?.schema as Record<string, unknown> | undefined;
  if (body?.content && json?.[MEDIA]) {
    for (const [type, schema] of Object.entries(json[MEDIA] as Record<string, Record<string, unknown>>)) body.content[type] = { schema };
    delete json[MEDIA];
  }
  for (const media of Object.values(body?.content ?? {})) {
    const only = media.schema?.allOf;
    if (Object.keys(media.schema ?? {}).length === 1 && only?.length === 1) media.schema = only[0] as typeof media.schema;
  }
}

/**
 * Plain $refs for the named bodies and responses, and a description for each response: error responses
 * share one schema (ErrorBody), so each gets the meaning of its status.
 */
export function finishDocument<T extends OpenApiDocument>(document: T): T {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      const ok = operation.responses?.['200'];
      if (ok?.content && operation.security?.some((s) => QUERY_TOKEN in s)) {
        ok.content['text/event-stream'] = EVENT_STREAM_MEDIA;
        ok.description = 'A history page; with `Accept: text/event-stream`, the live stream as Server-Sent Events (docs/streaming.md)';
        document.components = { ...document.components, schemas: { ...document.components?.schemas, EventStreamError } };
      }
      unnest(operation.requestBody);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        unnest(response);
        const meaning = ERROR_STATUS_MEANING[Number(status) as keyof typeof ERROR_STATUS_MEANING] ?? STATUS_CODES[status];
        if (meaning && response.description === 'Default Response') response.description = meaning;
      }
    }
  }
  return document;
}

const AUTH = `With \`HERALD_API_KEYS\` set, send \`Authorization: Bearer <key>\`; each operation names the scope it
needs (\`admin\` implies \`publish\` and \`read\`). With no keys configured Herald serves loopback clients only,
with every scope. Operations without a security requirement (health, readiness, these documents) need no key.`;

/** @fastify/swagger's options: OpenAPI 3.1, whose schemas are the JSON Schema the TypeBox route schemas are. */
export const openapiOptions: FastifyDynamicSwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'Herald',
      version,
      description: `Herald stores events durably and serves them as history, a live WebSocket stream and signed webhooks.
The WebSocket protocol on \`GET /events\` is described by the AsyncAPI document at \`/asyncapi.json\`.

${AUTH}

Every error is \`{"error": {"code", "message", "details?"}}\`.`,
    },
    tags: [
      { name: 'events', description: 'Publish events and read their history' },
      { name: 'subscriptions', description: 'Webhook subscriptions (admin scope)' },
      { name: 'deliveries', description: 'Webhook deliveries and their attempts (admin scope)' },
      { name: 'health', description: 'Liveness and readiness; no key needed' },
      { name: 'docs', description: 'These API documents; no key needed' },
      { name: 'operations', description: 'Prometheus metrics (admin scope)' },
    ],
    components: {
      securitySchemes: {
        [BEARER]: { type: 'http', scheme: 'bearer', description: AUTH },
        [QUERY_TOKEN]: {
          type: 'apiKey',
          in: 'query',
          name: 'token',
          description: 'The API key as `?token=`, only where an operation lists it: browsers cannot set headers on a WebSocket or EventSource',
        },
      },
    },
  },
  refResolver: {
    // Components are named after the TypeBox schemas' $id (Event, Subscription, ErrorBody, …).
    buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
  },
  transform: describeRoute as FastifyDynamicSwaggerOptions['transform'],
  transformObject: (document) => ('openapiObject' in document ? finishDocument(document.openapiObject as OpenApiDocument) : document.swaggerObject),
};
