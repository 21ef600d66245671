/**
 * A token bucket for a subscription's `rate_limit` (deliveries per second). It holds at most one second's
 * worth of tokens (at least one), so an idle endpoint gets a burst of `rate` and then `rate` per second.
 */
export class TokenBucket {
  private tokens: number;
  private readonly capacity: number;

  constructor(readonly rate: number, private at: number) {
    this.capacity = Math.max(1, rate);
    this.tokens = this.capacity;
  }

  /** Takes a token at `now`: 0 when one was free, else how many ms until one will be (nothing is taken). */
  take(now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + (Math.max(0, now - this.at) * this.rate) / 1000);
    this.at = Math.max(this.at, now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}
