/**
 * A subscription's first attempts in flight plus its outcomes not written yet stay below this many times
 * HERALD_WEBHOOK_SUBSCRIPTION_CONCURRENCY: the most events a `kill -9` makes it send again.
 */
export const REDO_FACTOR = 2;

/** First attempts the subscription may still start under the bound. */
export function redoRoom(inFlight: number, unwritten: number, perSubscription: number): number {
  return REDO_FACTOR * perSubscription - inFlight - unwritten;
}

/** Whether the subscription may start nothing more until some of its outcomes are written. */
export function atRedoBound(inFlight: number, unwritten: number, perSubscription: number): boolean {
  return redoRoom(inFlight, unwritten, perSubscription) <= 0;
}
