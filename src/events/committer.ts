import type { FastifyBaseLogger } from 'fastify';
import type { Event } from '../schemas/event.js';
import { EventRepository, SeqMovedError, isWriteConflict } from '../store/event-repository.js';
import { fromRow, toRecords } from '../store/event-rows.js';
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

export class ShuttingDownError extends Error {}
export class StoreUnavailableError extends Error {}

export interface CommitterOptions {
  maxEvents: number;
  windowMs: number;
  /** Retries after a lost race for the seq counter or a write conflict, before giving up with 503. */
  maxAttempts?: number;
}

/**
 * The one writer of events per process. Publishes that arrive while a transaction is in flight are
 * group-committed in the next one, so throughput is bounded by HTTP rather than one database round trip per
 * event. Seqs are assigned here, in commit order, against a counter row the transaction checks and advances.
 */
export class Committer {
  private queue: Unit[] = [];
  private running = false;
  private closed = false;
  private lastSeq: number | null = null;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  private readonly listeners = new Set<(events: Event[]) => void>();

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
      if (!this.running) this.start();
    });
  }

  /** Called with each committed group's new events, in seq order. */
  onCommit(listener: (events: Event[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Refuses new work and waits for what is queued to commit. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle;
  }

  private start(): void {
    this.running = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        if (this.options.windowMs > 0 && this.queuedEvents() < this.options.maxEvents) {
          await new Promise((r) => setTimeout(r, this.options.windowMs));
        }
        const group = this.takeGroup();
        const t0 = performance.now();
        await this.commitGroup(group);
        this.log.debug({ events: group.reduce((n, u) => n + u.events.length, 0), ms: performance.now() - t0 }, 'group committed');
      }
    } finally {
      this.running = false;
      this.markIdle();
    }
  }

  private queuedEvents(): number {
    let n = 0;
    for (const unit of this.queue) n += unit.events.length;
    return n;
  }

  private takeGroup(): Unit[] {
    const group: Unit[] = [];
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as Unit;
      if (group.length > 0 && size + next.events.length > this.options.maxEvents) break;
      group.push(this.queue.shift() as Unit);
      size += next.events.length;
    }
    return group;
  }

  private async commitGroup(group: Unit[]): Promise<void> {
    try {
      const results = await this.commitWithRetry(group);
      let offset = 0;
      for (const unit of group) {
        unit.resolve(results.slice(offset, offset + unit.events.length));
        offset += unit.events.length;
      }
    } catch (error) {
      if (group.length > 1 && !(error instanceof StoreUnavailableError)) {
        // Keep one bad unit from failing its neighbours: retry each on its own.
        this.log.warn({ err: error }, 'group commit failed; committing its units one by one');
        for (const unit of group) await this.commitGroup([unit]);
        return;
      }
      for (const unit of group) unit.reject(error);
    }
  }

  private async commitWithRetry(group: Unit[]): Promise<PublishResult[]> {
    const attempts = this.options.maxAttempts ?? 50;
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.lastSeq === null) this.lastSeq = await this.repo.currentSeq();
        return await this.commitOnce(group, this.lastSeq);
      } catch (error) {
        const raced = error instanceof SeqMovedError || isWriteConflict(error);
        if (!raced) throw error;
        this.lastSeq = null;
        if (attempt >= attempts) throw new StoreUnavailableError(`could not commit after ${attempts} attempts: ${String(error)}`);
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 2)));
      }
    }
  }

  private async commitOnce(group: Unit[], prevSeq: number): Promise<PublishResult[]> {
    const all = group.flatMap((u) => u.events);
    // The first occurrence of an event_id in the group is the one stored; later ones answer as duplicates.
    const firstIndex = new Map<string, number>();
    all.forEach((e, i) => { if (!firstIndex.has(e.event_id)) firstIndex.set(e.event_id, i); });
    const receivedAt = new Date();
    let seq = prevSeq;
    const candidates: Event[] = [];
    for (const index of firstIndex.values()) {
      candidates.push({ ...(all[index] as PreparedEvent), seq: ++seq });
    }
    const inserted = await this.repo.insertBatch(prevSeq, seq, toRecords(candidates, receivedAt));
    this.lastSeq = seq;

    const stored = new Map<string, PublishResult>();
    const missing: string[] = [];
    for (const event of candidates) {
      if (inserted.has(event.event_id)) stored.set(event.event_id, { event, created: true });
      else missing.push(event.event_id);
    }
    if (missing.length > 0) {
      for (const row of await this.repo.getByIds(missing)) {
        const event = fromRow(row);
        stored.set(event.event_id, { event, created: false });
      }
    }
    const created = candidates.filter((e) => inserted.has(e.event_id));
    if (created.length > 0) for (const listener of this.listeners) listener(created);
    return all.map((e, i) => {
      const result = stored.get(e.event_id);
      if (!result) throw new Error(`event ${e.event_id} neither inserted nor found`);
      return firstIndex.get(e.event_id) === i ? result : { event: result.event, created: false };
    });
  }
}
