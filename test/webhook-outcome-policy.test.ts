import { describe, expect, it } from 'vitest';
import { EXPIRED_ERROR, GONE_ERROR, settle, type DeliveryProgress, type OutcomePolicy } from '../src/webhooks/outcome-policy.js';

const policy: OutcomePolicy = { retry: { scheduleMs: [5_000, 300_000], jitter: 0.2, maxRetryAfterMs: 3_600_000 }, maxPauseMs: 600_000 };
const now = Date.UTC(2026, 10, 29, 12);
const fresh: DeliveryProgress = { attempts: 0, maxRetries: null, expiresAt: null };
const mid = () => 0.5;
const answer = (status: number | null, retryAfter?: string) => ({ status, error: status === null ? 'ECONNREFUSED: refused' : `HTTP ${status}`, retryAfter });

describe('outcome policy', () => {
  it('delivers on any 2xx and reports success', () => {
    for (const status of [200, 204, 299]) {
      expect(settle(fresh, { status, error: null, retryAfter: undefined }, policy, now)).toEqual({ attempts: 1, next: { status: 'delivered' }, error: null, health: { kind: 'success' } });
    }
  });

  it('retries 3xx, 4xx, 5xx and no answer on the schedule, and reports a failure', () => {
    for (const status of [301, 400, 404, 429, 500, 503, null]) {
      const s = settle(fresh, answer(status), policy, now, mid);
      expect(s).toEqual({ attempts: 1, next: { status: 'retrying', nextAttemptAt: now + 5_000 }, error: answer(status).error, health: { kind: 'failure' } });
    }
  });

  it('fails for good after the schedule or max_retries', () => {
    expect(settle({ ...fresh, attempts: 2 }, answer(500), policy, now).next).toEqual({ status: 'failed', error: 'HTTP 500' });
    expect(settle({ ...fresh, maxRetries: 0 }, answer(500), policy, now).next).toEqual({ status: 'failed', error: 'HTTP 500' });
    expect(settle({ ...fresh, attempts: 1, maxRetries: 1 }, answer(null), policy, now).next.status).toBe('failed');
  });

  it('fails on 410 Gone without retrying and reports gone', () => {
    expect(settle(fresh, answer(410), policy, now)).toEqual({ attempts: 1, next: { status: 'failed', error: GONE_ERROR }, error: GONE_ERROR, health: { kind: 'gone' } });
  });

  it('honours Retry-After on 429/503 in both forms, for the delivery and as an endpoint pause', () => {
    const seconds = settle(fresh, answer(429, '120'), policy, now);
    expect(seconds.next).toEqual({ status: 'retrying', nextAttemptAt: now + 120_000 });
    expect(seconds.health).toEqual({ kind: 'failure', pauseUntil: now + 120_000 });
    const date = settle(fresh, answer(503, new Date(now + 90_000).toUTCString()), policy, now);
    expect(date.next).toEqual({ status: 'retrying', nextAttemptAt: now + 90_000 });
    expect(date.health).toEqual({ kind: 'failure', pauseUntil: now + 90_000 });
  });

  it('cuts Retry-After to its limits and ignores it elsewhere or when unusable', () => {
    const long = settle(fresh, answer(503, '86400'), policy, now);
    expect(long.next).toEqual({ status: 'retrying', nextAttemptAt: now + 3_600_000 });
    expect(long.health).toEqual({ kind: 'failure', pauseUntil: now + 600_000 });
    expect(settle(fresh, answer(500, '120'), policy, now, mid).health).toEqual({ kind: 'failure' });
    expect(settle(fresh, answer(429, 'soon'), policy, now, mid)).toMatchObject({ next: { nextAttemptAt: now + 5_000 }, health: { kind: 'failure' } });
  });

  it('expires a delivery whose next attempt would come after its event expires', () => {
    const s = settle({ ...fresh, expiresAt: now + 4_000 }, answer(500), policy, now, mid);
    expect(s).toMatchObject({ attempts: 1, next: { status: 'expired', error: EXPIRED_ERROR }, error: 'HTTP 500', health: { kind: 'failure' } });
    expect(settle({ ...fresh, expiresAt: now + 6_000 }, answer(500), policy, now, mid).next.status).toBe('retrying');
  });
});
