import type { Event, HistoryQuery, Priority } from '../schemas/event.js';
import type { StreamFilters } from '../schemas/stream.js';
import { typeMatcher } from '../store/event-history.js';
import type { HistoryFilter } from '../store/event-history.js';

/** What one WebSocket subscription asks for. */
export interface StreamSpec {
  eventTypes: string[];
  filters: StreamFilters;
}

function payloadValue(payload: Record<string, unknown>, path: string): unknown {
  let value: unknown = payload;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * The subscription's predicate. An event with a `target` only reaches subscriptions that name that target; a
 * subscription without a target filter gets the untargeted events (docs/design.md#events, "Targets";
 * docs/websocket.md).
 */
export function streamMatcher(spec: StreamSpec): (event: Event) => boolean {
  const matchesType = typeMatcher(spec.eventTypes);
  const f = spec.filters;
  const priorities: Priority[] | undefined = f.priority === undefined ? undefined : ([] as Priority[]).concat(f.priority);
  const payloadChecks = Object.entries(f)
    .filter(([key]) => key.startsWith('payload.'))
    .map(([key, expected]) => [key.slice('payload.'.length), expected] as const);
  return (e) =>
    matchesType(e.event_type) &&
    (f.target === undefined ? e.target === null : e.target === f.target) &&
    (f.source === undefined || e.source === f.source) &&
    (priorities === undefined || priorities.includes(e.priority)) &&
    (f.workflow_id === undefined || e.workflow_id === f.workflow_id) &&
    (f.session_id === undefined || e.session_id === f.session_id) &&
    (f.correlation_id === undefined || e.correlation_id === f.correlation_id) &&
    payloadChecks.every(([path, expected]) => payloadValue(e.payload, path) === expected);
}

/** The query-string form: `?types=task_*,custom&source=a&priority=high,critical&...`. */
export function specFromQuery(query: HistoryQuery): StreamSpec {
  const filters: StreamFilters = {};
  if (query.source !== undefined) filters.source = query.source;
  if (query.target !== undefined) filters.target = query.target;
  if (query.priority !== undefined) filters.priority = query.priority.split(',') as Priority[];
  if (query.workflow_id !== undefined) filters.workflow_id = query.workflow_id;
  if (query.session_id !== undefined) filters.session_id = query.session_id;
  if (query.correlation_id !== undefined) filters.correlation_id = query.correlation_id;
  return { eventTypes: query.types ? [...new Set(query.types.split(','))] : [], filters };
}

/** The history filter that pre-selects a subscription's replay (the exact check is streamMatcher). */
export function historyFilterOf(spec: StreamSpec): HistoryFilter {
  const f = spec.filters;
  return {
    types: spec.eventTypes,
    ...(f.source !== undefined && { source: f.source }),
    ...(f.priority !== undefined && { priorities: ([] as Priority[]).concat(f.priority) }),
    ...(f.workflow_id !== undefined && { workflow_id: f.workflow_id }),
    ...(f.session_id !== undefined && { session_id: f.session_id }),
    ...(f.correlation_id !== undefined && { correlation_id: f.correlation_id }),
  };
}
