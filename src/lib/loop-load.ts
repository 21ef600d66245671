import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Share of the event loop's time spent running callbacks (0..1) over a recent window. */
export type LoopSampler = () => number;

/**
 * The event loop utilization of this process (Node's ELU) over the last window of at least `windowMs`,
 * computed when asked: no timer runs while nobody asks.
 */
export function eventLoopLoad(windowMs: number): LoopSampler {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let at = performance.now();
  let utilization = 0;
  return () => {
    const now = performance.now();
    if (now - at >= windowMs) {
      const current = performance.eventLoopUtilization();
      utilization = performance.eventLoopUtilization(current, last).utilization;
      last = current;
      at = now;
    }
    return utilization;
  };
}
