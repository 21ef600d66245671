import { storedDocs, type StoredDoc } from './segment-docs.js';
import type { SegmentReads } from './segment-reads.js';
import { SEGMENT_MAX_EVENTS, SEGMENT_SPLIT_EVENTS, type RefField, type SegmentRow } from './segment-rows.js';

/** What one window of a history source held: its documents, and the highest key it read (null: none). */
export interface SourceWindow {
  events: StoredDoc[];
  lastKey: number | null;
  /**
   * Set when the window stopped short of its far end because it already held the candidates wanted: the key
   * it examined up to (ascending: every key ≤ it; descending: every key above it).
   */
  reached?: number;
}

/** How many candidates a window needs, counted in scan order: it fetches documents for no more than those. */
export interface Wanted {
  count: number;
  asc: boolean;
}

/**
 * One ordered stream of candidate events for a history request, read in windows of its key space: segment
 * last seqs for the global order and per-type rows, seqs for id refs. A window (from, to] returns every event
 * of the rows whose key is in it, so a segment straddling a window's end belongs to the next window.
 */
export interface HistorySource {
  window(from: number, to: number, wanted: Wanted): Promise<SourceWindow>;
  /** The events of the segment that holds `seq` but ends above it (nothing for a per-seq source). */
  straddling(seq: number, upper: number): Promise<StoredDoc[]>;
  /**
   * How far below a window's end an ascending stream is certainly complete: a segment ending above `to`
   * starts above `to − SEGMENT_MAX_EVENTS`. 0 for a per-seq source.
   */
  readonly slack: number;
  /** Every seq can be a candidate (the global order): windows must respect the scan budget themselves. */
  readonly dense: boolean;
  /**
   * The first window's width in keys for a page of `limit`. Global order: one segment row more than the
   * page, so even a row straddling the window's far end leaves limit+1 seqs inside. Per-type rows name a
   * segment's candidates each, so reading 16 pages' worth of keys costs a few small rows and spares a second
   * round trip for a type at 10% of the events. Id refs are one row per event: limit+1.
   */
  firstWidth(limit: number): number;
}

/** Each segment a request touches is fetched once and each document parsed at most once, whichever of its streams needs it. */
export class SegmentDocs {
  private readonly decoded = new Map<number, Promise<StoredDoc[]>>();

  constructor(private readonly reads: SegmentReads) {}

  /** The documents of rows already read. */
  fromRows(rows: SegmentRow[]): Promise<StoredDoc[][]> {
    return Promise.all(rows.map((row) => this.memo(row.last, () => Promise.resolve(storedDocs(row)))));
  }

  /** The documents of the segments with these last seqs (a deleted segment yields none), by last seq. */
  async byLasts(lasts: number[]): Promise<Map<number, StoredDoc[]>> {
    const missing = [...new Set(lasts)].filter((last) => !this.decoded.has(last));
    if (missing.length > 0) {
      const fetched = this.reads.byIds(missing).then((rows) => new Map(rows.map((r) => [r.last, storedDocs(r)])));
      for (const last of missing) this.decoded.set(last, fetched.then((m) => m.get(last) ?? []));
    }
    const entries = await Promise.all([...new Set(lasts)].map(async (last) => [last, await (this.decoded.get(last) as Promise<StoredDoc[]>)] as const));
    return new Map(entries);
  }

  /** The documents at these seqs of these segments (by last seq), segment by segment in the order first named. */
  async at(picks: Array<{ segment: number; seqs: number[] }>): Promise<StoredDoc[]> {
    const seqsOf = new Map<number, Set<number>>();
    for (const { segment, seqs } of picks) {
      const set = seqsOf.get(segment) ?? new Set<number>();
      for (const seq of seqs) set.add(seq);
      seqsOf.set(segment, set);
    }
    const bySegment = await this.byLasts([...seqsOf.keys()]);
    return [...seqsOf].flatMap(([segment, seqs]) => (bySegment.get(segment) ?? []).filter((e) => seqs.has(e.seq)));
  }

  private memo(last: number, load: () => Promise<StoredDoc[]>): Promise<StoredDoc[]> {
    let events = this.decoded.get(last);
    if (!events) this.decoded.set(last, (events = load()));
    return events;
  }
}

