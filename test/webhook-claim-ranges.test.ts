import { describe, expect, it } from 'vitest';
import { ClaimRanges } from '../src/webhooks/claim-ranges.js';
import { queueKey, type DeliveryRow } from '../src/store/delivery-rows.js';

const row = (rank: number, due: number | null) => ({ rank, next_attempt_at: due }) as unknown as DeliveryRow;

describe('where the retry worker\'s claims start in each priority range', () => {
  it('starts 2 s below the highest key claimed per rank, reads every range whole every 30 s and after forget()', () => {
    let now = 100_000;
    const ranges = new ClaimRanges(() => now);
    expect(ranges.starts()).toEqual([-2000, -2000, -2000, -2000]); // the first claim reads whole ranges
    ranges.claimed([row(2, 50_000), row(2, 40_000), row(0, 7_000), row(1, null)]);
    now += 1000;
    expect(ranges.starts()).toEqual([queueKey(0, 7_000) - 2000, -2000, queueKey(2, 50_000) - 2000, -2000]);
    ranges.forget();
    expect(ranges.starts()).toEqual([-2000, -2000, -2000, -2000]);
    ranges.claimed([row(3, 9_000)]);
    now += 30_000;
    expect(ranges.starts()).toEqual([-2000, -2000, -2000, -2000]);
  });
});
