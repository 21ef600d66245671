import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Share of the event loop's time spent running callbacks (0..1) over the last sample interval. */
export type LoopSampler = () => number;

/** Samples the event loop utilization of this process (Node's ELU) every `intervalMs`, then calls `onSample`. */
export function eventLoopSampler(intervalMs: number, onSample: () => void = () => {}): { sample: LoopSampler; stop: () => void } {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let utilization = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    utilization = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    onSample();
  }, intervalMs);
  timer.unref();
  return { sample: () => utilization, stop: () => clearInterval(timer) };
}
