import { storedDocs, type StoredDoc } from './segment-docs.js';
import type { SegmentReads } from './segment-reads.js';
import { SEGMENT_MAX_EVENTS, type RefField, type SegmentRow } from './segment-rows.js';

/** What one window of a history source held: its documents, and the highest key it read (null: none). */
export interface SourceWindow {
  events: StoredDoc[];
  lastKey: number | null;
}

/**
 * One ordered stream of candidate events for a history request, read in windows of its key space: segment
 * last seqs for the global order and per-type rows, seqs for id refs. A window (from, to] returns every event
 * of the rows whose key is in it, so a segment straddling a window's end belongs to the next window.
 */
export interface HistorySource {
  window(from: number, to: number): Promise<SourceWindow>;
  /** The events of the segment that holds `seq` but ends above it (nothing for a per-seq source). */
  straddling(seq: number, upper: number): Promise<StoredDoc[]>;
  /**
   * How far below a window's end an ascending stream is certainly complete: a segment ending above `to`
   * starts above `to − SEGMENT_MAX_EVENTS`. 0 for a per-seq source.
   */
  readonly slack: number;
  /** Every seq can be a candidate (the global order): windows must respect the scan budget themselves. */
  readonly dense: boolean;
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
  const eventsOf = async (rows: Array<{ segment: number; seqs: number[] }>): Promise<StoredDoc[]> => {
    const wanted = rows.map((r) => ({ segment: r.segment, seqs: new Set(r.seqs.filter((s) => s >= lowest && s <= highest)) })).filter((r) => r.seqs.size > 0);
    const bySegment = await docs.byLasts(wanted.map((r) => r.segment));
    return wanted.flatMap((r) => (bySegment.get(r.segment) ?? []).filter((e) => r.seqs.has(e.seq)));
  };
  return {
    slack: SEGMENT_MAX_EVENTS,
    dense: false,
    async window(from, to) {
      const rows = await reads.typeRows(eventType, from, to);
      return { events: await eventsOf(rows), lastKey: rows.at(-1)?.segment ?? null };
    },
    async straddling(seq, upper) {
      if (seq >= upper) return [];
      const rows = await reads.typeRows(eventType, seq, Math.min(upper, seq + SEGMENT_MAX_EVENTS - 1));
      return eventsOf(rows.filter((r) => r.seqs.some((s) => s <= seq)));
    },
  };
}

/** The events carrying one correlation/workflow/session id: one ref row per event, keyed by seq. */
export function refSource(reads: SegmentReads, docs: SegmentDocs, field: RefField, value: string): HistorySource {
  return {
    slack: 0,
    dense: false,
    async window(from, to) {
      const refs = await reads.refs(field, value, from, to);
      const bySegment = await docs.byLasts(refs.map((r) => r.segment));
      const seqs = new Set(refs.map((r) => r.seq));
      const events = [...new Set(refs.map((r) => r.segment))].flatMap((s) => (bySegment.get(s) ?? []).filter((e) => seqs.has(e.seq)));
      return { events, lastKey: refs.at(-1)?.seq ?? null };
    },
    straddling: async () => [],
  };
}
