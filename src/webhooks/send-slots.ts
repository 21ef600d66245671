/**
 * The one bound on webhook requests in flight in a process, shared by the log dispatcher (first attempts)
 * and the retry worker: HERALD_WEBHOOK_CONCURRENCY in total, HERALD_WEBHOOK_SUBSCRIPTION_CONCURRENCY per
 * subscription. Each side starts work when a slot frees, whichever side freed it.
 *
 * Publishing comes first (docs/webhooks.md, "Publishing comes first"): while `yieldToPublishing()` says
 * so, one request in flight is the limit, so deliveries keep moving but leave the event loop to publishes.
 */
export class SendSlots {
  private total = 0;
  private readonly bySub = new Map<string, number>();
  private listeners: Array<() => void> = [];

  constructor(readonly limit: number, readonly perSubscription: number, private readonly yieldToPublishing: () => boolean = () => false) {}

  /** Slots free in the process. */
  get free(): number {
    return (this.yieldToPublishing() ? 1 : this.limit) - this.total;
  }

  /** Requests to the subscription's endpoint in flight. */
  inFlight(subscriptionId: string): number {
    return this.bySub.get(subscriptionId) ?? 0;
  }

  /** Slots the subscription may take now. */
  freeFor(subscriptionId: string): number {
    if (this.yieldToPublishing()) return 1 - this.total;
    return Math.min(this.perSubscription - this.inFlight(subscriptionId), this.free);
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
    const [first, ...rest] = this.listeners;
    if (first) this.listeners = [...rest, first];
    for (const listener of [first, ...rest]) listener?.();
  }

  onRelease(listener: () => void): void {
    this.listeners.push(listener);
  }
}
