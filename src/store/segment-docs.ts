import type { Event } from '../schemas/event.js';
import { decodeDocs, type SegmentRow } from './segment-rows.js';

/** One stored event document, parsed on first use. */
export interface StoredDoc {
  readonly seq: number;
  event(): Event;
}

/**
 * A segment's `docs` (the JSON array of `events`, exactly `JSON.stringify(events)`) and `offs`: where each
 * seq's document starts in it, at index seq − first, −1 for a seq with no document (expiry removed it).
 * `events` are ascending and within first..last.
 */
export function encodeDocs(events: Event[], first: number, last: number): { docs: string; offs: number[] } {
  const parts = events.map((e) => JSON.stringify(e));
  const offs = new Array<number>(last - first + 1).fill(-1);
  let at = 1; // after '['
  parts.forEach((part, i) => {
    offs[(events[i] as Event).seq - first] = at;
    at += part.length + 1; // and its ',' (or the closing ']')
  });
  return { docs: `[${parts.join(',')}]`, offs };
}

/**
 * The segment's documents, ascending, each parsed only when asked for: a history page uses a few of a
 * segment's thousand. A segment without `offs` (written before they existed, or by the 0.1.0 upgrade) is
 * parsed whole.
 */
export function storedDocs(row: Pick<SegmentRow, 'docs' | 'first' | 'last' | 'offs'>): StoredDoc[] {
  const spans = docSpans(row);
  if (!spans) return decodeDocs(row).map((e) => ({ seq: e.seq, event: () => e }));
  return spans.map(({ seq, start, end }) => lazyDoc(seq, row.docs, start, end));
}

/**
 * The JSON text of each of the segment's documents, ascending (exactly `JSON.stringify` of each event), or
 * undefined for a segment without `offs`.
 */
export function documentTexts(row: Pick<SegmentRow, 'docs' | 'first' | 'last' | 'offs'>): string[] | undefined {
  return docSpans(row)?.map(({ start, end }) => row.docs.slice(start, end));
}

/** Where each document of the segment starts and ends in `docs`, ascending; undefined without usable `offs`. */
function docSpans(row: Pick<SegmentRow, 'docs' | 'first' | 'last' | 'offs'>): Array<{ seq: number; start: number; end: number }> | undefined {
  const { docs, offs } = row;
  if (!offs || offs.length !== row.last - row.first + 1) return undefined;
  const found: Array<{ seq: number; start: number; end: number }> = [];
  let end = docs.length - 1; // the closing ']'
  for (let i = offs.length - 1; i >= 0; i--) {
    const start = offs[i] as number;
    if (start < 0) continue;
    found.push({ seq: row.first + i, start, end });
    end = start - 1; // the ',' before it
  }
  return found.reverse();
}

function lazyDoc(seq: number, docs: string, start: number, end: number): StoredDoc {
  let parsed: Event | undefined;
  return { seq, event: () => (parsed ??= JSON.parse(docs.slice(start, end)) as Event) };
}
