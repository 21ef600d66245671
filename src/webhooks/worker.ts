import { randomUUID } from 'node:crypto';
import type { RecordId } from 'surrealdb';
import type { Event } from '../schemas/event.js';
import type { Settlement } from '../store/delivery-repository.js';
import { queueKey, type DeliveryRow } from '../store/delivery-rows.js';
import { attemptDelivery, attemptRecord, noAttemptReason, type AttemptRun } from './attempt.js';
import { settle } from './outcome-policy.js';
import { WakeSignal, drainInFlight } from './wake-signal.js';
import { SettledListeners } from './settled-listeners.js';
import { moveToEnd } from '../lib/map-order.js';
import { ClaimRanges } from './claim-ranges.js';
import { retryConflicts } from './conflict-retry.js';
import type { WorkerDeps, WorkerOptions } from './engine-deps.js';
import { SettlementBuffer } from './settlement-buffer.js';

export { writeConflicts } from './conflict-retry.js';
export type { SettledDelivery } from './engine-deps.js';

interface Job {
  row: DeliveryRow;
  event: Event;
}

/** A claimed delivery a subscription has this many of waiting locally is handed back, due a little later. */
const LOCAL_QUEUE_FACTOR = 4;
const DEFER_MS = 1000;
/** Most expired leases put back per reaper pass. */
const REAP_BATCH = 1000;

/**
 * The webhook delivery loop of one process. It leases due deliveries from the database (so replicas never
 * attempt the same delivery concurrently and a crashed worker's leases expire back into the queue), POSTs
 * them with bounded global and per-subscription concurrency, and writes each outcome and attempt back in
 * batches. Leases it holds are renewed while queued or in flight.
 */
export class DeliveryWorker {
  readonly id = `worker-${randomUUID()}`;
  /** This worker's requests in flight (the bound is deps.slots): what stop() waits for. */
  private inFlight = 0;
  private readonly waiting = new Map<string, Job[]>();
  private waitingCount = 0;
  private readonly held = new Map<string, RecordId<'delivery'>>();
  readonly settled = new SettledListeners();
  private readonly abort = new AbortController();
  private stopping = false;
  private readonly signal = new WakeSignal();
  private loop: Promise<void> | null = null;
  private lastMaintenance = 0;
  private readonly ranges = new ClaimRanges();
  private readonly outcomes: SettlementBuffer;
  /** Failed worker passes and outcome writes, read by the metrics plugin. */
  readonly stats = { storeErrors: 0 };

