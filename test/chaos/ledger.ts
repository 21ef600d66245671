/**
 * What the publishers were told: every event handed out, and the seq of every acknowledgement (a 2xx from
 * POST /events or /events/batch, or a `published` WS frame). The budget bounds how many events the run
 * creates; publishers take from it until it is spent.
 */
import { randomUUID } from 'node:crypto';
import type { Rng } from './random.js';

export const EVENT_TYPES = ['chaos_a', 'chaos_b', 'chaos_c', 'chaos_d', 'chaos_e', 'chaos_f', 'chaos_g', 'chaos_h'] as const;
export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;

export interface ChaosEvent {
  event_id: string;
  event_type: string;
  source: string;
  priority: string;
  payload: { publisher: string; n: number };
}

export class Ledger {
  /** event_id → the event as sent (the oracle's filters read its type and priority). */
  readonly attempted = new Map<string, ChaosEvent>();
  /** event_id → the seq its first acknowledgement carried. */
  readonly acked = new Map<string, number>();
  readonly problems: string[] = [];
  private handedOut = 0;
  private waiters: Array<{ count: number; wake: () => void }> = [];

  constructor(readonly budget: number) {}

  /** Up to `wanted` more events may be created (0: the budget is spent). */
  take(wanted: number): number {
    const n = Math.max(0, Math.min(wanted, this.budget - this.handedOut));
    this.handedOut += n;
    return n;
  }

  make(rng: Rng, publisher: string, n: number): ChaosEvent {
    const event: ChaosEvent = {
      event_id: randomUUID(),
      event_type: rng.pick(EVENT_TYPES),
      source: `chaos-${publisher}`,
      priority: rng.pick(PRIORITIES),
      payload: { publisher, n },
    };
    this.attempted.set(event.event_id, event);
    return event;
  }

  ack(eventId: string, seq: number): void {
    if (!this.attempted.has(eventId)) this.problems.push(`ack for ${eventId}, which nobody sent`);
    const before = this.acked.get(eventId);
    if (before === undefined) this.acked.set(eventId, seq);
    // A retry of a stored event is answered with the stored event: the same seq.
    else if (before !== seq) this.problems.push(`${eventId} acknowledged with seq ${before}, then with ${seq}`);
    for (const waiter of [...this.waiters]) {
      if (this.acked.size < waiter.count) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.wake();
    }
  }

  /** Resolves once `count` distinct events are acknowledged (never, if the budget ends first: race it). */
  whenAcked(count: number): Promise<void> {
    if (this.acked.size >= count) return Promise.resolve();
    return new Promise((wake) => this.waiters.push({ count, wake }));
  }
}
