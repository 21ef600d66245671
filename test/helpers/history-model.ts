import fc from 'fast-check';

/**
 * A naive in-memory model of what Herald should store and return, written from docs/design.md rather than
 * from src, and the random publishes and queries that test/history-property.test.ts checks against it.
 */

export type Priority = 'low' | 'normal' | 'high' | 'critical';
export const PRIORITIES: Priority[] = ['low', 'normal', 'high', 'critical'];

export interface StoredEvent {
  event_id: string;
  event_type: string;
  source: string;
  target: string | null;
  payload: Record<string, unknown>;
  metadata: Record<string, unknown>;
  timestamp: string;
  priority: Priority;
  correlation_id: string | null;
  workflow_id: string | null;
  session_id: string | null;
  retry_count: number;
  max_retries: number | null;
  expires_at: string | null;
  seq: number;
}
export type EventInput = Partial<Omit<StoredEvent, 'seq'>> & { event_type: string; source: string };

export type Publish = { kind: 'one'; event: EventInput } | { kind: 'batch'; events: EventInput[]; correlation_id?: string };

const uuids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-0000-4000-8000-00000000000${i}`);
export const ID_POOLS = {
  correlation_id: uuids('c0000000', 3),
  workflow_id: uuids('f0000000', 3),
  session_id: uuids('50000000', 3),
};
const CLIENT_EVENT_IDS = uuids('e0000000', 8);
export const UNKNOWN_ID = 'dddddddd-0000-4000-8000-000000000000';

/** Shared prefixes, dotted names and near-misses, so wildcards and exact matches can be told apart. */
const EVENT_TYPES = ['task_started', 'task_progress', 'task', 'task.progress', 'order.created', 'order.created.v2', 'order.shipped', 'orders', 'custom'];
const TYPE_PATTERNS = [...EVENT_TYPES, 'task_*', 'task*', 'order.*', '*.created', 'order.*.v2', '*s', '*_*', '*', 'never_published'];
const SOURCES = ['agent-1', 'agent-2', 'svc.billing'];
const TARGETS = ['ui', 'worker'];
/** Event timestamps fall on a few hours of one day, so since/until bounds and ties are common. */
const BASE = Date.parse('2026-01-01T00:00:00Z');
const HOURS = 12;
const hourIso = (h: number, offsetHours = 0) => {
  const local = new Date(BASE + h * 3_600_000 + offsetHours * 3_600_000).toISOString();
  return offsetHours === 0 ? local : local.replace('Z', `+${String(offsetHours).padStart(2, '0')}:00`);
};

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
const idOf = (pool: string[]) => fc.oneof(fc.constant(undefined), fc.constant(null), fc.constantFrom(...pool));

const eventInput: fc.Arbitrary<EventInput> = fc
  .record({
    event_type: fc.constantFrom(...EVENT_TYPES),
    source: fc.constantFrom(...SOURCES),
    target: fc.oneof(fc.constant(undefined), fc.constant(null), fc.constantFrom(...TARGETS)),
    priority: optional(fc.constantFrom(...PRIORITIES)),
    correlation_id: idOf(ID_POOLS.correlation_id),
    workflow_id: idOf(ID_POOLS.workflow_id),
    session_id: idOf(ID_POOLS.session_id),
    timestamp: optional(fc.tuple(fc.integer({ min: 0, max: HOURS - 1 }), fc.constantFrom(0, 0, 2)).map(([h, off]) => hourIso(h, off))),
    // Past, far future, or none: an expired event is stored but never returned.
    expires_at: fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant('2020-01-01T00:00:00Z'), fc.constant('2099-01-01T00:00:00Z')),
    event_id: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fc.constantFrom(...CLIENT_EVENT_IDS), weight: 1 }),
    n: fc.nat(1_000_000),
  })
  .map(({ n, ...fields }) => {
    const input: Record<string, unknown> = { payload: { n } };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) input[key] = value;
    return input as EventInput;
  });

export const publishes: fc.Arbitrary<Publish[]> = fc.array(
  fc.oneof(
    { arbitrary: eventInput.map((event) => ({ kind: 'one' as const, event })), weight: 3 },
    {
      arbitrary: fc
        .record({ events: fc.array(eventInput, { minLength: 1, maxLength: 6 }), correlation_id: optional(fc.constantFrom(...ID_POOLS.correlation_id)) })
        .map(({ events, correlation_id }) => ({ kind: 'batch' as const, events, ...(correlation_id && { correlation_id }) })),
      weight: 1,
    },
  ),
  { minLength: 20, maxLength: 80 },
);

export interface Filter {
  types?: string[];
  source?: string;
  target?: string;
  priority?: Priority[];
  correlation_id?: string;
  workflow_id?: string;
  session_id?: string;
}
export interface Query extends Filter {
  since?: string;
  until?: string;
  after?: number;
  before?: number;
  order?: 'asc' | 'desc';
  limit: number;
}

const idFilter = fc.oneof(
  fc.constant({}),
  ...(Object.entries(ID_POOLS) as Array<[keyof typeof ID_POOLS, string[]]>).map(([field, pool]) => fc.constantFrom(...pool).map((id) => ({ [field]: id }))),
);
const filter: fc.Arbitrary<Filter> = fc
  .record({
    types: optional(fc.uniqueArray(fc.constantFrom(...TYPE_PATTERNS), { minLength: 1, maxLength: 3 })),
    source: optional(fc.constantFrom(...SOURCES, 'nobody')),
    target: optional(fc.constantFrom(...TARGETS)),
    priority: optional(fc.uniqueArray(fc.constantFrom(...PRIORITIES), { minLength: 1, maxLength: 3 })),
    ids: fc.oneof({ arbitrary: fc.constant({}), weight: 2 }, { arbitrary: idFilter, weight: 1 }),
  })
  .map(({ ids, ...rest }) => strip({ ...rest, ...ids }));

const seqBound = optional(fc.integer({ min: 0, max: 400 }));
export const queries: fc.Arbitrary<Query[]> = fc.array(
  fc
    .record({
      filter,
      since: optional(fc.integer({ min: 0, max: HOURS }).map((h) => hourIso(h))),
      until: optional(fc.integer({ min: 0, max: HOURS }).map((h) => hourIso(h, 2))),
      after: seqBound,
      before: seqBound,
      order: optional(fc.constantFrom('asc' as const, 'desc' as const)),
      limit: fc.constantFrom(1, 3, 10, 100, 1000),
    })
    .map(({ filter, ...rest }) => strip({ ...filter, ...rest })),
  { minLength: 10, maxLength: 25 },
);

/** What a resuming WebSocket asks for: a filter and an `after` given as a percentage of the newest seq. */
export const streamResumes = fc.array(fc.record({ filter, afterPercent: fc.integer({ min: 0, max: 100 }) }), { minLength: 2, maxLength: 4 });

function strip<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** `task_*` matches `task_` followed by anything, `*` is any run of characters (docs/design.md). */
function typeMatches(patterns: string[] | undefined, type: string): boolean {
  if (!patterns) return true;
  return patterns.some((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.]/g, '\\.')).join('.*')}$`).test(type));
}

