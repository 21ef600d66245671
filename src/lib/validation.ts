import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { FastifySchemaCompiler } from 'fastify';
import { valueDepthExceeds } from './json.js';

const rfc3339 = fullFormats['date-time'] as { validate: (s: string) => boolean; compare: (a: string, b: string) => number | undefined };

/**
 * Times Herald echoes back as `YYYY-MM-DDTHH:mm:ss.sssZ`: outside these years `toISOString()` writes an
 * expanded year (`+010000-…`, `-000001-…`) that RFC 3339 parsers, Herald's own included, refuse.
 */
const FIRST_ISO_MS = Date.parse('0000-01-01T00:00:00.000Z');
const LAST_ISO_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Every Herald validator: ajv-formats, plus
 * - `date-time` is RFC 3339 that JavaScript can also represent and echo in UTC within years 0000–9999. RFC
 *   3339 allows a leap second (`23:59:60Z`), a JavaScript Date cannot hold one, so it is refused here rather
 *   than failing when the event is stored.
 * - `maxDepth: n` refuses an array/object that nests deeper than n levels (the value itself is level 1).
 */
export function makeAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ useDefaults: true, allErrors: false, removeAdditional: false, ...options });
  addFormats.default(ajv);
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => {
      if (!rfc3339.validate(s)) return false;
      const ms = Date.parse(s);
      return ms >= FIRST_ISO_MS && ms <= LAST_ISO_MS;
    },
    compare: rfc3339.compare,
  });
  ajv.addKeyword({ keyword: 'maxDepth', type: ['object', 'array'], schemaType: 'number', errors: true, validate: maxDepth });
  return ajv;
}

type KeywordCheck = ((limit: number, data: unknown) => boolean) & { errors?: Partial<ErrorObject>[] };

const maxDepth: KeywordCheck = (limit, data) => {
  if (!valueDepthExceeds(data, limit)) return true;
  maxDepth.errors = [{ keyword: 'maxDepth', message: `must not nest deeper than ${limit} levels`, params: { limit } }];
  return false;
};

/** Query string and path parameter values that are numbers must be written in plain decimal. */
const DECIMAL = { integer: /^[0-9]+$/, number: /^[0-9]+(\.[0-9]+)?$/ } as const;

type NumericType = keyof typeof DECIMAL;
interface PropertySchema {
  type?: unknown;
  anyOf?: PropertySchema[];
}

/** The numeric type a flat query/params property must have, when it can only be a number. */
function numericType(schema: PropertySchema): NumericType | undefined {
  if (schema.type === 'integer' || schema.type === 'number') return schema.type;
  const members = schema.anyOf?.map(numericType) ?? [];
  if (members.length === 0 || members.includes(undefined)) return undefined;
  return members.includes('number') ? 'number' : 'integer';
}

/**
 * Ajv's coercion turns any text JavaScript reads as a number into one: `Infinity`, `-Infinity`, `1e3`,
 * `0x10`, ` 5`. Such a value reaching a handler is at best surprising (`limit=Infinity` read the whole
 * history), so numeric query and path values are checked to be decimal digits before Ajv coerces them.
 */
function decimalOnly(schema: object, validate: ValidateFunction): ValidateFunction {
  const properties = (schema as { properties?: Record<string, PropertySchema> }).properties ?? {};
  const numeric = Object.entries(properties).flatMap(([key, s]) => {
    const type = numericType(s);
    return type ? [[key, type] as const] : [];
  });
  if (numeric.length === 0) return validate;
  const checked = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => {
    for (const [key, type] of numeric) {
      const value = (data as Record<string, unknown> | null)?.[key];
      const texts = Array.isArray(value) ? value : [value];
      if (texts.some((t) => typeof t === 'string' && !DECIMAL[type].test(t))) {
        checked.errors = [{
          instancePath: `/${key}`,
          schemaPath: `#/properties/${key}/type`,
          keyword: 'type',
          params: { type },
          message: `must be ${type === 'integer' ? 'an integer' : 'a number'} written in decimal digits`,
        }];
        return false;
      }
    }
    const valid = validate(data, context);
    checked.errors = validate.errors;
    return valid;
  }) as ValidateFunction;
  return checked;
}

/**
 * Bodies are validated strictly — a wrong type is an error, never coerced, and unknown fields are rejected,
 * not stripped; query strings and params are coerced because they only ever arrive as text.
 */
export function httpValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = makeAjv({ coerceTypes: false });
  const lenient = makeAjv({ coerceTypes: 'array' });
  return ({ schema, httpPart }) =>
    httpPart === 'body' ? strict.compile(schema as object) : decimalOnly(schema as object, lenient.compile(schema as object));
}
