import type { Event, HistoryPage, HistoryQuery, Priority } from '../schemas/event.js';
import type { EventRepository, ScanIndex } from './event-repository.js';
import { SEQ_MAX, fromRow, isExpired, typeKey, type EventRow, type RefField } from './event-rows.js';

/** Most rows one history request examines per index stream before it returns a short page with a cursor. */
export const SCAN_BUDGET = 5000;
/** Above this many explicit types, one scan over all events beats one stream per type. */
const MAX_TYPE_STREAMS = 16;

export type Order = 'asc' | 'desc';

/** The filters of GET /events after parsing; the WebSocket resume path reuses them. */
export interface HistoryFilter {
  types: string[];
  source?: string;
  target?: string;
  priorities?: Priority[];
  correlation_id?: string;
  workflow_id?: string;
  session_id?: string;
  since?: number;
  until?: number;
}

export interface HistoryRequest {
  filter: HistoryFilter;
  order: Order;
  /** Exclusive seq bounds. */
  after: number;
  before: number;
  limit: number;
}

export function parseHistoryQuery(query: HistoryQuery): HistoryRequest {
  const after = query.after === undefined ? 0 : Number(query.after);
  const before = query.before === undefined ? SEQ_MAX : Number(query.before);
  // A lone `after` reads forward (the resume case); otherwise newest first, as DESIGN.md says.
  const order: Order = query.order ?? (query.after !== undefined && query.before === undefined ? 'asc' : 'desc');
  const filter: HistoryFilter = {
    types: query.types ? [...new Set(query.types.split(','))] : [],
    ...(query.source !== undefined && { source: query.source }),
    ...(query.target !== undefined && { target: query.target }),
    ...(query.priority !== undefined && { priorities: query.priority.split(',') as Priority[] }),
    ...(query.correlation_id !== undefined && { correlation_id: query.correlation_id }),
    ...(query.workflow_id !== undefined && { workflow_id: query.workflow_id }),
    ...(query.session_id !== undefined && { session_id: query.session_id }),
    ...(query.since !== undefined && { since: Date.parse(query.since) }),
    ...(query.until !== undefined && { until: Date.parse(query.until) }),
  };
  return { filter, order, after, before, limit: query.limit };
}

