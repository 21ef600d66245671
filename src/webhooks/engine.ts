import type { LogDispatcher } from './dispatcher.js';
import type { DeliveryWorker } from './worker.js';
import type { SettledDelivery } from './engine-deps.js';

/**
 * The two halves of delivery in one process: first attempts from the log by cursor (dispatcher.ts) and the
 * retry queue (worker.ts). Listeners reach both; a commit wakes the dispatcher, other wake-ups both.
 */
export class WebhookEngine {
  constructor(readonly dispatcher: LogDispatcher, readonly retries: DeliveryWorker) {
    // An ordered line waiting on a retry moves on as soon as this process settles it.
    retries.settled.on(() => dispatcher.wake());
  }

  get stats(): { storeErrors: number } {
    return { storeErrors: this.dispatcher.stats.storeErrors + this.retries.stats.storeErrors };
  }

  start(): void {
    this.dispatcher.start();
    this.retries.start();
  }

  /**
   * New events in the log. Only first attempts can be due: a commit puts nothing in the retry queue, and
   * waking the retry worker here cost a claim query per commit.
   */
  committed(): void {
    this.dispatcher.wake();
  }

  /** Something may be due now in either half (a manual retry, a replay, a subscription change). */
  wake(): void {
    this.dispatcher.wake();
    this.retries.wake();
  }

  onSettled(listener: (settled: SettledDelivery) => void): () => void {
    const offs = [this.dispatcher.settled.on(listener), this.retries.settled.on(listener)];
    return () => offs.forEach((off) => off());
  }

  async stop(graceMs: number): Promise<void> {
    await Promise.all([this.dispatcher.stop(graceMs), this.retries.stop(graceMs)]);
  }
}
