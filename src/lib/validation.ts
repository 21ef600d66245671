import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

export function makeAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ useDefaults: true, allErrors: false, removeAdditional: false, ...options });
  addFormats.default(ajv);
  return ajv;
}

/**
 * Bodies are validated strictly — a wrong type is an error, never coerced, and unknown fields are rejected,
 * not stripped; query strings and params are coerced because they only ever arrive as text.
 */
export function httpValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = makeAjv({ coerceTypes: false });
  const lenient = makeAjv({ coerceTypes: 'array' });
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : lenient).compile(schema as object);
}
