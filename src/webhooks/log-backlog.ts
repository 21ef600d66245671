import type { CursorRepository } from '../store/cursor-repository.js';
import type { EventRepository } from '../store/event-repository.js';
import { readWindowEvents } from './log-reader.js';
import type { SubscriptionIndex } from './subscription-index.js';

/** Seqs above the lowest cursor one scrape reads at most. */
const SCRAPE_SPAN = 16_384;

/**
 * The first attempts still to make, for metrics: matching events above each delivering subscription's
 * cursor (not settled out of order), counted up to `cap`, and the time of the oldest (epoch ms, null when
 * none). One bounded read of the log shared by every subscription.
 */
export async function logBacklog(
  deps: { cursors: CursorRepository; events: EventRepository; index: SubscriptionIndex }, cap: number,
): Promise<{ due: number; oldestDueMs: number | null }> {
  const cursors = await deps.cursors.positions(deps.index.targetIds());
  const result = { due: 0, oldestDueMs: null as number | null };
  if (cursors.length === 0) return result;
  const from = Math.min(...cursors.map((c) => c.seq));
  const upper = Math.min(await deps.events.seqUpperBound(), from + SCRAPE_SPAN);
  const settled = cursors.map((c) => ({ ...c, above: new Set(c.above) }));
  for (let at = from; at < upper && result.due < cap;) {
    const { events, readTo } = await readWindowEvents(deps.events.reads, at, upper);
    for (const e of events) {
      if (e.seq > upper) break;
      for (const c of settled) {
        if (e.seq <= c.seq || c.above.has(e.seq) || !deps.index.matches(c.id, e)) continue;
        result.due++;
        result.oldestDueMs = Math.min(result.oldestDueMs ?? Infinity, Date.parse(e.timestamp));
      }
    }
    at = readTo;
  }
  result.due = Math.min(result.due, cap);
  return result;
}
