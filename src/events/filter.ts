import type { Event } from '../schemas/event.js';
import { HttpError } from '../lib/http-error.js';
import { FilterError, type FilterNode, type Scalar } from './filter-parse.js';

export { FilterError, parseFilter, parseFilterText, FILTER_FIELDS, type FilterNode, type Scalar } from './filter-parse.js';

export type EventPredicate = (event: Event) => boolean;

/** A field's value, or undefined when the path does not lead to one (a missing field). */
function accessor(field: string): (event: Event) => unknown {
  if (!field.startsWith('payload.')) return (e) => (e as unknown as Record<string, unknown>)[field];
  const segments = field.split('.').slice(1);
  return (e) => {
    let value: unknown = e.payload;
    for (const key of segments) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
      // Own properties only: `payload.constructor` is a missing field, not Object's constructor.
      if (!Object.hasOwn(value, key)) return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value;
  };
}

/** Type-strict: a string never equals, or orders with, a number (docs/filters.md#semantics). */
const same = (value: unknown, operand: Scalar): boolean => value === operand;
const ordered = (value: unknown, operand: Scalar): value is string | number =>
  (typeof value === 'number' && typeof operand === 'number') || (typeof value === 'string' && typeof operand === 'string');

function compileTest(node: Extract<FilterNode, { kind: 'test' }>): EventPredicate {
  const get = accessor(node.field);
  const operand = node.operand;
  switch (node.op) {
    case '$eq':
      return (e) => same(get(e), operand as Scalar);
    case '$ne':
      return (e) => !same(get(e), operand as Scalar);
    case '$in': {
      const set = new Set(operand as Scalar[]);
      return (e) => set.has(get(e) as Scalar);
    }
    case '$nin': {
      const set = new Set(operand as Scalar[]);
      return (e) => !set.has(get(e) as Scalar);
    }
    case '$gt':
      return (e) => { const v = get(e); return ordered(v, operand as Scalar) && v > (operand as string | number); };
    case '$gte':
      return (e) => { const v = get(e); return ordered(v, operand as Scalar) && v >= (operand as string | number); };
    case '$lt':
      return (e) => { const v = get(e); return ordered(v, operand as Scalar) && v < (operand as string | number); };
    case '$lte':
      return (e) => { const v = get(e); return ordered(v, operand as Scalar) && v <= (operand as string | number); };
    case '$exists':
      // Null counts as missing: the event's unset ids and target are null.
      return operand ? (e) => { const v = get(e); return v !== undefined && v !== null; } : (e) => { const v = get(e); return v === undefined || v === null; };
    case '$prefix':
      return (e) => { const v = get(e); return typeof v === 'string' && v.startsWith(operand as string); };
  }
}

/** Compiles a parsed filter once into the predicate every transport runs per event. */
export function compileFilter(node: FilterNode): EventPredicate {
  switch (node.kind) {
    case 'test':
      return compileTest(node);
    case 'not': {
      const inner = compileFilter(node.node);
      return (e) => !inner(e);
    }
    case 'and': {
      const parts = node.nodes.map(compileFilter);
      if (parts.length === 0) return () => true;
      if (parts.length === 1) return parts[0] as EventPredicate;
      return (e) => {
        for (const p of parts) if (!p(e)) return false;
        return true;
      };
    }
    case 'or': {
      const parts = node.nodes.map(compileFilter);
      return (e) => {
        for (const p of parts) if (p(e)) return true;
        return false;
      };
    }
  }
}

/** The conditions every match must meet: the tests of the top-level AND (what an index can narrow by). */
export function requiredTests(node: FilterNode): Array<Extract<FilterNode, { kind: 'test' }>> {
  if (node.kind === 'test') return [node];
  if (node.kind === 'and') return node.nodes.flatMap(requiredTests);
  return [];
}

/** Whether the filter says anything about `field`, anywhere in it. */
export function mentions(node: FilterNode, field: string): boolean {
  switch (node.kind) {
    case 'test':
      return node.field === field;
    case 'not':
      return mentions(node.node, field);
    default:
      return node.nodes.some((n) => mentions(n, field));
  }
}

export const and = (...nodes: FilterNode[]): FilterNode => ({ kind: 'and', nodes });
export const test = (field: string, op: Extract<FilterNode, { kind: 'test' }>['op'], operand: Scalar | Scalar[]): FilterNode => ({ kind: 'test', field, op, operand });

/** Runs a parse; a bad filter becomes the 400 `invalid_filter` answer naming where and what. */
export function orBadRequest<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof FilterError) throw new HttpError(400, 'invalid_filter', err.message, { path: err.path, problem: err.problem });
    throw err;
  }
}
