import type { HistoryQuery, Priority } from '../schemas/event.js';
import type { StreamFilters } from '../schemas/stream.js';
import { wildcardMatcher } from '../lib/wildcard.js';
import type { RefField } from '../store/segment-rows.js';
import { and, compileFilter, mentions, parseFilterText, requiredTests, test, type EventPredicate, type FilterNode, type Scalar } from './filter.js';

/**
 * What a reader asks for, whatever the transport: event type patterns (the index every transport narrows by
 * first), one filter, and — for history — a timestamp window. Query shortcuts (`source=`, `priority=`…) and
 * the `filters` object are conditions of the same filter (docs/filters.md#shortcuts).
 */
export interface Selection {
  types: string[];
  filter: FilterNode;
  /** Epoch ms: timestamp ≥ since, < until. */
  since?: number;
  until?: number;
}

/** `task_*` matches `task_` followed by anything; patterns without `*` compare exactly. */
export function typeMatcher(patterns: readonly string[]): (eventType: string) => boolean {
  if (patterns.length === 0) return () => true;
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const wild = patterns.filter((p) => p.includes('*')).map(wildcardMatcher);
  return (eventType) => exact.has(eventType) || wild.some((matches) => matches(eventType));
}

/** The query string of GET /events and of the WebSocket upgrade; throws a FilterError for a bad `filter=`. */
export function selectionFromQuery(query: HistoryQuery): Selection {
  const tests: FilterNode[] = [];
  if (query.source !== undefined) tests.push(test('source', '$eq', query.source));
  if (query.target !== undefined) tests.push(test('target', '$eq', query.target));
  if (query.priority !== undefined) tests.push(test('priority', '$in', [...new Set(query.priority.split(','))]));
  for (const id of ['correlation_id', 'workflow_id', 'session_id'] as const) {
    if (query[id] !== undefined) tests.push(test(id, '$eq', query[id]));
  }
  if (query.filter !== undefined) tests.push(parseFilterText(query.filter));
  return {
    types: query.types ? [...new Set(query.types.split(','))] : [],
    filter: and(...tests),
    ...(query.since !== undefined && { since: Date.parse(query.since) }),
    ...(query.until !== undefined && { until: Date.parse(query.until) }),
  };
}

/** The `filters` object of a subscribe message or webhook subscription: each key is one equality test. */
export function filtersObject(filters: StreamFilters | Record<string, unknown>): FilterNode[] {
  return Object.entries(filters).map(([field, value]) =>
    field === 'priority' ? test(field, '$in', ([] as Priority[]).concat(value as Priority)) : test(field, '$eq', value as Scalar),
  );
}

/**
 * A live subscription's selection (WebSocket, SSE, webhook). An event with a `target` only reaches
 * subscriptions whose filter names `target` (docs/design.md#events, "Targets"); no timestamp window.
 */
export function subscriptionSelection(types: readonly string[], filter: FilterNode): Selection {
  return { types: [...new Set(types)], filter: mentions(filter, 'target') ? filter : and(filter, test('target', '$eq', null)) };
}

/** The one predicate of a selection: type, then filter, then timestamp window. */
export function compileSelection(selection: Selection): EventPredicate {
  const type = typeMatcher(selection.types);
  const filter = compileFilter(selection.filter);
  const { since, until } = selection;
  if (since === undefined && until === undefined) return (e) => type(e.event_type) && filter(e);
  return (e) => {
    if (!type(e.event_type) || !filter(e)) return false;
    const at = Date.parse(e.timestamp);
    return (since === undefined || at >= since) && (until === undefined || at < until);
  };
}

/** An id every match carries (a top-level equality), so history can read that id's refs instead of scanning. */
export function indexedId(selection: Selection): { field: RefField; value: string } | undefined {
  for (const t of requiredTests(selection.filter)) {
    if ((t.field === 'correlation_id' || t.field === 'workflow_id' || t.field === 'session_id') && t.op === '$eq' && typeof t.operand === 'string') {
      return { field: t.field, value: t.operand };
    }
  }
  return undefined;
}
