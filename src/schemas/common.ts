import { Type, type TSchema } from '@sinclair/typebox';
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

/** The error responses every route can produce, for the OpenAPI document and serializer. */
export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  413: ErrorBody,
  422: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
} as const;
