/**
 * The one bound on webhook requests in flight in a process, shared by the log dispatcher (first attempts)
 * and the retry worker: HERALD_WEBHOOK_CONCURRENCY in total, HERALD_WEBHOOK_SUBSCRIPTION_CONCURRENCY per
 * subscription. Each side starts work when a slot frees, whichever side freed it.
 *
 * Publishing comes first (docs/webhooks.md, "Publishing comes first"): while `yieldToPublishing()` says so,
 * deliveries trickle: at most YIELDING.total in flight, one per subscription, and YIELDING.startsPerTick
 * started per TICK_MS. On a local network even one request in flight at a time makes thousands of
 * deliveries a second, each with its share of outcome writes that compete with the commits, so the bound is
 * on starts. Every tick while yielding wakes the waiting sides for the next starts, and the first tick after
 * yielding ends hands them the full limits. Yielding lasts at most YIELDING.maxMs at a stretch, then
 * deliveries get YIELDING.reliefMs at the full limits: under publishing that never lets up, webhooks still
 * move at a share of their full rate rather than at the trickle alone.
 */
export const YIELDING = { total: 4, perSubscription: 1, startsPerTick: 1, maxMs: 5000, reliefMs: 250 } as const;
export const TICK_MS = 10;

export class SendSlots {
  private total = 0;
  private readonly bySub = new Map<string, number>();
  private listeners: Array<() => void> = [];
  private yieldingNow = false;
  /** Requests started since the last tick while yielding. */
  private tickStarts = 0;
  private tickTimer: NodeJS.Timeout | undefined;
  /** Since when deliveries have yielded without a break (monotonic ms), and until when they may not. */
  private yieldingSince: number | null = null;
  private reliefUntil = Number.NEGATIVE_INFINITY;

  constructor(
    readonly limit: number,
    readonly perSubscription: number,
    private readonly yieldToPublishing: () => boolean = () => false,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether to yield now: what `yieldToPublishing` says, within YIELDING.maxMs at a stretch. */
  private shouldYield(): boolean {
    const now = this.now();
    if (now < this.reliefUntil || !this.yieldToPublishing()) {
      this.yieldingSince = null;
      return false;
    }
    this.yieldingSince ??= now;
    if (now - this.yieldingSince < YIELDING.maxMs) return true;
    this.reliefUntil = now + YIELDING.reliefMs;
    this.yieldingSince = null;
    return false;
  }

  /** Whether deliveries yield to publishing now. */
  get yielding(): boolean {
    return this.limits().yielding;
  }

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

  /**
   * A tick, scheduled whenever the limits were read while yielding: the waiting sides may start the next
   * requests, or all they can once yielding ended. It always wakes them: a side refused while yielding may
   * have nothing else to wake it, even if another reading of the limits already saw the yielding end.
   */
  tick(): void {
    this.tickStarts = 0;
    this.yieldingNow = this.shouldYield();
    if (this.yieldingNow) this.tickSoon();
    this.notify();
  }

  private tickSoon(): void {
    this.tickTimer ??= setTimeout(() => {
      this.tickTimer = undefined;
      this.tick();
    }, TICK_MS).unref();
  }

  private limits(): { total: number; perSubscription: number; yielding: boolean } {
    this.yieldingNow = this.shouldYield();
    if (!this.yieldingNow) return { total: this.limit, perSubscription: this.perSubscription, yielding: false };
    this.tickSoon();
    // No more starts this tick: only what is in flight.
    const total = this.tickStarts >= YIELDING.startsPerTick ? this.total : Math.min(this.limit, YIELDING.total, this.total + YIELDING.startsPerTick - this.tickStarts);
    return { total, perSubscription: Math.min(this.perSubscription, YIELDING.perSubscription), yielding: true };
  }

  take(subscriptionId: string): void {
    if (this.yieldingNow) this.tickStarts++;
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
