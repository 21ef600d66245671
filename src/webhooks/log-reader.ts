import type { Event } from '../schemas/event.js';
import type { SegmentReads } from '../store/segment-reads.js';
import { SEGMENT_MAX_EVENTS, decodeDocs } from '../store/segment-rows.js';

/** Seqs one read of the log covers at most: two of the largest segments. */
const READ_SPAN = 2 * SEGMENT_MAX_EVENTS;

/**
 * The events of the segments after seq `from` (a bounded range, up to `upper`), and the seq the read reached:
 * the windows of every subscription behind share it. A gap (purged segments, a 0.1.0 upgrade) is skipped.
 */
export async function readWindowEvents(reads: SegmentReads, from: number, upper: number): Promise<{ events: Event[]; readTo: number }> {
  let segments = await reads.endingIn(from, Math.min(upper, from + READ_SPAN));
  if (segments.length === 0) {
    const next = await reads.firstEndingAbove(from);
    if (!next || next.last > upper) return { events: [], readTo: next ? Math.max(from, next.first - 1) : upper };
    segments = [next];
  }
  return { events: segments.flatMap(decodeDocs), readTo: (segments.at(-1) as { last: number }).last };
}
