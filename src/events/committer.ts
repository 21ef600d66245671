import type { FastifyBaseLogger } from 'fastify';
import type { Event } from '../schemas/event.js';
import { EventRepository, SeqMovedError, isWriteConflict } from '../store/event-repository.js';
import { fromRow, toRecords } from '../store/event-rows.js';
import type { DeliveryRow } from '../store/delivery-rows.js';
import type { PreparedEvent } from './prepare.js';

export interface PublishResult {
  event: Event;
  /** False when an event with this event_id was already stored (idempotent re-publish). */
  created: boolean;
}

interface Unit {
  events: PreparedEvent[];
  resolve: (results: PublishResult[]) => void;
  reject: (error: unknown) => void;
}

/** One transaction's outcome, for observers (metrics): how many events it held and how long it took. */
export interface GroupCommit {
  events: number;
  ms: number;
  /** Set when the transaction failed; its publishers were answered with the error. */
  error?: unknown;
}

export class ShuttingDownError extends Error {}
export class StoreUnavailableError extends Error {}

export interface CommitterOptions {
  maxEvents: number;
  windowMs: number;
  /** Attempts after losing the seq counter to another writer or a write conflict, before 503. */
  maxAttempts?: number;
  /** The webhook deliveries of events about to be stored; they commit in the events' transaction. */
  plan?: (events: Event[]) => DeliveryRow[];
}

/**
 * The one writer of events per process. Publishes that arrive while a transaction is in flight are
 * group-committed in the next one, so throughput is bounded by HTTP and the engine's per-row cost rather
 * than one database round trip per event.
 *
 * Each transaction checks and advances the shared seq counter (`herald_seq:event`) before inserting, so seqs
 * are assigned in commit order across every writer on the database: a writer that lost the race sees the
 * counter moved, aborts, and retries with fresh seqs. A reader that has seen seq n has therefore seen every
 * committed event below n — the property resume (`after=`) relies on. One transaction is in flight at a
 * time; overlapping them measured only ~11% more throughput over HTTP and would give up that order.
 */
export class Committer {
  private queue: Unit[] = [];
  private running = false;
  private closed = false;
  private lastSeq: number | null = null;
  private idleWaiters: Array<() => void> = [];
  private readonly listeners = new Set<(events: Event[]) => void>();
  private readonly groupListeners = new Set<(group: GroupCommit) => void>();

  constructor(
    private readonly repo: EventRepository,
    private readonly log: FastifyBaseLogger,
    private readonly options: CommitterOptions,
  ) {}

  /** Stores the events atomically (all or none) and resolves once they are durable. */
  publish(events: PreparedEvent[]): Promise<PublishResult[]> {
    if (this.closed) return Promise.reject(new ShuttingDownError('Herald is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Called with each publish's newly stored events, in seq order, before the publisher is answered. */
  onCommit(listener: (events: Event[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after every transaction, committed or failed. */
  onGroupCommit(listener: (group: GroupCommit) => void): () => void {
    this.groupListeners.add(listener);
    return () => this.groupListeners.delete(listener);
  }

  /** Refuses new work and waits for what is queued to commit. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.running) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        if (this.options.windowMs > 0 && this.queuedEvents() < this.options.maxEvents) {
          await new Promise((r) => setTimeout(r, this.options.windowMs));
        }
        const units = this.takeUnits();
        const started = performance.now();
        await this.commitUnits(units);
        this.log.debug({ events: units.reduce((n, u) => n + u.events.length, 0), ms: performance.now() - started }, 'group committed');
      }
    } finally {
      this.running = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Commits the units together; when that fails for a reason other than a race, each on its own. */
  private async commitUnits(units: Unit[]): Promise<void> {
    const events = units.flatMap((u) => u.events);
    const started = performance.now();
    try {
      const results = await this.commitWithRetry(events);
      for (const listener of this.groupListeners) listener({ events: events.length, ms: performance.now() - started });
      let offset = 0;
      for (const unit of units) {
        const mine = results.slice(offset, offset + unit.events.length);
        offset += mine.length;
        const created = mine.filter((r) => r.created).map((r) => r.event);
        if (created.length > 0) for (const listener of this.listeners) listener(created);
        unit.resolve(mine);
      }
    } catch (error) {
      for (const listener of this.groupListeners) listener({ events: events.length, ms: performance.now() - started, error });
      if (units.length > 1 && !(error instanceof StoreUnavailableError)) {
        // Keep one bad unit from failing its neighbours.
        this.log.warn({ err: error }, 'group commit failed; committing its units one by one');
        for (const unit of units) await this.commitUnits([unit]);
        return;
      }
      for (const unit of units) unit.reject(error);
    }
  }

  private async commitWithRetry(events: PreparedEvent[]): Promise<PublishResult[]> {
    const attempts = this.options.maxAttempts ?? 50;
    for (let attempt = 1; ; attempt++) {
      try {
        this.lastSeq ??= await this.repo.seqUpperBound();
        return await this.commitOnce(events, this.lastSeq);
      } catch (error) {
        if (!(error instanceof SeqMovedError) && !isWriteConflict(error)) throw error;
        this.lastSeq = null; // another writer committed: re-read the counter and take the seqs after it
        if (attempt >= attempts) throw new StoreUnavailableError(`gave up after ${attempts} lost commit races: ${String(error)}`);
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 2)));
      }
    }
  }

  private async commitOnce(all: PreparedEvent[], prevSeq: number): Promise<PublishResult[]> {
    // The first occurrence of an event_id is the one stored; later ones in the group answer as duplicates.
    const firstIndex = new Map<string, number>();
    all.forEach((e, i) => {
      if (!firstIndex.has(e.event_id)) firstIndex.set(e.event_id, i);
    });
    let seq = prevSeq;
    const candidates = [...firstIndex.values()].map((i): Event => ({ ...(all[i] as PreparedEvent), seq: ++seq }));
    const deliveries = this.options.plan?.(candidates) ?? [];
    const inserted = await this.repo.insertBatch(prevSeq, seq, toRecords(candidates, new Date()), deliveries);
    this.lastSeq = seq;

    const stored = new Map<string, PublishResult>();
    const missing: string[] = [];
    for (const event of candidates) {
      if (inserted.has(event.event_id)) stored.set(event.event_id, { event, created: true });
      else missing.push(event.event_id);
    }
    for (const row of await this.repo.getByIds(missing)) {
      const event = fromRow(row);
      stored.set(event.event_id, { event, created: false });
    }
    return all.map((e, i) => {
      const result = stored.get(e.event_id);
      if (!result) throw new Error(`event ${e.event_id} neither inserted nor found`);
      return firstIndex.get(e.event_id) === i ? result : { event: result.event, created: false };
    });
  }

  private queuedEvents(): number {
    let n = 0;
    for (const unit of this.queue) n += unit.events.length;
    return n;
  }

  private takeUnits(): Unit[] {
    const units: Unit[] = [];
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as Unit;
      if (units.length > 0 && size + next.events.length > this.options.maxEvents) break;
      units.push(this.queue.shift() as Unit);
      size += next.events.length;
    }
    return units;
  }
}