  constructor(private readonly deps: WorkerDeps, private readonly options: WorkerOptions) {
    deps.slots.onRelease(() => this.pump());
    this.outcomes = new SettlementBuffer({
      write: (settlements) => this.retryConflicts('settle', () => deps.deliveries.settle(this.id, settlements)),
      written: (info) => {
        this.held.delete(info.deliveryId);
        this.settled.emit(info);
      },
      failed: (err, count) => {
        this.stats.storeErrors += 1;
        deps.log.error({ err, count }, 'could not record webhook outcomes; retrying');
      },
      stopping: () => this.stopping,
      aborted: () => this.abort.signal.aborted,
    });
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Something may be due now (a manual retry, a replay, a free slot). */
  wake(): void {
    this.signal.wake();
  }

  /**
   * Stops claiming, hands leases of deliveries not yet started back to the queue, lets the ones in flight
   * finish for up to `graceMs` (then aborts them, which records a failed attempt), and writes every outcome.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    const notStarted = [...this.waiting.values()].flat().map((j) => j.row.id);
    this.waiting.clear();
    this.waitingCount = 0;
    try {
      this.ranges.forget();
      await this.deps.deliveries.release(this.id, notStarted);
      for (const id of notStarted) this.held.delete(String(id.id));
    } catch (err) {
      this.deps.log.warn({ err }, 'could not release leases; they expire on their own');
    }
    await drainInFlight(this.signal, () => this.inFlight, this.abort, graceMs);
    await this.outcomes.drain();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let full = false;
      try {
        await this.maintain();
        // Claims a quarter of the bound even while the log dispatcher fills every slot: jobs waiting here get
        // every other slot that frees (SendSlots), so retries are not starved by first attempts.
        const { slots } = this.deps;
        const free = Math.max(slots.free, Math.ceil(slots.limit / 4)) - this.waitingCount;
        // With work queued locally, claim in batches rather than one row per finished request.
        if (free > 0 && (this.waitingCount === 0 || free >= Math.ceil(slots.limit / 4))) {
          const claimed = await this.claim(free);
          full = claimed.length === free;
          if (claimed.length > 0) await this.accept(claimed);
        }
      } catch (err) {
        this.stats.storeErrors += 1;
        this.deps.log.error({ err }, 'webhook worker pass failed');
      }
      if (!full) await this.signal.sleep(this.options.pollMs);
    }
  }

  /** Renews the leases this worker holds, then returns expired leases (of any worker) to the queue. */
  private async maintain(): Promise<void> {
    const now = performance.now();
    if (now - this.lastMaintenance < Math.min(this.options.leaseMs / 3, 5000)) return;
    this.lastMaintenance = now;
    const clockNow = this.deps.clock.now();
    await this.retryConflicts('renew', () => this.deps.deliveries.renew(this.id, [...this.held.values()], clockNow + this.options.leaseMs));
    const reaped = await this.retryConflicts('reap', () => this.deps.deliveries.reapExpiredLeases(clockNow, REAP_BATCH));
    if (reaped > 0) {
      // They went back with their old due times, below what this worker has claimed: read the ranges whole.
      this.ranges.forget();
      this.deps.log.warn({ reaped }, 'expired webhook leases returned to the queue');
    }
  }

  private async claim(n: number): Promise<DeliveryRow[]> {
    const rows = await this.retryConflicts('claim', () => {
      const now = this.deps.clock.now();
      return this.deps.deliveries.claim(this.id, now, n, now + this.options.leaseMs, this.ranges.starts());
    });
    this.ranges.claimed(rows);
    return rows;
  }

  private retryConflicts<T>(operation: string, write: () => Promise<T>): Promise<T> {
    return retryConflicts(this.deps.log, operation, write);
  }

  private async accept(rows: DeliveryRow[]): Promise<void> {
    for (const row of rows) this.held.set(String(row.id.id), row.id);
    const eventIds = new Set(rows.map((r) => r.event_id));
    let events: Map<string, Event>;
    try {
      // A delivery row names its event's seq: the segment holding it is found by a bounded range.
      const bySeq = await this.deps.events.eventsAt(rows.map((r) => r.seq));
      events = new Map([...bySeq.values()].filter((e) => eventIds.has(e.event_id)).map((e) => [e.event_id, e]));
    } catch (err) {
      // Hand the leases back rather than renewing leases of deliveries this worker will never attempt.
      this.ranges.forget();
      await this.deps.deliveries.release(this.id, rows.map((r) => r.id)).catch(() => undefined);
      for (const row of rows) this.held.delete(String(row.id.id));
      throw err;
    }
    const now = this.deps.clock.now();
    const deferred: RecordId<'delivery'>[] = [];
    for (const row of rows) {
      const event = events.get(row.event_id);
      const reason = !event ? 'the event is no longer stored (retention or cleanup)' : noAttemptReason(this.deps.index, row.subscription_id);
      // Expiry first: the cleanup loop deletes expired events, and their deliveries are expired, not failed.
      if (row.expires_at !== null && row.expires_at <= now) {
        this.settleWithout(row, 'expired', 'the event expired before it was delivered', now);
      } else if (reason !== null || !event) {
        this.settleWithout(row, 'failed', reason ?? 'unknown', now);
      } else {
        const queue = this.waiting.get(row.subscription_id) ?? [];
        if (queue.length >= this.deps.slots.perSubscription * LOCAL_QUEUE_FACTOR) {
          deferred.push(row.id);
          continue;
        }
        queue.push({ row, event });
        this.waiting.set(row.subscription_id, queue);
        this.waitingCount++;
      }
    }
    if (deferred.length > 0) {
      // One busy subscription must not fill this worker's queue and hold up the others.
      await this.deps.deliveries.release(this.id, deferred, now + DEFER_MS);
      for (const id of deferred) this.held.delete(String(id.id));
    }
    this.pump();
  }

  /** Starts waiting jobs while there are free global and per-subscription slots, round-robin by subscription. */
  private pump(): void {
    const { slots } = this.deps;
    let started = true;
    while (started && slots.free > 0) {
      started = false;
      const served: string[] = [];
      for (const [subId, queue] of this.waiting) {
        if (slots.free <= 0) break;
        if (slots.freeFor(subId) <= 0) continue;
        const job = queue.shift() as Job;
        if (queue.length === 0) this.waiting.delete(subId);
        else served.push(subId);
        this.waitingCount--;
        started = true;
        void this.attempt(job);
      }
      // Served ones go last, so one start per tick while deliveries yield does not always go to the same one.
      moveToEnd(this.waiting, served);
    }
  }

  private async attempt(job: Job): Promise<void> {
    const subId = job.row.subscription_id;
    this.inFlight++;
    this.deps.slots.take(subId);
    try {
      const now = this.deps.clock.now();
      const admission = this.deps.gate.admit(subId, now);
      if (!admission.send) {
        await this.hold(job, admission.reason, admission.notBefore, now);
        return;
      }
      this.record(job, await attemptDelivery(this.deps.index, this.deps.sender, subId, job.event, now, this.abort.signal));
    } finally {
      this.inFlight--;
      // Starts the next attempts, of this worker or the log dispatcher.
      this.deps.slots.release(subId);
      this.wake();
    }
  }

  /** Turns one HTTP outcome into the delivery's next state (outcome-policy.ts), and tells the gate. */
  private record(job: Job, run: AttemptRun): void {
    const { row } = job;
    const { result } = run;
    const now = this.deps.clock.now();
    const { attempts, next, error, health } = settle({ attempts: row.attempts, maxRetries: row.max_retries, expiresAt: row.expires_at }, result, this.options.outcome, now);
    const due = next.status === 'retrying' ? next.nextAttemptAt : null;
    const attempt = attemptRecord(run, attempts);
    this.enqueueSettlement(row, {
      id: row.id, status: next.status, attempts, next_attempt_at: due,
      ...(due !== null && { queue_key: queueKey(row.rank, due) }),
      last_attempt_at: attempt.at, last_status_code: result.status, last_error: next.status === 'expired' || next.status === 'failed' ? next.error : error,
      updated_at: new Date(now).toISOString(), settled_at: now,
      attempt,
    });
    this.deps.gate.record(row.subscription_id, health, now, error);
  }

  /**
   * A delivery the gate holds back (open circuit, paused endpoint, throttle) goes back in the queue due at
   * `notBefore` without using up an attempt; one for a subscription the gate disabled fails like any other.
   */
  private async hold(job: Job, reason: string, notBefore: number, now: number): Promise<void> {
    const sub = this.deps.index.get(job.row.subscription_id)?.subscription;
    if (reason === 'disabled' || !Number.isFinite(notBefore)) {
      this.settleWithout(job.row, 'failed', `the subscription is disabled${sub?.disabled_reason ? `: ${sub.disabled_reason}` : ''}`, now);
      return;
    }
    try {
      await this.retryConflicts('hold', () => this.deps.deliveries.release(this.id, [job.row.id], notBefore));
    } catch (err) {
      this.deps.log.warn({ err, delivery: String(job.row.id.id) }, 'could not put a held-back delivery back in the queue; its lease runs out instead');
    } finally {
      this.held.delete(String(job.row.id.id));
    }
  }

  /** Settles a delivery that gets no attempt: its event expired or it has nowhere to go. */
  private settleWithout(row: DeliveryRow, status: 'expired' | 'failed', error: string, now: number): void {
    this.enqueueSettlement(row, {
      id: row.id, status, attempts: row.attempts, next_attempt_at: null, last_attempt_at: row.last_attempt_at,
      last_status_code: row.last_status_code, last_error: error, updated_at: new Date(now).toISOString(), settled_at: now,
    });
  }

  private enqueueSettlement(row: DeliveryRow, settlement: Settlement): void {
    this.outcomes.add(settlement, {
      deliveryId: String(row.id.id), subscriptionId: row.subscription_id, eventId: row.event_id, status: settlement.status, attempts: settlement.attempts,
      ...(settlement.attempt && { durationMs: settlement.attempt.duration_ms }),
    });
  }
}
