import { randomUUID } from 'node:crypto';
import { attemptLogRows, type LogRecord } from '../store/attempt-log.js';
import type { CursorRepository } from '../store/cursor-repository.js';
import { cursorDeliveryId, type DeliveryRow } from '../store/delivery-rows.js';
import { isWriteConflict } from '../store/transaction-errors.js';
import { isExpired } from '../store/segment-rows.js';
import { attemptDelivery, attemptRecord, noAttemptReason } from './attempt.js';
import { moveToEnd } from '../lib/map-order.js';
import { LeaseKeeper } from './lease.js';
import { readWindowEvents } from './log-reader.js';
import { orderingLine } from './ordering.js';
import { resumeQueued, settleQueued } from './queued-lines.js';
import { queueRow } from './queue-row.js';
import { settle, type OutcomePolicy } from './outcome-policy.js';
import { WakeSignal, drainInFlight } from './wake-signal.js';
import { SettledListeners } from './settled-listeners.js';
import { SubscriptionWindow, halfDrained, readAhead, type WindowItem } from './window.js';
import { OutcomeBuffer, type Pending } from './outcome-buffer.js';
import { atRedoBound, redoRoom } from './redo-bound.js';
import type { WorkerDeps } from './engine-deps.js';

export interface DispatcherOptions {
  leaseMs: number;
  pollMs: number;
  outcome: OutcomePolicy;
}

/** The retry worker's, and the cursors. */
export interface DispatcherDeps extends WorkerDeps {
  cursors: CursorRepository;
  /** Whether a publish is waiting or just arrived: outcome writes then wait for company, to compete less with commits. */
  publishing?: () => boolean;
}

/** Attempts of an outcome batch that keeps losing write conflicts before its windows are dropped. */
const FLUSH_CONFLICT_ATTEMPTS = 10;
/**
 * First attempts of webhook deliveries, read from the event log by each subscription's cursor (docs/webhooks.md,
 * "Deliveries come from the log"). Per leased subscription it keeps a window of unsettled matching events, POSTs them with
 * bounded global and per-subscription concurrency in the order its ordering_key allows, and writes a batch of
 * outcomes as one transaction: cursor advances, attempt-log rows for the delivered, retry-queue rows for the rest.
 */
export class LogDispatcher {
  readonly leases: LeaseKeeper;
  private readonly windows = new Map<string, SubscriptionWindow>();
  private readonly outcomes: OutcomeBuffer;
  /** This dispatcher's requests in flight (the bound is deps.slots): what stop() waits for. */
  private inFlight = 0;
  /** Subscriptions the endpoint gate holds back, until when (epoch ms). */
  private readonly heldUntil = new Map<string, number>();
  readonly settled = new SettledListeners();
  private readonly abort = new AbortController();
  private stopping = false;
  private readonly signal = new WakeSignal();
  private loop: Promise<void> | null = null;
  readonly stats = { storeErrors: 0 };

  constructor(private readonly deps: DispatcherDeps, private readonly options: DispatcherOptions) {
    this.leases = new LeaseKeeper(`replica-${randomUUID()}`, deps.cursors, options.leaseMs);
    this.outcomes = new OutcomeBuffer((batch) => this.flush(batch), () => this.pump(), () => deps.slots.yielding);
    deps.slots.onRelease(() => this.pump());
  }

  start(): void {
    this.loop ??= this.run();
  }

  wake(): void {
    this.signal.wake();
  }

  /** Until when (epoch ms) the endpoint gate holds the subscription's next first attempt back; undefined when it does not. */
  heldBack(subId: string): number | undefined {
    return this.heldUntil.get(subId);
  }

