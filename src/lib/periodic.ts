/**
 * Runs `task` every `intervalMs` (0 = never), one run at a time: a tick that comes while a run is in progress
 * queues after it. `stop` clears the timer and waits for what is running, so the store is not closed under a
 * run. The timer does not keep the process alive.
 */
export function every(intervalMs: number, task: () => Promise<void>): { stop: () => Promise<void> } {
  if (intervalMs <= 0) return { stop: async () => {} };
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(task);
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
