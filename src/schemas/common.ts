import { Type, type TSchema } from 'typebox';
import { MAX_PAYLOAD_DEPTH } from '../lib/json.js';

export const Uuid = Type.String({ format: 'uuid' });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const JsonObject = Type.Record(Type.String(), Type.Unknown());
/** A JSON object a client sends (payload, metadata); `maxDepth` is a Herald keyword (lib/validation.ts). */
export const JsonObjectInput = Type.Record(Type.String(), Type.Unknown(), {
  maxDepth: MAX_PAYLOAD_DEPTH,
  description: `A JSON object nesting at most ${MAX_PAYLOAD_DEPTH} levels`,
});
/** RFC 3339 that JavaScript can represent: a leap second (`…T23:59:60Z`) is refused (lib/validation.ts). */
export const DateTime = Type.String({ format: 'date-time' });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorBody' },
);

/** What an error status means on Herald's routes; the OpenAPI document describes each error response with it. */
export const ERROR_STATUS_MEANING = {
  400: 'Bad input (`validation_error`, `invalid_json`, …) or a `token` query parameter where none is taken (`token_in_query`); nothing was changed',
  401: 'Missing or unknown API key; with no keys configured, any client that is not on the loopback',
  403: "The key lacks the route's scope; with no keys configured, a Host or browser Origin that is not a loopback name",
  404: 'No such resource',
  409: 'The resource is busy: try again after it settles',
  413: 'The body is larger than the configured limit',
  415: 'The body is not `application/json`',
  422: 'Valid but refused: the error code says why',
  429: 'Over the rate limit (`rate_limited`): retry after `Retry-After` seconds; nothing was stored',
  503: 'Overloaded (`overloaded`, retry after `Retry-After`), the store is not answering or Herald is shutting down; nothing was stored',
} as const;
export type ErrorStatus = keyof typeof ERROR_STATUS_MEANING;

/** Any route can answer these: the auth hook runs on every route, with or without keys configured. */
const EVERY_ROUTE = [400, 401, 403] as const;

/** A route's error responses (the OpenAPI document and the serializer): 400, 401, 403 and the given ones. */
export function errorResponses<S extends ErrorStatus>(
  ...statuses: S[]
): Record<(typeof EVERY_ROUTE)[number] | S, typeof ErrorBody> {
  return Object.fromEntries([...EVERY_ROUTE, ...statuses].map((status) => [status, ErrorBody])) as Record<
    (typeof EVERY_ROUTE)[number] | S,
    typeof ErrorBody
  >;
}

/** A route that reads a JSON body can also refuse it for its size or content type. */
export const BODY_ERRORS = [413, 415] as const;
