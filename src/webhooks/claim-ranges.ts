import { RANKS, queueKey, type DeliveryRow } from '../store/delivery-rows.js';

/**
 * A claim starts this far below the highest key this worker already claimed: a delivery is queued with the
 * time its transaction was planned, which can be a little older than rows already claimed by the time it
 * commits (and other replicas' clocks may be behind). Every FULL_SCAN_MS a claim reads each range whole.
 */
const CLAIM_SLACK_MS = 2000;
const FULL_SCAN_MS = 30_000;

/**
 * Where a retry worker's claims start in each priority's range of the queue index. RocksDB keeps deleted
 * index entries until compaction, so a range read from the start of a drained queue walks every delivery
 * claimed before; a claim starts just below what this worker claimed (the repository clamps it to the rank).
 */
export class ClaimRanges {
  /** Per priority rank, the highest queue_key this worker has claimed. */
  private readonly claimedUpTo: Array<number | undefined> = [];
  private lastFullScan = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Where each rank's claim range starts now. */
  starts(): number[] {
    const now = this.now();
    if (now - this.lastFullScan >= FULL_SCAN_MS) {
      this.lastFullScan = now;
      this.forget();
    }
    return RANKS.map((rank) => (this.claimedUpTo[rank] ?? 0) - CLAIM_SLACK_MS);
  }

  /** Records what a claim got. */
  claimed(rows: DeliveryRow[]): void {
    for (const row of rows) {
      if (row.next_attempt_at === null) continue;
      const key = queueKey(row.rank, row.next_attempt_at);
      if (key > (this.claimedUpTo[row.rank] ?? 0)) this.claimedUpTo[row.rank] = key;
    }
  }

  /** Rows went back below the claimed keys (reaped or released leases): the next claim reads the ranges whole. */
  forget(): void {
    this.claimedUpTo.length = 0;
  }
}
