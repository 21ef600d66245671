import type { Event } from '../schemas/event.js';
import { readHistory } from '../store/event-history.js';
import { SEQ_MAX } from '../store/segment-rows.js';
import type { StreamContext, StreamLimits } from './context.js';
import type { Selection } from '../events/selection.js';

/**
 * The history catch-up → live hand-off pieces both stream transports use (the WebSocket's Connection and the
 * Server-Sent Events session): where a resume cursor stands, the stored events after it, and the seqs a
 * replay already sent so the live flush skips them.
 */

const REPLAY_PAGE = 500;

/**
 * The newest committed seq when `after` is above it — a cursor from another or a reset database — else
 * undefined. The feed may trail the store by a notification or two (another replica wrote it), so only a
 * cursor above the store's counter is really ahead.
 */
export async function newestIfAhead(ctx: Pick<StreamContext, 'position' | 'repo'>, after: number): Promise<number | undefined> {
  if (after <= ctx.position()) return undefined;
  const newest = await ctx.repo.seqUpperBound();
  return after > newest ? newest : undefined;
}

/** The lowest retained seq when events right after `after` are gone (retention purged them), else undefined. */
export async function oldestIfExpired(ctx: Pick<StreamContext, 'retainedFrom'>, after: number): Promise<number | undefined> {
  const oldest = await ctx.retainedFrom();
  return after + 1 < oldest ? oldest : undefined;
}

/** The stored events after `after` that the selection matches, in seq order, a page at a time. */
export async function* storedAfter(ctx: Pick<StreamContext, 'repo'>, selection: Selection, after: number): AsyncGenerator<Event> {
  let cursor = after;
  for (;;) {
    const page = await readHistory(ctx.repo, {
      selection, order: 'asc', after: cursor, before: SEQ_MAX, limit: REPLAY_PAGE,
    });
    yield* page.events;
    if (page.next_cursor === null) return;
    cursor = Number(page.next_cursor);
  }
}

/**
 * Seqs above the hold start that a replay already sent. The flush of held events skips them, and so does
 * live delivery: a replay can read an event from the store before the LIVE feed has dispatched it.
 */
export class ReplayedSeqs {
  private readonly seqs = new Set<number>();

  add(seq: number): void {
    this.seqs.add(seq);
  }

  get size(): number {
    return this.seqs.size;
  }

  /** Live events arrive in seq order, so replayed seqs at or below this one will not come again. */
  skip(seq: number): boolean {
    const hit = this.seqs.has(seq);
    for (const sent of this.seqs) if (sent <= seq) this.seqs.delete(sent);
    return hit;
  }
}

/**
 * Replay sends as fast as the client reads, so a backlog larger than the send buffer is not a cut-off:
 * resolves true once `backlog()` is at most half the buffer limit, false when it stayed above for a ping
 * interval plus a pong timeout (the replay has stalled).
 */
export async function drained(
  backlog: () => number,
  isClosed: () => boolean,
  limits: Pick<StreamLimits, 'maxBufferBytes' | 'pingIntervalMs' | 'pongTimeoutMs'>,
): Promise<boolean> {
  const deadline = Date.now() + limits.pongTimeoutMs + limits.pingIntervalMs;
  while (!isClosed() && backlog() > limits.maxBufferBytes / 2) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}