/** Every event in seq order: the segments themselves. */
export function globalSource(reads: SegmentReads, docs: SegmentDocs): HistorySource {
  return {
    slack: SEGMENT_MAX_EVENTS,
    dense: true,
    firstWidth: (limit) => limit + 1 + SEGMENT_SPLIT_EVENTS,
    async window(from, to) {
      const rows = await reads.endingIn(from, to);
      return { events: (await docs.fromRows(rows)).flat(), lastKey: rows.at(-1)?.last ?? null };
    },
    async straddling(seq, upper) {
      if (seq >= upper) return []; // no segment ends above the counter
      const row = await reads.covering(seq);
      return row && row.last > seq ? (await docs.fromRows([row])).flat() : [];
    },
  };
}

/** One event type's events: its (type, segment) rows name the seqs, the segments hold the documents. */
export function typeSource(reads: SegmentReads, docs: SegmentDocs, eventType: string, lowest: number, highest: number): HistorySource {
  const inRange = (rows: Array<{ segment: number; seqs: number[] }>) =>
    rows.map((r) => ({ key: r.segment, seqs: r.seqs.filter((s) => s >= lowest && s <= highest) })).filter((r) => r.seqs.length > 0);
  const eventsOf = (rows: Array<{ key: number; seqs: number[] }>) => docs.at(rows.map((r) => ({ segment: r.key, seqs: r.seqs })));
  return {
    slack: SEGMENT_MAX_EVENTS,
    dense: false,
    firstWidth: (limit) => (limit + 1) * 16,
    async window(from, to, wanted) {
      // The type rows are small and already name every candidate seq: only the segments of the first
      // `wanted` candidates are fetched, however wide the window.
      const read = await reads.typeRows(eventType, from, to);
      const { rows, reached } = firstWanted(inRange(read), wanted);
      return { events: await eventsOf(rows), lastKey: lastRead(read.at(-1)?.segment, reached, wanted), reached };
    },
    async straddling(seq, upper) {
      if (seq >= upper) return [];
      const rows = await reads.typeRows(eventType, seq, Math.min(upper, seq + SEGMENT_MAX_EVENTS - 1));
      return eventsOf(inRange(rows.filter((r) => r.seqs.some((s) => s <= seq))));
    },
  };
}

/** The events carrying one correlation/workflow/session id: one ref row per event, keyed by seq. */
export function refSource(reads: SegmentReads, docs: SegmentDocs, field: RefField, value: string): HistorySource {
  return {
    slack: 0,
    dense: false,
    firstWidth: (limit) => limit + 1,
    async window(from, to, wanted) {
      const refs = (await reads.refs(field, value, from, to)).map((r) => ({ key: r.seq, seqs: [r.seq], segment: r.segment }));
      const { rows, reached } = firstWanted(refs, wanted);
      return { events: await docs.at(rows), lastKey: lastRead(refs.at(-1)?.key, reached, wanted), reached };
    },
    straddling: async () => [],
  };
}

/** The highest key a window examined: the last it read, or where an ascending window stopped short. */
const lastRead = (last: number | undefined, reached: number | undefined, wanted: Wanted): number | null =>
  (wanted.asc ? reached : undefined) ?? last ?? null;

/**
 * The rows (ascending by key) holding the first `wanted.count` candidate seqs in scan order, still ascending,
 * and where that cut the window short (see SourceWindow.reached); all of them when they hold no more.
 */
export function firstWanted<R extends { key: number; seqs: number[] }>(rows: R[], wanted: Wanted): { rows: R[]; reached?: number } {
  const ordered = wanted.asc ? rows : [...rows].reverse();
  let candidates = 0;
  const cut = ordered.findIndex((row) => (candidates += row.seqs.length) >= wanted.count);
  if (cut < 0 || cut === ordered.length - 1) return { rows };
  const kept = ordered.slice(0, cut + 1);
  const edge = (kept.at(-1) as R).key;
  return wanted.asc ? { rows: kept, reached: edge } : { rows: kept.reverse(), reached: edge - 1 };
}
