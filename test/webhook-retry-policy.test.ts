import { describe, expect, it } from 'vitest';
import { nextAttemptDelay, parseRetryAfter, type RetryPolicy } from '../src/webhooks/retry-policy.js';
import { loadConfig } from '../src/config.js';

const policy: RetryPolicy = { scheduleMs: loadConfig({}).webhooks.retryScheduleMs, jitter: 0.2, maxRetryAfterMs: 3_600_000 };
const now = Date.UTC(2026, 10, 29, 12);

describe('retry policy', () => {
  it('follows the default schedule 5s, 5m, 30m, 2h, 5h, 10h, 10h, then gives up', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((n) => nextAttemptDelay(policy, n, null, undefined, now, () => 0.5));
    expect(delays).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(nextAttemptDelay(policy, 8, null, undefined, now, () => 0.5)).toBeNull();
  });

  it('keeps jitter within ±20%', () => {
    expect(nextAttemptDelay(policy, 1, null, undefined, now, () => 0)).toBe(4_000);
    expect(nextAttemptDelay(policy, 1, null, undefined, now, () => 0.999999)).toBe(6_000);
    for (let i = 0; i < 1000; i++) {
      const d = nextAttemptDelay(policy, 2, null, undefined, now) as number;
      expect(d).toBeGreaterThanOrEqual(240_000);
      expect(d).toBeLessThanOrEqual(360_000);
    }
  });

  it("caps retries at the event's max_retries", () => {
    expect(nextAttemptDelay(policy, 2, 2, undefined, now)).not.toBeNull();
    expect(nextAttemptDelay(policy, 3, 2, undefined, now)).toBeNull();
    expect(nextAttemptDelay(policy, 1, 0, undefined, now)).toBeNull();
  });

  it('honours Retry-After in seconds or as a date, bounded', () => {
    expect(nextAttemptDelay(policy, 1, null, '120', now)).toBe(120_000);
    expect(nextAttemptDelay(policy, 1, null, new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(nextAttemptDelay(policy, 1, null, '999999', now)).toBe(3_600_000);
    expect(nextAttemptDelay(policy, 1, null, 'soon', now, () => 0.5)).toBe(5_000);
    expect(parseRetryAfter(new Date(now - 5000).toUTCString(), now)).toBe(0);
  });
});
