import { FILTER_LIMITS } from '../schemas/filter.js';

export type Scalar = string | number | boolean | null;
export type Operator = '$eq' | '$ne' | '$in' | '$nin' | '$gt' | '$gte' | '$lt' | '$lte' | '$exists' | '$prefix';

/** A parsed filter: a tree whose leaves each test one field. */
export type FilterNode =
  | { kind: 'and'; nodes: FilterNode[] }
  | { kind: 'or'; nodes: FilterNode[] }
  | { kind: 'not'; node: FilterNode }
  | { kind: 'test'; field: string; op: Operator; operand: Scalar | Scalar[] };

/** The event fields a filter can name; everything under `payload.` too. */
export const FILTER_FIELDS = ['event_id', 'event_type', 'source', 'target', 'priority', 'correlation_id', 'workflow_id', 'session_id'] as const;

/** A filter that cannot be used; `path` is where in it the problem is (`filter.$or[1].payload.message`). */
export class FilterError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(`${path}: ${problem}`);
  }
}

const OPERATORS = new Set<string>(['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists', '$prefix']);
const SEGMENT = new RegExp(`^[A-Za-z0-9_$-]{1,${FILTER_LIMITS.segmentLength}}$`);
const TOP_FIELDS = new Set<string>(FILTER_FIELDS);

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

class Parser {
  private conditions = 0;

  filter(input: unknown, path: string, depth: number): FilterNode {
    if (!isPlainObject(input)) throw new FilterError(path, `expected an object, got ${describe(input)}`);
    if (depth > FILTER_LIMITS.depth) throw new FilterError(path, `nested deeper than ${FILTER_LIMITS.depth} levels`);
    const nodes: FilterNode[] = [];
    for (const [key, value] of Object.entries(input)) {
      const at = `${path}.${key}`;
      if (key === '$and' || key === '$or') nodes.push({ kind: key === '$and' ? 'and' : 'or', nodes: this.list(value, at, depth) });
      else if (key === '$not') nodes.push({ kind: 'not', node: this.filter(value, at, depth + 1) });
      else if (key.startsWith('$')) throw new FilterError(at, `unknown combinator ${key}; expected $and, $or, $not or a field path`);
      else nodes.push(...this.field(key, value, at));
    }
    return nodes.length === 1 ? (nodes[0] as FilterNode) : { kind: 'and', nodes };
  }

  private list(value: unknown, path: string, depth: number): FilterNode[] {
    if (!Array.isArray(value) || value.length === 0) throw new FilterError(path, `expected a non-empty array of filters, got ${describe(value)}`);
    return value.map((item, i) => this.filter(item, `${path}[${i}]`, depth + 1));
  }

  private field(field: string, value: unknown, path: string): FilterNode[] {
    checkField(field, path);
    if (!isPlainObject(value)) return [this.test(field, '$eq', value, path)];
    const ops = Object.entries(value);
    if (ops.length === 0) throw new FilterError(path, 'expected a value or at least one operator, got {}');
    return ops.map(([op, operand]) => {
      if (!OPERATORS.has(op)) {
        throw new FilterError(path, op.startsWith('$') ? `unknown operator ${op}` : `expected a value or operators ($eq, $in, …), got the key ${JSON.stringify(op)}`);
      }
      return this.test(field, op as Operator, operand, `${path}.${op}`);
    });
  }

  private test(field: string, op: Operator, operand: unknown, path: string): FilterNode {
    this.conditions += 1;
    if (this.conditions > FILTER_LIMITS.conditions) throw new FilterError(path, `more than ${FILTER_LIMITS.conditions} conditions`);
    return { kind: 'test', field, op, operand: checkOperand(op, operand, path) };
  }
}

function checkField(field: string, path: string): void {
  if (TOP_FIELDS.has(field)) return;
  const [head, ...segments] = field.split('.');
  if (head !== 'payload' || segments.length === 0) {
    throw new FilterError(path, `unknown field ${JSON.stringify(field)}; expected ${FILTER_FIELDS.join(', ')} or payload.<path>`);
  }
  if (segments.length > FILTER_LIMITS.pathSegments) throw new FilterError(path, `a payload path has at most ${FILTER_LIMITS.pathSegments} segments`);
  if (!segments.every((s) => SEGMENT.test(s))) {
    throw new FilterError(path, `each payload path segment is 1–${FILTER_LIMITS.segmentLength} of A–Z a–z 0–9 _ $ -`);
  }
}

function scalar(value: unknown, path: string, allowed: ReadonlySet<string>): Scalar {
  const kind = value === null ? 'null' : typeof value;
  if (!allowed.has(kind)) throw new FilterError(path, `expected ${[...allowed].join(' or ')}, got ${describe(value)}`);
  if (typeof value === 'string' && value.length > FILTER_LIMITS.stringLength) throw new FilterError(path, `a string operand has at most ${FILTER_LIMITS.stringLength} characters`);
  if (typeof value === 'number' && !(Math.abs(value) <= Number.MAX_SAFE_INTEGER)) throw new FilterError(path, 'a number operand lies within ±(2^53 − 1)');
  return value as Scalar;
}

const ANY = new Set(['string', 'number', 'boolean', 'null']);
const ORDERED = new Set(['string', 'number']);

function checkOperand(op: Operator, operand: unknown, path: string): Scalar | Scalar[] {
  switch (op) {
    case '$in':
    case '$nin':
      if (!Array.isArray(operand) || operand.length === 0 || operand.length > FILTER_LIMITS.listItems) {
        throw new FilterError(path, `expected an array of 1–${FILTER_LIMITS.listItems} values, got ${describe(operand)}${Array.isArray(operand) ? ` of ${operand.length}` : ''}`);
      }
      return operand.map((v, i) => scalar(v, `${path}[${i}]`, ANY));
    case '$exists':
      return scalar(operand, path, new Set(['boolean']));
    case '$prefix':
      return scalar(operand, path, new Set(['string']));
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return scalar(operand, path, ORDERED);
    default:
      return scalar(operand, path, ANY);
  }
}

/** Parses and checks a filter (docs/filters.md); throws a FilterError naming the first problem. */
export function parseFilter(input: unknown, path = 'filter'): FilterNode {
  return new Parser().filter(input, path, 1);
}

/** Parses `?filter=` text: JSON of a filter, at most FILTER_LIMITS.queryLength characters. */
export function parseFilterText(text: string, path = 'filter'): FilterNode {
  if (text.length > FILTER_LIMITS.queryLength) throw new FilterError(path, `longer than ${FILTER_LIMITS.queryLength} characters`);
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    throw new FilterError(path, `not JSON: ${(err as Error).message}`);
  }
  return parseFilter(input, path);
}