  /** Stops starting attempts, lets the ones in flight finish for up to `graceMs` (then aborts them), writes every outcome, hands the leases back. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    await drainInFlight(this.signal, () => this.inFlight, this.abort, graceMs);
    this.outcomes.writeNow();
    await this.outcomes.drain();
    await this.leases.releaseAll().catch((err) => this.deps.log.warn({ err }, 'could not release subscription leases; they expire on their own'));
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let more = false;
      try {
        await this.maintain();
        more = await this.fill();
        await this.pollQueued();
        this.pump();
      } catch (err) {
        // A lease write that lost to this replica's own outcome write (or another replica's claim) is run
        // again at the next pass.
        if (isWriteConflict(err)) this.deps.log.debug({ err }, 'webhook lease write conflict; retrying');
        else {
          this.stats.storeErrors += 1;
          this.deps.log.error({ err }, 'webhook dispatcher pass failed');
        }
      }
      if (!more) await this.signal.sleep(this.options.pollMs);
    }
  }

  private async maintain(): Promise<void> {
    const busy = (id: string) => this.deps.slots.inFlight(id) > 0 || this.outcomes.unwrittenOf(id) > 0 || this.outcomes.has(id);
    const { gained, lost } = await this.leases.maintain(this.deps.clock.now(), performance.now(), this.deps.index.targetIds(), (id) => !busy(id));
    for (const id of lost) this.discard(id);
    for (const row of gained) {
      const id = String(row.id.id);
      this.windows.set(id, new SubscriptionWindow(row.seq, row.above ?? []));
    }
  }

  /** Reads the log ahead for windows with room; true when it read something (another pass may find more). */
  private async fill(): Promise<boolean> {
    const room = readAhead(this.deps.slots.yielding);
    // A subscription that cannot be sent to (disabled, deleted) reads nothing: its lease goes back once idle.
    const hungry = [...this.windows].filter(([id, w]) => w.pending < room && noAttemptReason(this.deps.index, id) === null);
    if (hungry.length === 0) return false;
    const upper = await this.deps.events.seqUpperBound();
    const behind = hungry.filter(([, w]) => w.readTo < upper);
    if (behind.length === 0) return false;
    const from = Math.min(...behind.map(([, w]) => w.readTo));
    const { events, readTo } = await readWindowEvents(this.deps.events.reads, from, upper);
    for (const [id, w] of behind) {
      if (w.readTo >= readTo) continue;
      const ordering = this.deps.index.get(id)?.subscription.ordering_key;
      const added = w.add(events.filter((e) => e.seq > w.readTo && this.deps.index.matches(id, e)), readTo, (e) => orderingLine(ordering, e));
      if (ordering !== null && ordering !== undefined && added.length > 0) await resumeQueued(this.deps.deliveries, id, w, added);
      if (added.length === 0) this.outcomes.touch(id);
    }
    return true;
  }

  /** Ordered lines waiting on the retry queue move on once it settled their event. */
  private async pollQueued(): Promise<void> {
    for (const [subId, w] of this.windows) if (await settleQueued(this.deps.deliveries, subId, w)) this.outcomes.touch(subId);
  }

  /**
   * Starts what each window allows, round-robin over subscriptions, as far as the concurrency limits and
   * the endpoint gate (circuit, Retry-After pause, throttle) let it. A held-back event keeps its place and
   * its attempts; the subscription is looked at again when the gate says.
   */
  private pump(): void {
    if (this.stopping) return;
    const now = this.deps.clock.now();
    const { slots } = this.deps;
    const served = new Set<string>();
    for (const [subId, w] of this.windows) {
      if (slots.free <= 0) break;
      if ((this.heldUntil.get(subId) ?? 0) > now) continue;
      if (!this.leases.holds(subId, now) || noAttemptReason(this.deps.index, subId) !== null) continue;
      const redo = redoRoom(slots.inFlight(subId), this.outcomes.unwrittenOf(subId), slots.perSubscription);
      for (let room = Math.min(slots.freeFor(subId), redo); room > 0; room--) {
        const [item] = w.start(1);
        if (!item) break;
        const admission = this.deps.gate.admit(subId, now);
        if (admission.send) {
          served.add(subId);
          void this.attempt(subId, w, item);
          continue;
        }
        w.unstart(item);
        if (admission.reason !== 'disabled' && Number.isFinite(admission.notBefore)) this.holdUntil(subId, admission.notBefore, now);
        break;
      }
    }
    // The next pump starts with the others: while deliveries yield, one start per tick would otherwise always go to the first.
    moveToEnd(this.windows, served);
  }

  private holdUntil(subId: string, notBefore: number, now: number): void {
    this.heldUntil.set(subId, notBefore);
    const timer = setTimeout(() => {
      if (this.heldUntil.get(subId) === notBefore) this.heldUntil.delete(subId);
      this.wake();
    }, Math.max(0, notBefore - now));
    timer.unref();
  }

