import type { Settlement } from '../store/delivery-repository.js';
import type { SettledDelivery } from './engine-deps.js';

/** Outcomes are written once this many are queued, or after SETTLE_DELAY_MS: fewer, larger transactions. */
const SETTLE_BATCH = 32;
const SETTLE_DELAY_MS = 2;
/** Most outcomes one transaction writes. */
const WRITE_MAX = 500;
/** Wait before a failed write is tried again. */
const RETRY_MS = 500;

export interface SettlementSink {
  /** Writes one batch in one transaction. */
  write: (settlements: Settlement[]) => Promise<void>;
  /** After a batch is written, per outcome. */
  written: (info: SettledDelivery) => void;
  /** Failed writes (they are retried). */
  failed: (err: unknown, count: number) => void;
  /** Set once the worker stops: write at once; after the abort, give up on a failing write. */
  stopping: () => boolean;
  aborted: () => boolean;
}

/** The retry worker's outcomes on their way to the queue rows, one transaction at a time, batching whatever piled up meanwhile. */
export class SettlementBuffer {
  private queue: Array<{ settlement: Settlement; info: SettledDelivery }> = [];
  private writing: Promise<void> | null = null;

  constructor(private readonly sink: SettlementSink) {}

  add(settlement: Settlement, info: SettledDelivery): void {
    this.queue.push({ settlement, info });
    this.writeSoon();
  }

  /** Waits until nothing is being written. */
  async drain(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private writeSoon(): void {
    if (this.writing || this.queue.length === 0) return;
    let gaveUp = false;
    this.writing = (async () => {
      if (this.queue.length < SETTLE_BATCH && !this.sink.stopping()) await new Promise((r) => setTimeout(r, SETTLE_DELAY_MS));
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, WRITE_MAX);
        try {
          await this.sink.write(batch.map((b) => b.settlement));
        } catch (err) {
          this.sink.failed(err, batch.length);
          this.queue.unshift(...batch);
          // Shutting down past its grace period with the store failing: the leases of these deliveries run
          // out and return them to the queue, so giving up loses no delivery (it is attempted again).
          if (this.sink.aborted() && this.sink.stopping()) {
            gaveUp = true;
            break;
          }
          await new Promise((r) => setTimeout(r, RETRY_MS));
          continue;
        }
        for (const b of batch) this.sink.written(b.info);
      }
    })().finally(() => {
      this.writing = null;
      if (!gaveUp) this.writeSoon();
    });
  }
}
