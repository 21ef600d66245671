/**
 * The one bound on webhook requests in flight in a process, shared by the log dispatcher (first attempts)
 * and the retry worker: HERALD_WEBHOOK_CONCURRENCY in total, HERALD_WEBHOOK_SUBSCRIPTION_CONCURRENCY per
 * subscription. Each side starts work when a slot frees, whichever side freed it.
 *
 * Publishing comes first (docs/webhooks.md, "The delivery engine"): while `yieldToPublishing()` says so,
 * the limits shrink to YIELDING_LIMITS, so deliveries keep moving, one slow endpoint holds at most one of
 * the few slots, and the event loop is left to publishes. While yielding, `recheck()` runs every
 * RECHECK_MS and hands the full limits back to the waiting sides as soon as yielding ends.
 */
export const YIELDING_LIMITS = { total: 4, perSubscription: 1 } as const;
const RECHECK_MS = 10;

export class SendSlots {
  private total = 0;
  private readonly bySub = new Map<string, number>();
  private listeners: Array<() => void> = [];
  private yielding = false;
  private recheckTimer: NodeJS.Timeout | undefined;

  constructor(readonly limit: number, readonly perSubscription: number, private readonly yieldToPublishing: () => boolean = () => false) {}

  /** Slots free in the process. */
  get free(): number {
    return this.limits().total - this.total;
  }

  /** Requests to the subscription's endpoint in flight. */
  inFlight(subscriptionId: string): number {
    return this.bySub.get(subscriptionId) ?? 0;
  }

  /** Slots the subscription may take now. */
  freeFor(subscriptionId: string): number {
    const limits = this.limits();
    return Math.min(limits.perSubscription - this.inFlight(subscriptionId), limits.total - this.total);
  }

  /** When yielding to publishes has ended, the waiting sides start work now rather than at their next event. */
  recheck(): void {
    if (!this.yielding) return;
    if (this.yieldToPublishing()) this.recheckSoon();
    else {
      this.yielding = false;
      this.notify();
    }
  }

  private recheckSoon(): void {
    this.recheckTimer ??= setTimeout(() => {
      this.recheckTimer = undefined;
      this.recheck();
    }, RECHECK_MS).unref();
  }

  private limits(): { total: number; perSubscription: number } {
    this.yielding = this.yieldToPublishing();
    if (!this.yielding) return { total: this.limit, perSubscription: this.perSubscription };
    this.recheckSoon();
    return { total: Math.min(this.limit, YIELDING_LIMITS.total), perSubscription: Math.min(this.perSubscription, YIELDING_LIMITS.perSubscription) };
  }

  take(subscriptionId: string): void {
    this.total++;
    this.bySub.set(subscriptionId, this.inFlight(subscriptionId) + 1);
  }

  /** Frees a slot and lets the waiting sides start work, in turns so that neither starves the other. */
  release(subscriptionId: string): void {
    this.total--;
    const left = this.inFlight(subscriptionId) - 1;
    if (left <= 0) this.bySub.delete(subscriptionId);
    else this.bySub.set(subscriptionId, left);
    this.notify();
  }

  private notify(): void {
    const [first, ...rest] = this.listeners;
    if (first) this.listeners = [...rest, first];
    for (const listener of [first, ...rest]) listener?.();
  }

  onRelease(listener: () => void): void {
    this.listeners.push(listener);
  }
}
