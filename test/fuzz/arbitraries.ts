/**
 * fast-check arbitraries derived from the TypeBox schemas the API validates with, so the fuzz inputs follow
 * the schemas as they change. Values are valid by construction; test/fuzz/hostile.ts mutates them.
 */
import fc from 'fast-check';
import type { TSchema } from 'typebox';

/** A schema read as the JSON Schema object it is; TypeBox 1.x names each schema's kind in `~kind`. */
export type SchemaNode = TSchema & { readonly [keyword: string]: unknown; readonly '~kind'?: string };
const node = (schema: TSchema) => schema as SchemaNode;

/** Longest string a generated value holds unless the schema allows less (keeps runs fast). */
const MAX_STRING = 64;
/** Most optional extras (array items, record entries) a generated value holds. */
const MAX_ITEMS = 4;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * RFC 3339 date-times, including the corners a parser trips on: leap seconds (with their offset), far
 * offsets, lower-case separators, long fractions, years 0000 and 9999, day 31 of short months.
 */
export const dateTime: fc.Arbitrary<string> = fc.oneof(
  fc
    .record({
      year: fc.oneof(fc.constant(0), fc.constant(9999), fc.integer({ min: 1970, max: 2100 })),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 31 }),
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.integer({ min: 0, max: 59 }),
      second: fc.integer({ min: 0, max: 59 }),
      fraction: fc.option(fc.stringMatching(/^[0-9]{1,12}$/), { nil: undefined }),
      t: fc.constantFrom('T', 't'),
      zone: fc.oneof(fc.constantFrom('Z', 'z', '+00:00', '-00:00', '+14:00', '-12:00'), fc.constant('+05:30')),
    })
    .map((d) =>
      `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}${d.t}${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)}` +
      `${d.fraction === undefined ? '' : `.${d.fraction}`}${d.zone}`),
  fc.constantFrom(
    '2016-12-31T23:59:60Z',
    '2016-12-31T23:59:60.999Z',
    '2017-01-01T00:59:60+01:00',
    '2016-12-31T18:59:60-05:00',
    '2015-06-30T23:59:60z',
  ),
);

function stringOf(input: TSchema): fc.Arbitrary<string> {
  const schema = node(input);
  const min = (schema.minLength as number | undefined) ?? 0;
  const max = Math.max(min, Math.min((schema.maxLength as number | undefined) ?? MAX_STRING, MAX_STRING));
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'date-time') return dateTime;
  if (typeof schema.pattern === 'string') {
    const limit = (schema.maxLength as number | undefined) ?? Infinity;
    return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= min && s.length <= limit);
  }
  return fc.oneof(fc.string({ minLength: min, maxLength: max, unit: 'grapheme' }), fc.string({ minLength: min, maxLength: max, unit: 'binary' }));
}

function objectOf(input: TSchema): fc.Arbitrary<Record<string, unknown>> {
  const schema = node(input);
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, value] of Object.entries(properties)) model[key] = arbitraryOf(value);
  const fixed = fc.record(model, { requiredKeys: [...required].filter((k) => k in model) });
  const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, TSchema>);
  const withPatterns =
    patterns.length === 0
      ? fixed
      : fc
          .tuple(
            fixed,
            fc.array(
              fc.oneof(...patterns.map(([pattern, value]) => fc.tuple(fc.stringMatching(new RegExp(pattern)), arbitraryOf(value)))),
              { maxLength: MAX_ITEMS },
            ),
          )
          .map(([base, extra]) => ({ ...base, ...Object.fromEntries(extra) }));
  const minProperties = (schema.minProperties as number | undefined) ?? 0;
  return withPatterns.filter((o) => Object.keys(o).length >= minProperties);
}

/** A value that `schema` accepts. Covers the TypeBox kinds Herald's schemas use. */
export function arbitraryOf(input: TSchema): fc.Arbitrary<unknown> {
  const schema = node(input);
  switch (schema['~kind']) {
    case 'Object':
      return objectOf(schema);
    case 'Union':
      return fc.oneof(...(schema.anyOf as TSchema[]).map(arbitraryOf));
    case 'Literal':
      return fc.constant(schema.const);
    case 'String':
      return stringOf(schema);
    case 'Integer':
      return fc.integer({
        min: (schema.minimum as number | undefined) ?? Number.MIN_SAFE_INTEGER,
        max: (schema.maximum as number | undefined) ?? Number.MAX_SAFE_INTEGER,
      });
    case 'Number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'Boolean':
      return fc.boolean();
    case 'Null':
      return fc.constant(null);
    case 'Array':
      return fc.array(arbitraryOf(schema.items as TSchema), {
        minLength: (schema.minItems as number | undefined) ?? 0,
        maxLength: Math.max((schema.minItems as number | undefined) ?? 0, Math.min((schema.maxItems as number | undefined) ?? MAX_ITEMS, MAX_ITEMS)),
      });
    case 'Record':
    case 'Unknown':
      return schema['~kind'] === 'Record'
        ? fc.dictionary(fc.string({ maxLength: 16 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: MAX_ITEMS })
        : fc.jsonValue({ maxDepth: 3 });
    default:
      throw new Error(`no arbitrary for TypeBox kind ${String(schema['~kind'])}`);
  }
}
