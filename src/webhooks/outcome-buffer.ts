import type { LogRecord } from '../store/attempt-log.js';
import type { DeliveryRow } from '../store/delivery-rows.js';
import type { SettledDelivery } from './engine-deps.js';

/** What one subscription's next cursor advance writes besides the cursor. */
export interface Pending {
  logs: LogRecord[];
  queue: DeliveryRow[];
  settled: SettledDelivery[];
}

/** Outcomes are written once this many are pending, or after FLUSH_DELAY_MS: few, large transactions. */
const FLUSH_BATCH = 64;
const FLUSH_DELAY_MS = 2;
/** The wait while deliveries yield to publishing: each outcome transaction competes with the commits. */
const YIELDING_FLUSH_DELAY_MS = 100;

/**
 * The log dispatcher's outcomes on their way to the database, per subscription, and how many of each
 * subscription's are not durable yet (pending, or in the batch being written): a `kill -9` makes those
 * events be sent again, so the dispatcher bounds them. `write` gets one batch at a time.
 */
export class OutcomeBuffer {
  private pending = new Map<string, Pending>();
  private readonly unwritten = new Map<string, number>();
  private count = 0;
  private flushing: Promise<void> | null = null;
  /** Set at shutdown (writeNow): write at once, without waiting for company. */
  private urgent = false;
  /** A subscription can start nothing more until its outcomes are written: the next write waits for no company. */
  private hurried = false;
  /** Ends the current wait for company early. */
  private stopWaiting: (() => void) | null = null;

  constructor(
    private readonly write: (batch: Array<[string, Pending]>) => Promise<void>,
    /** After each write: room for more attempts. */
    private readonly written: () => void,
    /** Whether deliveries yield to publishing now (send-slots.ts): outcomes then wait longer for company. */
    private readonly yielding: () => boolean = () => false,
  ) {}

  /** Outcomes of the subscription not durable yet. */
  unwrittenOf(subId: string): number {
    return this.unwritten.get(subId) ?? 0;
  }

  has(subId: string): boolean {
    return this.pending.has(subId);
  }

  add(subId: string, outcome: LogRecord | DeliveryRow, settled: SettledDelivery): void {
    const p = this.of(subId);
    if ('status' in outcome) p.queue.push(outcome);
    else p.logs.push(outcome);
    p.settled.push(settled);
    this.unwritten.set(subId, this.unwrittenOf(subId) + 1);
    this.count++;
    this.flushSoon();
  }

  /**
   * Says that a subscription has reached its bound of unwritten outcomes: waiting for company would only
   * idle it, since what it has not written is what holds it back. Not while yielding to publishing, where
   * fewer, larger outcome transactions are the point.
   */
  hurry(): void {
    if (this.yielding()) return;
    this.hurried = true;
    this.stopWaiting?.();
  }

  /** From now on every write starts at once, the one waiting for company included (shutdown). */
  writeNow(): void {
    this.urgent = true;
    this.stopWaiting?.();
  }

  /** A cursor that may move with nothing else to write (events that did not match, a queued line settled). */
  touch(subId: string): void {
    this.of(subId);
    this.flushSoon();
  }

  /** Forgets what the subscription has not handed to a write yet. */
  discard(subId: string): void {
    const p = this.pending.get(subId);
    if (!p) return;
    this.pending.delete(subId);
    this.count -= p.settled.length;
    this.done(subId, p.settled.length);
  }

  /** Writes everything pending, and waits for the write in progress. */
  async drain(): Promise<void> {
    while (this.flushing || this.pending.size > 0) await (this.flushing ?? this.flush());
  }

  private of(subId: string): Pending {
    let p = this.pending.get(subId);
    if (!p) {
      p = { logs: [], queue: [], settled: [] };
      this.pending.set(subId, p);
    }
    return p;
  }

  private done(subId: string, n: number): void {
    const left = this.unwrittenOf(subId) - n;
    if (left > 0) this.unwritten.set(subId, left);
    else this.unwritten.delete(subId);
  }

  private flushSoon(): void {
    if (this.flushing || this.pending.size === 0) return;
    this.flushing = (async () => {
      if (this.count < FLUSH_BATCH && !this.urgent && !(this.hurried && !this.yielding())) {
        const delay = this.yielding() ? YIELDING_FLUSH_DELAY_MS : FLUSH_DELAY_MS;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.stopWaiting = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.stopWaiting = null;
      }
      this.hurried = false;
      await this.flush();
    })().finally(() => {
      this.flushing = null;
      if (this.pending.size > 0) this.flushSoon();
      // What the hurry was for was discarded (windows dropped): the next outcome waits for company again.
      else this.hurried = false;
    });
  }

  private async flush(): Promise<void> {
    const batch = [...this.pending];
    this.pending = new Map();
    this.count = 0;
    try {
      await this.write(batch);
    } finally {
      for (const [subId, p] of batch) this.done(subId, p.settled.length);
      this.written();
    }
  }
}