  private async attempt(subId: string, w: SubscriptionWindow, item: WindowItem): Promise<void> {
    this.inFlight++;
    this.deps.slots.take(subId);
    try {
      const { event } = item;
      const startedAt = this.deps.clock.now();
      if (isExpired(event, startedAt)) {
        this.record(subId, w, item, queueRow(subId, event, startedAt, { status: 'expired', error: 'the event expired before it was delivered' }));
        return;
      }
      const run = await attemptDelivery(this.deps.index, this.deps.sender, subId, event, startedAt, this.abort.signal);
      const now = this.deps.clock.now();
      const expiresAt = event.expires_at === null ? null : Date.parse(event.expires_at);
      const settled = settle({ attempts: 0, maxRetries: event.max_retries, expiresAt }, run.result, this.options.outcome, now);
      this.deps.gate.record(subId, settled.health, now, settled.error);
      const attempt = attemptRecord(run, 1);
      const { next } = settled;
      if (next.status === 'delivered') {
        this.record(subId, w, item, { seq: event.seq, event_id: event.event_id, event_type: event.event_type, priority: event.priority, attempt }, attempt.duration_ms);
      } else {
        const outcome = next.status === 'retrying'
          ? { status: next.status, next: next.nextAttemptAt, error: settled.error, attempt }
          : { status: next.status, error: next.error, attempt };
        this.record(subId, w, item, queueRow(subId, event, now, outcome), attempt.duration_ms);
      }
    } finally {
      this.inFlight--;
      // Starts the next attempts, of this dispatcher or the retry worker.
      this.deps.slots.release(subId);
      if (this.stopping) this.signal.wake();
    }
  }

  /** Settles an item in its window and hands what the next flush writes for it to the outcome buffer. */
  private record(subId: string, w: SubscriptionWindow, item: WindowItem, outcome: LogRecord | DeliveryRow, durationMs?: number): void {
    // The window was dropped (lease lost, outcomes not written) while this attempt ran: a window read anew
    // from the durable cursor has the event again, and this outcome must not move that window's cursor.
    if (this.windows.get(subId) !== w) return;
    const isRow = 'status' in outcome;
    const status = isRow ? outcome.status : 'delivered';
    // An ordered line waits for its event's retries; an unordered event is settled once the retry queue has it.
    w.settle(item, item.line !== undefined && status === 'retrying' ? 'queued' : 'done');
    if (halfDrained(w.pending)) this.wake(); // reads ahead now rather than at the next poll or commit
    this.outcomes.add(subId, outcome, {
      deliveryId: cursorDeliveryId(subId, item.event.seq), subscriptionId: subId, eventId: item.event.event_id, status, attempts: isRow ? outcome.attempts : 1,
      ...(durationMs !== undefined && { durationMs }),
    });
    // This attempt's slot is released right after; if the subscription may then start nothing more, waiting
    // for company only idles it — unless publishes need the engine.
    const { slots, publishing } = this.deps;
    if (atRedoBound(slots.inFlight(subId) - 1, this.outcomes.unwrittenOf(subId), slots.perSubscription) && !publishing?.()) this.outcomes.hurry();
  }

  /** Forgets a subscription's window with the outcomes it had not written yet (they cannot be written here). */
  private discard(subId: string): void {
    this.windows.delete(subId);
    this.outcomes.discard(subId);
  }

  /** Discards windows whose outcomes could not be written; the next maintenance claims them again from their durable cursor. */
  private dropWindows(subIds: string[]): void {
    for (const id of subIds) this.discard(id);
    this.leases.forget(subIds);
  }

  /** Writes a batch of outcomes and cursor moves in one transaction. */
  private async flush(batch: Array<[string, Pending]>): Promise<void> {
    const now = this.deps.clock.now();
    const advances = batch.flatMap(([subId, p]) => {
      const w = this.windows.get(subId);
      if (!w) return [];
      return [{ subscriptionId: subId, ...w.advance(), logs: attemptLogRows(subId, p.logs, now), queue: p.queue }];
    });
    let written: Set<string>;
    for (let attempt = 1; ; attempt++) {
      try {
        written = await this.deps.cursors.advance(this.leases.replica, advances);
        break;
      } catch (err) {
        if (attempt >= (isWriteConflict(err) ? FLUSH_CONFLICT_ATTEMPTS : 3)) {
          // These events are still above the durable cursor: the windows are read again from it (the lease is
          // claimed again at the next maintenance), and the events sent again.
          this.stats.storeErrors += 1;
          this.deps.log.error({ err, subscriptions: advances.length }, 'could not record webhook outcomes; dropping the windows');
          this.dropWindows(advances.map((a) => a.subscriptionId));
          return;
        }
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
    const lost = batch.map(([subId]) => subId).filter((subId) => !written.has(subId) && this.windows.has(subId));
    // Taken over by another replica (this one's lease ran out): it delivers from the durable cursor.
    if (lost.length > 0) this.deps.log.warn({ subscriptions: lost }, 'webhook subscription leases were taken over; outcomes not recorded here');
    this.dropWindows(lost);
    for (const [subId, p] of batch) {
      if (!written.has(subId)) continue;
      for (const s of p.settled) this.settled.emit(s);
    }
  }
}