export const isExpired = (e: StoredEvent, now: number) => e.expires_at !== null && Date.parse(e.expires_at) <= now;

function filterMatches(f: Filter, e: StoredEvent): boolean {
  return (
    typeMatches(f.types, e.event_type) &&
    (f.source === undefined || e.source === f.source) &&
    (f.priority === undefined || f.priority.includes(e.priority)) &&
    (f.correlation_id === undefined || e.correlation_id === f.correlation_id) &&
    (f.workflow_id === undefined || e.workflow_id === f.workflow_id) &&
    (f.session_id === undefined || e.session_id === f.session_id)
  );
}

/** The effective order: newest first, except that a lone `after` reads forward. */
export const orderOf = (q: Query) => q.order ?? (q.after !== undefined && q.before === undefined ? 'asc' : 'desc');

/** Every event GET /events must return for `q`, across all its pages, in order. */
export function expectedHistory(stored: StoredEvent[], q: Query, now: number): StoredEvent[] {
  const hits = stored.filter(
    (e) =>
      filterMatches(q, e) &&
      (q.target === undefined || e.target === q.target) &&
      (q.since === undefined || Date.parse(e.timestamp) >= Date.parse(q.since)) &&
      (q.until === undefined || Date.parse(e.timestamp) < Date.parse(q.until)) &&
      (q.after === undefined || e.seq > q.after) &&
      (q.before === undefined || e.seq < q.before) &&
      !isExpired(e, now),
  );
  return hits.sort((a, b) => (orderOf(q) === 'asc' ? a.seq - b.seq : b.seq - a.seq));
}

/** What a stream subscription replays after `after`: `target` routes (untargeted events only without it). */
export function expectedReplay(stored: StoredEvent[], f: Filter, after: number, now: number): StoredEvent[] {
  return stored
    .filter((e) => filterMatches(f, e) && e.target === (f.target ?? null) && e.seq > after && !isExpired(e, now))
    .sort((a, b) => a.seq - b.seq);
}

/** The query string of a filter or query, as a client would write it. */
export function queryString(q: Filter & Partial<Query>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(q)) params.set(key, Array.isArray(value) ? value.join(',') : String(value));
  return params.toString();
}

/** The stored form of a publish Herald has not seen before, per docs/design.md#events (defaults, UTC). */
export function storedForm(input: EventInput, batchCorrelationId?: string): Omit<StoredEvent, 'seq' | 'event_id' | 'timestamp'> & { timestamp?: string } {
  return {
    event_type: input.event_type,
    source: input.source,
    target: input.target ?? null,
    payload: input.payload ?? {},
    metadata: {},
    ...(input.timestamp !== undefined && { timestamp: new Date(input.timestamp).toISOString() }),
    priority: input.priority ?? 'normal',
    correlation_id: batchCorrelationId ?? input.correlation_id ?? null,
    workflow_id: input.workflow_id ?? null,
    session_id: input.session_id ?? null,
    retry_count: 0,
    max_retries: null,
    expires_at: input.expires_at ? new Date(input.expires_at).toISOString() : null,
  };
}

/** An event that the stream filter `f` receives live, published after a replay to mark its end. */
export function sentinelFor(f: Filter): EventInput {
  return strip({
    event_type: f.types?.[0]?.replaceAll('*', 'x') ?? 'sentinel',
    source: f.source ?? 'sentinel',
    target: f.target,
    priority: f.priority?.[0],
    correlation_id: f.correlation_id,
    workflow_id: f.workflow_id,
    session_id: f.session_id,
    payload: { sentinel: true },
  });
}
