export interface GroupWindowOptions {
  /** A fixed wait before every transaction that is not full (`HERALD_COMMIT_WINDOW`). */
  fixedMs: number;
  /** The longest wait the arrival rate may add (`HERALD_COMMIT_ADAPTIVE_WINDOW`; 0 turns it off). */
  adaptiveMaxMs: number;
}

/** Weight of the newest inter-arrival gap in the running mean. */
const SMOOTHING = 0.2;

/**
 * How long the committer waits for more publishes before it starts a transaction that is not full. Each
 * transaction costs the engine ~0.5 ms per statement whatever it holds, so at a steady stream of single-event
 * publishes it pays to wait for the next one — but only when the recent arrival rate says it is about to come:
 * the wait is the mean gap between recent arrivals, when that gap is within `adaptiveMaxMs` and the last
 * arrival is that recent too. At low load (gaps longer than the bound, or a pause) the wait is zero, so a lone
 * publish commits at once. A pure policy: the caller passes the time.
 */
export class GroupWindow {
  private meanGap: number | null = null;
  private lastArrival: number | null = null;

  constructor(private readonly options: GroupWindowOptions) {}

  /** Records a publish arriving at `now` (ms, any monotonic origin). */
  arrived(now: number): void {
    if (this.lastArrival !== null) {
      const gap = Math.max(0, now - this.lastArrival);
      this.meanGap = this.meanGap === null ? gap : this.meanGap + SMOOTHING * (gap - this.meanGap);
    }
    this.lastArrival = now;
  }

  /** Ms to wait at `now` before committing `queued` events when a transaction holds at most `max`. */
  waitMs(now: number, queued: number, max: number): number {
    if (queued >= max) return 0;
    const { fixedMs, adaptiveMaxMs } = this.options;
    if (adaptiveMaxMs <= 0 || this.meanGap === null || this.lastArrival === null) return fixedMs;
    const steady = this.meanGap <= adaptiveMaxMs && now - this.lastArrival <= adaptiveMaxMs;
    return steady ? Math.max(fixedMs, this.meanGap) : fixedMs;
  }
}
