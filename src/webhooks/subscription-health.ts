import type { FastifyBaseLogger } from 'fastify';
import type { SubscriptionRepository } from '../store/subscription-repository.js';
import type { SubscriptionIndex } from './subscription-index.js';

/** last_activity is written at most this often per subscription. */
const ACTIVITY_WRITE_MS = 60_000;

/**
 * What attempts say about a subscription: `last_activity` (the last delivery attempt, which the inactivity
 * rule reads), the run of failures that disables it after `disableAfterMs`, and 410 Gone. Shared by the log
 * dispatcher and the retry worker; written only when something changes (last_activity at most once a minute).
 */
export class SubscriptionHealth {
  private readonly lastActivityWrite = new Map<string, number>();

  constructor(
    private readonly index: SubscriptionIndex,
    private readonly subscriptions: SubscriptionRepository,
    private readonly log: FastifyBaseLogger,
    private readonly disableAfterMs: number,
  ) {}

  /** Records one attempt's outcome in the background; a failed write is logged, never thrown. */
  record(subId: string, ok: boolean, gone: boolean, now: number): void {
    void this.update(subId, ok, gone, now).catch((err) => this.log.warn({ err, subscription: subId }, 'could not update subscription health'));
  }

  private async update(subId: string, ok: boolean, gone: boolean, now: number): Promise<void> {
    const entry = this.index.get(subId);
    if (!entry) return;
    const sub = entry.subscription;
    const nowIso = new Date(now).toISOString();
    const changes: Record<string, unknown> = {};
    if (now - (this.lastActivityWrite.get(subId) ?? 0) >= ACTIVITY_WRITE_MS) {
      this.lastActivityWrite.set(subId, now);
      changes.last_activity = nowIso;
    }
    if (ok && sub.failing_since !== null) changes.failing_since = null;
    if (!ok && sub.failing_since === null) changes.failing_since = nowIso;
    const failingFor = !ok && sub.failing_since !== null ? now - Date.parse(sub.failing_since) : 0;
    if (sub.is_active && (gone || (this.disableAfterMs > 0 && failingFor >= this.disableAfterMs))) {
      changes.is_active = false;
      changes.disabled_reason = gone
        ? `the receiver answered 410 Gone at ${nowIso}`
        : `deliveries failed continuously since ${sub.failing_since} (HERALD_WEBHOOK_DISABLE_AFTER)`;
      this.log.warn({ subscription: subId, reason: changes.disabled_reason }, 'webhook subscription disabled');
    }
    if (Object.keys(changes).length === 0) return;
    // Applied to the in-memory copy at once so concurrent outcomes do not write the same change again.
    Object.assign(sub, changes);
    await this.subscriptions.update(subId, { ...changes, updated_at: nowIso });
    if (changes.is_active === false) await this.index.reload();
  }
}
