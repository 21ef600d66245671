/**
 * Every HTTP route as data (method, path, the schemas of its parts) and the arbitrary requests made from
 * them: schema-valid parts, hostile mutations of them, and what the server must refuse whatever it does.
 */
import fc from 'fast-check';
import type { TSchema } from 'typebox';
import { BatchInput, EventInput, HistoryQuery } from '../../src/schemas/event.js';
import { SubscriptionInput, SubscriptionListQuery, SubscriptionPatch } from '../../src/schemas/subscription.js';
import { DeliveryListQuery, ReplayInput } from '../../src/schemas/delivery.js';
import { SEQ_PATTERN } from '../../src/schemas/event.js';
import { arbitraryOf, type SchemaNode } from './arbitraries.js';
import { PROTOTYPE_NAMES, hasInvalidUtf8, hostileValue, isDecimal, mutated, numberSpelling } from './hostile.js';

/** Which stored row a route's `:id` names; the fixture ids are filled in by the suite. */
export type IdKind = 'event' | 'subscription' | 'patchable' | 'delivery' | 'none';

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  id: IdKind;
  body?: TSchema;
  query?: TSchema;
}

export const ROUTES: Route[] = [
  { method: 'POST', path: '/events', id: 'none', body: EventInput },
  { method: 'POST', path: '/events/batch', id: 'none', body: BatchInput },
  { method: 'GET', path: '/events', id: 'none', query: HistoryQuery },
  { method: 'GET', path: '/events/:id', id: 'event' },
  { method: 'POST', path: '/subscriptions', id: 'none', body: SubscriptionInput },
  { method: 'GET', path: '/subscriptions', id: 'none', query: SubscriptionListQuery },
  { method: 'GET', path: '/subscriptions/:id', id: 'subscription' },
  { method: 'PATCH', path: '/subscriptions/:id', id: 'patchable', body: SubscriptionPatch },
  // The fixture subscriptions must survive the run: DELETE only ever names ids that do not exist.
  { method: 'DELETE', path: '/subscriptions/:id', id: 'none' },
  { method: 'POST', path: '/subscriptions/:id/rotate-secret', id: 'subscription' },
  { method: 'POST', path: '/subscriptions/:id/replay', id: 'subscription', body: ReplayInput },
  { method: 'GET', path: '/subscriptions/:id/deliveries', id: 'subscription', query: DeliveryListQuery },
  { method: 'GET', path: '/deliveries/:id', id: 'delivery' },
  { method: 'POST', path: '/deliveries/:id/retry', id: 'delivery' },
  { method: 'GET', path: '/health', id: 'none' },
  { method: 'GET', path: '/api/health', id: 'none' },
  { method: 'GET', path: '/ready', id: 'none' },
  { method: 'GET', path: '/', id: 'none' },
];

/** Path segments as sent on the wire: malformed escapes, over-long parameters, look-alikes of a uuid. */
export const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '%ff', '%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%00', '..', '%2e%2e', '%2F', 'a%20b', '__proto__', 'constructor',
    'toString', 'ＡＢＣ', 'NOT-A-UUID', '00000000-0000-0000-0000-00000000000g',
  ),
  fc.constantFrom(101, 500, 4096, 20_000).map((n) => 'a'.repeat(n)),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, ''))),
);

/** Query values spelled verbatim: escapes that do not decode, encoded lone surrogates and NULs. */
const rawQueryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('%ff', '%', '%zz', '%00', '%ED%A0%80', '%C0%AF', '%u0041', '+', '%2C%2C', ',,', 'a*a*a*'),
  fc.constantFrom(...PROTOTYPE_NAMES),
  // Long, but inside Node's 16 KiB header limit: the transport property covers 431.
  fc.constantFrom(1000, 10_000).map((n) => 'x'.repeat(n)),
);

function encode(value: unknown): string {
  try {
    return encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value) ?? '');
  } catch {
    return '%ff'; // a lone surrogate: what a careless client sends instead
  }
}

/** The query parameters of `schema` that hold numbers, and which decimal spellings each accepts. */
function numericParams(schema: TSchema): Map<string, (spelling: string) => boolean> {
  const out = new Map<string, (spelling: string) => boolean>();
  for (const [key, prop] of Object.entries(((schema as SchemaNode).properties ?? {}) as Record<string, SchemaNode>)) {
    if (prop['~kind'] === 'Integer') {
      const min = (prop.minimum as number | undefined) ?? -Infinity;
      const max = (prop.maximum as number | undefined) ?? Infinity;
      out.set(key, (s) => isDecimal(s) && Number(s) >= min && Number(s) <= max);
    } else if (prop.pattern === SEQ_PATTERN) out.set(key, (s) => new RegExp(SEQ_PATTERN).test(s));
  }
  return out;
}

export interface FuzzInput {
  query: string;
  /** The JSON body as a value (serialize() writes it), so a counterexample prints readably. */
  body?: unknown;
  /** Why this request must be refused whatever else holds (a non-decimal number, invalid UTF-8). */
  mustRefuse?: string;
}

/** Query strings from `schema`: valid ones, numbers in every spelling, raw escapes, prototype-named keys. */
export function queryOf(schema: TSchema): fc.Arbitrary<FuzzInput> {
  const numeric = numericParams(schema);
  const valid = arbitraryOf(schema).map((o) => Object.entries(o as Record<string, unknown>).map(([k, v]) => [k, encode(String(v))] as [string, string]));
  const numericChanges = numeric.size === 0 ? [] : [
    fc.tuple(fc.constantFrom(...numeric.keys()), numberSpelling).map(([k, v]) => ({ key: k, raw: v, numeric: true })),
  ];
  const changes = fc.array(
    fc.oneof(
      ...numericChanges,
      fc.tuple(fc.constantFrom(...Object.keys((schema as SchemaNode).properties ?? {})), rawQueryValue).map(([k, v]) => ({ key: k, raw: v, numeric: false })),
      fc.tuple(fc.constantFrom<string>(...PROTOTYPE_NAMES), rawQueryValue).map(([k, v]) => ({ key: k, raw: v, numeric: false })),
    ),
    { maxLength: 3 },
  );
  return fc.tuple(valid, changes).map(([pairs, extra]) => {
    let mustRefuse: string | undefined;
    for (const change of extra) {
      if (change.numeric) {
        const accepts = numeric.get(change.key) as (s: string) => boolean;
        if (!accepts(change.raw)) mustRefuse = `${change.key}=${change.raw} is not a decimal number in range`;
        pairs = pairs.filter(([k]) => k !== change.key);
        pairs.push([change.key, encode(change.raw)]);
      } else pairs.push([change.key, change.raw]);
    }
    const query = pairs.map(([k, v]) => `${k}=${v}`).join('&');
    return { query: query === '' ? '' : `?${query}`, ...(mustRefuse !== undefined && { mustRefuse }) };
  });
}

/** JSON bodies from `schema`: valid ones, mutated ones, and a hostile value in place of the whole body. */
export function bodyOf(schema: TSchema): fc.Arbitrary<FuzzInput> {
  const valid = arbitraryOf(schema);
  return fc.oneof({ weight: 1, arbitrary: valid }, { weight: 3, arbitrary: mutated(valid) }, { weight: 1, arbitrary: hostileValue }).map((value) => ({
    query: '',
    body: value,
    ...(hasInvalidUtf8(value) && { mustRefuse: 'the body is not UTF-8' }),
  }));
}