/** `task_*` → /^task_.*$/; patterns without `*` compare exactly. */
export function typeMatcher(patterns: string[]): (eventType: string) => boolean {
  if (patterns.length === 0) return () => true;
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const wild = patterns
    .filter((p) => p.includes('*'))
    .map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\-]/g, '\\$&').replaceAll('*', '.*')}$`));
  return (eventType) => exact.has(eventType) || wild.some((re) => re.test(eventType));
}

export function eventMatcher(filter: HistoryFilter, now: number): (event: Event) => boolean {
  const matchesType = typeMatcher(filter.types);
  return (e) =>
    matchesType(e.event_type) &&
    (filter.source === undefined || e.source === filter.source) &&
    (filter.target === undefined || e.target === filter.target) &&
    (filter.priorities === undefined || filter.priorities.includes(e.priority)) &&
    (filter.correlation_id === undefined || e.correlation_id === filter.correlation_id) &&
    (filter.workflow_id === undefined || e.workflow_id === filter.workflow_id) &&
    (filter.session_id === undefined || e.session_id === filter.session_id) &&
    (filter.since === undefined || Date.parse(e.timestamp) >= filter.since) &&
    (filter.until === undefined || Date.parse(e.timestamp) < filter.until) &&
    !isExpired(e, now);
}

/** What one ordered stream found: matches, and the seq up to which it examined everything. */
interface StreamResult {
  matches: Event[];
  /** The last seq examined; null when the stream reached the end of its range. */
  frontier: number | null;
}

type RowSource = (from: number | string, limit: number) => Promise<EventRow[]>;

/** Reads one ordered stream chunk by chunk until limit+1 matches, the end of the range, or the budget. */
async function readStream(
  source: RowSource,
  start: number | string,
  position: (row: EventRow) => { key: number | string; inRange: boolean },
  seqInBounds: (seq: number) => boolean,
  matches: (e: Event) => boolean,
  limit: number,
): Promise<StreamResult> {
  const found: Event[] = [];
  let from = start;
  let examined = 0;
  let chunk = Math.min(limit + 1, 1000);
  for (;;) {
    const rows = await source(from, chunk);
    for (const row of rows) {
      const { key, inRange } = position(row);
      if (!inRange || !seqInBounds(row.seq)) return { matches: found, frontier: null };
      examined += 1;
      from = key;
      const event = fromRow(row);
      if (matches(event)) {
        found.push(event);
        if (found.length > limit) return { matches: found, frontier: row.seq };
      }
      if (examined >= SCAN_BUDGET) return { matches: found, frontier: row.seq };
    }
    if (rows.length < chunk) return { matches: found, frontier: null };
    chunk = Math.min(chunk * 4, 1000);
  }
}

function indexStream(repo: EventRepository, req: HistoryRequest, eventType: string | null, matches: (e: Event) => boolean) {
  const asc = req.order === 'asc';
  const bounds = (seq: number) => seq > req.after && seq < req.before;
  // The first seq examined in scan direction, expressed in the index's own key space (exclusive).
  const startSeq = asc ? req.after : SEQ_MAX - Math.min(req.before, SEQ_MAX);
  if (eventType === null) {
    const field: ScanIndex = asc ? 'seq' : 'rseq';
    return readStream(
      (from, limit) => repo.scan(field, from, limit),
      startSeq,
      (row) => ({ key: asc ? row.seq : row.rseq, inRange: true }),
      bounds, matches, req.limit,
    );
  }
  const field: ScanIndex = asc ? 'type_key' : 'type_rkey';
  const prefix = `${eventType} `;
  return readStream(
    (from, limit) => repo.scan(field, from, limit),
    typeKey(eventType, startSeq),
    (row) => {
      const key = asc ? row.type_key : row.type_rkey;
      return { key, inRange: key.startsWith(prefix) };
    },
    bounds, matches, req.limit,
  );
}

async function idStream(repo: EventRepository, req: HistoryRequest, field: RefField, value: string, matches: (e: Event) => boolean): Promise<StreamResult> {
  const refs = (await repo.refsOf(field, value))
    .filter((r) => r.seq > req.after && r.seq < req.before)
    .sort((a, b) => (req.order === 'asc' ? a.seq - b.seq : b.seq - a.seq));
  const found: Event[] = [];
  for (let offset = 0; offset < refs.length; offset += req.limit + 1) {
    const slice = refs.slice(offset, offset + req.limit + 1);
    const bySeq = new Map((await repo.getByIds(slice.map((r) => String(r.event_id)))).map((row) => [row.seq, row]));
    for (const ref of slice) {
      const row = bySeq.get(ref.seq);
      if (!row) continue;
      const event = fromRow(row);
      if (!matches(event)) continue;
      found.push(event);
      if (found.length > req.limit) return { matches: found, frontier: row.seq };
    }
  }
  return { matches: found, frontier: null };
}

/**
 * One page of history. Picks the narrowest index: an id filter's equality index, one ordered stream per
 * explicit event type, or the global seq order; everything else is filtered here. A page can be short
 * (the scan budget ran out on a rare filter) — `next_cursor` then still says where to continue.
 */
export async function readHistory(
  repo: EventRepository,
  req: HistoryRequest,
  hidden: (seq: number) => boolean = () => false,
  now = Date.now(),
): Promise<HistoryPage> {
  const visible = eventMatcher(req.filter, now);
  const matches = (e: Event) => !hidden(e.seq) && visible(e);
  const idField = (['correlation_id', 'workflow_id', 'session_id'] as const).find((f) => req.filter[f] !== undefined);
  const exactTypes = req.filter.types.length > 0 && req.filter.types.every((t) => !t.includes('*'));
  let streams: StreamResult[];
  if (idField) {
    streams = [await idStream(repo, req, idField, req.filter[idField] as string, matches)];
  } else if (exactTypes && req.filter.types.length <= MAX_TYPE_STREAMS) {
    streams = await Promise.all(req.filter.types.map((t) => indexStream(repo, req, t, matches)));
  } else {
    streams = [await indexStream(repo, req, null, matches)];
  }
  return mergeStreams(streams, req);
}

function mergeStreams(streams: StreamResult[], req: HistoryRequest): HistoryPage {
  const asc = req.order === 'asc';
  const open = streams.map((s) => s.frontier).filter((f): f is number => f !== null);
  // Everything up to the least advanced open stream's frontier has been examined by every stream.
  const safe = open.length === 0 ? null : asc ? Math.min(...open) : Math.max(...open);
  const known = streams
    .flatMap((s) => s.matches)
    .filter((e) => safe === null || (asc ? e.seq <= safe : e.seq >= safe))
    .sort((a, b) => (asc ? a.seq - b.seq : b.seq - a.seq));
  if (known.length > req.limit) {
    const events = known.slice(0, req.limit);
    return { events, next_cursor: String((events.at(-1) as Event).seq) };
  }
  return { events: known, next_cursor: safe === null ? null : String(safe) };
}
