/** Why a socket was closed with 4000: the label of herald_ws_slow_consumer_closes_total (docs/operations.md). */
export type SlowConsumerReason = 'send_buffer' | 'replay_queue' | 'replay_stalled' | 'replay_failed';

/** Counters the metrics plugin reads on scrape; plain increments, so sending a frame costs nothing more. */
export interface StreamStats {
  framesSent: number;
  slowConsumerCloses: Record<SlowConsumerReason, number>;
  /** The same reasons, for Server-Sent Events streams (ended after an `event: error` `slow_consumer`). */
  eventStreamSlowCloses: Record<SlowConsumerReason, number>;
}

export const newStreamStats = (): StreamStats => ({
  framesSent: 0,
  slowConsumerCloses: { send_buffer: 0, replay_queue: 0, replay_stalled: 0, replay_failed: 0 },
  eventStreamSlowCloses: { send_buffer: 0, replay_queue: 0, replay_stalled: 0, replay_failed: 0 },
});
