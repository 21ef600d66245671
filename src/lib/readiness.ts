/**
 * How far the live feed may trail the seq counter and still count as caught up. Commits show in the counter
 * before their notification arrives, and one group commit moves it by up to HERALD_COMMIT_MAX_EVENTS (at most
 * 4096) at once, so a working feed is often a few thousand behind for a moment under bulk load; a stuck one falls
 * further behind with every commit. 5000 covers one full group of 4096 with room to spare.
 */
export const MAX_FEED_LAG = 5000;

export interface ReadinessState {
  closing: boolean;
  storeUp: boolean;
  /** Committed seqs the live feed has not delivered yet (seq counter − feed position). */
  feedLag: number;
}

export type Readiness = { ready: true } | { ready: false; reason: string };

/** Whether this process should get traffic: its store answers, its live feed keeps up, and it is not shutting down. */
export function readiness(state: ReadinessState, maxFeedLag = MAX_FEED_LAG): Readiness {
  if (state.closing) return { ready: false, reason: 'shutting down' };
  if (!state.storeUp) return { ready: false, reason: 'store not answering' };
  if (state.feedLag > maxFeedLag) {
    return { ready: false, reason: `live feed ${state.feedLag} events behind the store (at most ${maxFeedLag})` };
  }
  return { ready: true };
}
