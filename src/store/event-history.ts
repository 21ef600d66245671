import type { Event, HistoryPage, HistoryQuery } from '../schemas/event.js';
import { compileSelection, indexedId, selectionFromQuery, typeMatcher, type Selection } from '../events/selection.js';
import type { EventRepository } from './event-repository.js';
import type { StoredDoc } from './segment-docs.js';
import { SegmentDocs, globalSource, refSource, typeSource, type HistorySource } from './history-sources.js';
import { SEQ_MAX, isExpired } from './segment-rows.js';

/** Most rows one history request examines per index stream before it returns a short page with a cursor. */
export const SCAN_BUDGET = 5000;
/** Above this many event types (explicit, or a wildcard's matches), one scan over all events beats one stream per type. */
const MAX_TYPE_STREAMS = 16;

export type Order = 'asc' | 'desc';

export interface HistoryRequest {
  selection: Selection;
  order: Order;
  /** Exclusive seq bounds. */
  after: number;
  before: number;
  limit: number;
}

/** GET /events' query: the selection (throws a FilterError for a bad `filter=`) and the cursor, order and limit. */
export function parseHistoryQuery(query: HistoryQuery): HistoryRequest {
  const after = query.after === undefined ? 0 : Number(query.after);
  const before = query.before === undefined ? SEQ_MAX : Number(query.before);
  // A lone `after` reads forward (the resume case); otherwise newest first (docs/design.md#http-api).
  const order: Order = query.order ?? (query.after !== undefined && query.before === undefined ? 'asc' : 'desc');
  return { selection: selectionFromQuery(query), order, after, before, limit: query.limit };
}

/** What one ordered stream found: matches, and the seq up to which it examined everything. */
interface StreamResult {
  matches: Event[];
  /** The last seq examined; null when the stream reached the end of its range. */
  frontier: number | null;
}

/** Most windows one stream reads per request. */
const MAX_WINDOWS = 24;
/** Widest window, in keys: keeps each range read small even for a very rare type. */
const MAX_WINDOW = 200_000;

/**
 * Reads one ordered source in bounded key windows until limit+1 matches, the end of the range, or the budget.
 * The engine reads an open-ended range to its end whatever the LIMIT, but a range bounded on both sides costs
 * what it holds — so windows start at limit+1 keys and grow with the match rate seen so far. A segment ending
 * above the range's top is read on its own (`straddling`): first when descending, last when ascending.
 */
async function readStream(source: HistorySource, req: HistoryRequest, upper: number, matches: (e: Event) => boolean): Promise<StreamResult> {
  const asc = req.order === 'asc';
  const lowest = req.after + 1;
  const highest = Math.min(req.before - 1, upper);
  const found: Event[] = [];
  if (highest < lowest) return { matches: found, frontier: null };
  let examined = 0;
  /** Examines documents in scan order, parsing each only then; the seq of the limit+1-th match, or null. */
  const take = (docs: StoredDoc[]): number | null => {
    const inRange = docs.filter((d) => d.seq >= lowest && d.seq <= highest).sort((x, y) => (asc ? x.seq - y.seq : y.seq - x.seq));
    for (const doc of inRange) {
      examined += 1;
      const event = doc.event();
      if (!matches(event)) continue;
      found.push(event);
      if (found.length > req.limit) return event.seq;
    }
    return null;
  };
  if (!asc) {
    const hit = take(await source.straddling(highest, upper));
    if (hit !== null) return { matches: found, frontier: hit };
  }
  // Ascending: every key ≤ done has been read; descending: every key > done.
  let done = asc ? req.after : highest;
  let lastKey = req.after;
  let width = Math.min(MAX_WINDOW, source.firstWidth(req.limit));
  for (let windows = 0; asc ? done < highest : done >= lowest; windows++) {
    const [from, to] = asc ? [done, Math.min(done + width, highest)] : [Math.max(done - width, lowest - 1), done];
    const read = await source.window(from, to, { count: req.limit + 1 - found.length, asc });
    const before = found.length;
    const hit = take(read.events);
    if (hit !== null) return { matches: found, frontier: hit };
    lastKey = Math.max(lastKey, read.lastKey ?? lastKey);
    done = read.reached ?? (asc ? to : from);
    const finished = asc ? done >= highest : done < lowest;
    if (!finished && (examined >= SCAN_BUDGET || windows + 1 >= MAX_WINDOWS)) {
      // Segments do not overlap, so every seq up to the last segment read is examined, and a segment not yet
      // read ends above `done`, so starts above done − slack.
      return { matches: found, frontier: asc ? Math.max(lastKey, done - source.slack) : done + 1 };
    }
    // Aim the next window at the matches still missing, from the density this one showed. A window cut
    // short (`reached`) examined less than its width: it says nothing about the density, so keep the width.
    const missing = req.limit + 1 - found.length;
    const hits = found.length - before;
    if (read.reached === undefined) width = Math.min(MAX_WINDOW, hits === 0 ? width * 8 : Math.max(width, Math.ceil((width * missing * 1.25) / hits)));
    // In the global order every seq can be an event, so the window itself must respect the budget.
    if (source.dense) width = Math.max(1, Math.min(width, SCAN_BUDGET - examined));
  }
  if (asc) {
    const hit = take(await source.straddling(highest, upper));
    if (hit !== null) return { matches: found, frontier: hit };
  }
  return { matches: found, frontier: null };
}

/**
 * One page of history. Picks the narrowest source: an id filter's ref rows, one stream per event type (a
 * wildcard expands through the registry of stored types), or the global order; everything else is filtered
 * here. A page can be short (the scan budget ran out on a rare filter) — `next_cursor` then still says where
 * to continue.
 */
export async function readHistory(repo: EventRepository, req: HistoryRequest, now = Date.now()): Promise<HistoryPage> {
  const selected = compileSelection(req.selection);
  const matches = (e: Event) => selected(e) && !isExpired(e, now);
  const docs = new SegmentDocs(repo.reads);
  const id = indexedId(req.selection);
  // No stored seq exceeds the counter, so windows start there instead of at 2^53.
  const upper = await repo.seqUpperBound();
  let sources: HistorySource[];
  if (id) {
    sources = [refSource(repo.reads, docs, id.field, id.value)];
  } else {
    const types = await streamTypes(repo, req.selection.types);
    sources = types === null
      ? [globalSource(repo.reads, docs)]
      : types.map((t) => typeSource(repo.reads, docs, t, req.after + 1, Math.min(req.before - 1, upper)));
  }
  const streams = await Promise.all(sources.map((source) => readStream(source, req, upper, matches)));
  return mergeStreams(streams, req);
}

/** The event types to read one stream each for, or null for the global order (no filter, or too many types). */
async function streamTypes(repo: EventRepository, patterns: string[]): Promise<string[] | null> {
  if (patterns.length === 0) return null;
  const exact = patterns.every((t) => !t.includes('*'));
  const types = exact ? patterns : (await repo.reads.types()).filter(typeMatcher(patterns));
  return types.length <= MAX_TYPE_STREAMS ? types : null;
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
