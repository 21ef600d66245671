import type { Event, HistoryPage, HistoryQuery, Priority } from '../schemas/event.js';
import { wildcardMatcher } from '../lib/wildcard.js';
import type { EventRepository, ScanIndex } from './event-repository.js';
import { SEQ_MAX, fromRow, isExpired, typeKey, type RefField } from './event-rows.js';

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
  // A lone `after` reads forward (the resume case); otherwise newest first (docs/design.md#http-api).
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

/** `task_*` matches `task_` followed by anything; patterns without `*` compare exactly. */
export function typeMatcher(patterns: string[]): (eventType: string) => boolean {
  if (patterns.length === 0) return () => true;
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const wild = patterns.filter((p) => p.includes('*')).map(wildcardMatcher);
  return (eventType) => exact.has(eventType) || wild.some((matches) => matches(eventType));
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

/** Most index windows one stream reads per request. */
const MAX_WINDOWS = 24;
/** Widest window, in seqs: keeps each range query small even for a very rare type. */
const MAX_WINDOW = 200_000;

/**
 * Reads one ordered stream in bounded seq windows until limit+1 matches, the end of the range, or the budget.
 * SurrealDB 3.0.2 reads about a thousand index entries for an open-ended range whatever the LIMIT (7–14 ms),
 * but a range bounded on both sides costs what it holds (~1.5 ms for 100 entries) — so windows start at
 * limit+1 seqs and grow with the match rate seen so far.
 */
async function readStream(
  repo: EventRepository,
  index: { field: ScanIndex; key: (n: number) => number | string; /** one row per seq at most */ dense: boolean },
  req: HistoryRequest,
  upper: number,
  matches: (e: Event) => boolean,
): Promise<StreamResult> {
  const asc = req.order === 'asc';
  const lowest = req.after + 1;
  const highest = Math.min(req.before - 1, upper);
  const found: Event[] = [];
  let next = asc ? lowest : highest; // the first seq of the next window, in scan direction
  let width = req.limit + 1;
  let examined = 0;
  for (let windows = 0; asc ? next <= highest : next >= lowest; windows++) {
    const [a, b] = asc ? [next, Math.min(next + width - 1, highest)] : [Math.max(next - width + 1, lowest), next];
    // Seq window [a, b] in index-key space; a descending index stores SEQ_MAX − seq.
    const [from, to] = asc ? [index.key(a - 1), index.key(b)] : [index.key(SEQ_MAX - b - 1), index.key(SEQ_MAX - a)];
    const rows = (await repo.scanRange(index.field, from, to)).sort((x, y) => (asc ? x.seq - y.seq : y.seq - x.seq));
    const before = found.length;
    for (const row of rows) {
      const event = fromRow(row);
      if (!matches(event)) continue;
      found.push(event);
      if (found.length > req.limit) return { matches: found, frontier: row.seq };
    }
    examined += rows.length;
    next = asc ? b + 1 : a - 1;
    if (examined >= SCAN_BUDGET || windows + 1 >= MAX_WINDOWS) {
      return { matches: found, frontier: asc ? Math.min(b, highest) : Math.max(a, lowest) };
    }
    // Aim the next window at the matches still missing, from the density this one showed.
    const missing = req.limit + 1 - found.length;
    const hits = found.length - before;
    width = Math.min(MAX_WINDOW, hits === 0 ? width * 8 : Math.max(width, Math.ceil((width * missing * 1.25) / hits)));
    // In the global order every seq can be a row, so the window itself must respect the budget.
    if (index.dense) width = Math.min(width, SCAN_BUDGET - examined);
  }
  return { matches: found, frontier: null };
}

function indexStream(repo: EventRepository, req: HistoryRequest, upper: number, eventType: string | null, matches: (e: Event) => boolean) {
  const asc = req.order === 'asc';
  if (eventType === null) return readStream(repo, { field: asc ? 'seq' : 'rseq', key: (n) => n, dense: true }, req, upper, matches);
  return readStream(repo, { field: asc ? 'type_key' : 'type_rkey', key: (n) => typeKey(eventType, n), dense: false }, req, upper, matches);
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
export async function readHistory(repo: EventRepository, req: HistoryRequest, now = Date.now()): Promise<HistoryPage> {
  const matches = eventMatcher(req.filter, now);
  const idField = (['correlation_id', 'workflow_id', 'session_id'] as const).find((f) => req.filter[f] !== undefined);
  const exactTypes = req.filter.types.length > 0 && req.filter.types.every((t) => !t.includes('*'));
  let streams: StreamResult[];
  // No stored seq exceeds the counter, so windows start there instead of at 2^53.
  const upper = idField ? SEQ_MAX : await repo.seqUpperBound();
  if (idField) {
    streams = [await idStream(repo, req, idField, req.filter[idField] as string, matches)];
  } else if (exactTypes && req.filter.types.length <= MAX_TYPE_STREAMS) {
    streams = await Promise.all(req.filter.types.map((t) => indexStream(repo, req, upper, t, matches)));
  } else {
    streams = [await indexStream(repo, req, upper, null, matches)];
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

/** The seq of the newest stored, unexpired event; 0 for an empty store. */
export async function newestSeq(repo: EventRepository): Promise<number> {
  const page = await readHistory(repo, { filter: { types: [] }, order: 'desc', after: 0, before: SEQ_MAX, limit: 1 });
  return page.events[0]?.seq ?? 0;
}
