import { SEGMENT_MAX_EVENTS } from './segment-rows.js';

/**
 * Most events one upgraded segment holds: the default commit group (`HERALD_COMMIT_MAX_EVENTS`), so a lookup
 * in old data parses a segment no bigger than one written by a busy live writer.
 */
export const UPGRADE_SEGMENT_EVENTS = 256;

export interface PlannedSegment<T> {
  /** The segment's seq range is (first − 1, last]; `last` is its last item's seq. */
  first: number;
  items: T[];
}

/**
 * Groups schema-1 events (ascending seq) into segments. Segments tile the seq space — each one's `first` is
 * the previous one's last + 1, so the gaps 0.1.0 left (a re-published event_id took a seq; expiry deleted
 * events) belong to a segment as they would have in schema 2 — except that no segment spans more than
 * SEGMENT_MAX_EVENTS seqs, which the read path relies on to find the segment holding a seq; a longer gap
 * (retention deleted a stretch) stays outside every segment, like a segment retention deleted.
 */
export function planSegments<T extends { seq: number }>(items: readonly T[], prevLast: number, maxEvents = UPGRADE_SEGMENT_EVENTS): Array<PlannedSegment<T>> {
  const segments: Array<PlannedSegment<T>> = [];
  let current: T[] = [];
  const close = () => {
    const last = (current.at(-1) as T).seq;
    segments.push({ first: Math.max(prevLast + 1, last - SEGMENT_MAX_EVENTS + 1), items: current });
    prevLast = last;
    current = [];
  };
  for (const item of items) {
    const head = current[0];
    if (head && (current.length >= maxEvents || item.seq - head.seq >= SEGMENT_MAX_EVENTS)) close();
    current.push(item);
  }
  if (current.length > 0) close();
  return segments;
}
