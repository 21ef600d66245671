import { Type, type TSchema } from 'typebox';
import { parseDuration } from '../lib/duration.js';
import { parseBytes } from './parsers.js';

/** The text schema of one environment variable: what it must look like, its default and its doc. */
export type VariableSchema = TSchema & { readonly default: string; readonly description: string };

/** One environment variable: its name, the text it accepts, and how that text becomes a typed config value. */
export class Entry<T> {
  constructor(
    readonly env: string,
    /** Validates the raw text; carries the default and the one-line doc (README table, error messages). */
    readonly schema: VariableSchema,
    /** What a value that fails `schema` should have been, in words (an error message beats a regex). */
    readonly expected: string,
    /** Turns valid text into the typed value; may throw an Error naming the part of the text at fault. */
    readonly parse: (text: string) => T,
    /** Bounds on the parsed value, when the text's shape alone cannot express them. */
    readonly check?: TSchema,
  ) {}
}

interface Bounds {
  minimum?: number;
  maximum?: number;
  /** Raise a smaller value to this rather than refuse it (a 0 ms timeout means "as short as possible"). */
  floor?: number;
}

const documented = (schema: TSchema) => schema as VariableSchema;

function numeric(env: string, def: string, doc: string, pattern: string, expected: string, read: (text: string) => number, bounds: Bounds) {
  const { floor, ...limits } = bounds;
  const check = limits.minimum === undefined && limits.maximum === undefined ? undefined : Type.Integer(limits);
  return new Entry(env, documented(Type.String({ pattern, default: def, description: doc })), expected,
    (text) => Math.max(floor ?? -Infinity, read(text)), check);
}

/** A whole number written in decimal digits. */
export const integer = (env: string, def: string, doc: string, bounds: Bounds = {}) =>
  numeric(env, def, doc, '^\\d+$', 'must be a whole number in decimal digits', Number, bounds);

/** Milliseconds, written `500ms`, `5s`, `5m`, `2h`, `7d` or `0`. */
export const duration = (env: string, def: string, doc: string, bounds: Bounds = {}) =>
  numeric(env, def, doc, '^(0|\\d+(\\.\\d+)?(ms|s|m|h|d))$', 'must be a duration such as 500ms, 5s, 5m, 2h, 7d or 0', parseDuration, bounds);

/** Bytes, written as digits with an optional `KiB`, `MiB` or `GiB`. */
export const bytes = (env: string, def: string, doc: string, bounds: Bounds = {}) =>
  numeric(env, def, doc, '^\\d+(KiB|MiB|GiB)?$', 'must be a byte count: digits, optionally followed by KiB, MiB or GiB', parseBytes, bounds);

interface TextRules {
  pattern?: string;
  minLength?: number;
  expected?: string;
}

/** Text used as it is, or turned into something else by `parse`. */
export function text(env: string, def: string, doc: string, rules?: TextRules): Entry<string>;
export function text<T>(env: string, def: string, doc: string, rules: TextRules, parse: (text: string) => T): Entry<T>;
export function text(env: string, def: string, doc: string, rules: TextRules = {}, parse = (t: string): unknown => t): Entry<unknown> {
  const { expected, ...shape } = rules;
  const fallback = shape.pattern ? `must match ${shape.pattern}` : 'must not be empty';
  return new Entry(env, documented(Type.String({ ...shape, default: def, description: doc })), expected ?? fallback, parse);
}

/** One of a fixed set of words. */
export const choice = <const T extends readonly string[]>(env: string, values: T, def: T[number], doc: string) =>
  new Entry(env, documented(Type.Union(values.map((v) => Type.Literal(v)), { default: def, description: doc })),
    `must be one of ${values.join(', ')}`, (t) => t as T[number]);

/** `true` or `false`. */
export const flag = (env: string, def: 'true' | 'false', doc: string) =>
  new Entry(env, choice(env, ['true', 'false'], def, doc).schema, 'must be true or false', (t) => t === 'true');
