import type { FastifyBaseLogger } from 'fastify';
import type { Event } from '../schemas/event.js';
import { EventRepository, isWriteConflict } from '../store/event-repository.js';
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

/** A group of units with seqs assigned, on its way to the database. */
interface Group {
  units: Unit[];
  first: number;
  last: number;
  /** Set once the transaction finished: answers the group's publishers. */
  settle?: () => void;
}

export class ShuttingDownError extends Error {}
export class StoreUnavailableError extends Error {}

export interface CommitterOptions {
  maxEvents: number;
  windowMs: number;
  /** Transactions in flight at once; RocksDB shares one WAL sync between overlapping commits. */
  maxInFlight: number;
  /** Seqs leased from the shared counter at a time. */
  seqBlock: number;
  /** Attempts after a write conflict before giving up with 503. */
  maxAttempts?: number;
}

/**
 * The one writer of events per process. Publishes that arrive while transactions are in flight are
 * group-committed in the next one, so throughput is bounded by HTTP rather than one database round trip per
 * event, and up to `maxInFlight` transactions overlap so their disk syncs are shared.
 *
 * Seqs come from blocks leased from a counter row, so two processes on one database never share a seq.
 * Overlapping transactions can commit out of seq order, so publishers are answered (and listeners told) in
 * seq order: a group that commits early waits for the groups before it. `watermark` is the highest seq this
 * process has answered for; every seq at or below it is committed or will never exist, so a reader capped
 * there never skips an event that commits later, and a publisher always finds its event below it.
 */
export class Committer {
  private queue: Unit[] = [];
  private readonly inFlight: Group[] = [];
  private closed = false;
  private draining = false;
  private nextSeq = 0;
  private blockEnd = 0;
  private answered = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly listeners = new Set<(events: Event[]) => void>();

  constructor(
    private readonly repo: EventRepository,
    private readonly log: FastifyBaseLogger,
    private readonly options: CommitterOptions,
  ) {}

  /** Every seq ≤ watermark that this process assigned is committed (or failed and will never appear). */
  get watermark(): number {
    return this.answered;
  }

  /**
   * True for a seq of a transaction this process has not answered for yet: it may already be visible in the
   * database while an earlier seq is still uncommitted, so readers must not show it (they could skip the
   * earlier one) — and its publisher has not been told it is stored.
   */
  isUnanswered(seq: number): boolean {
    return seq > this.answered && this.inFlight.some((g) => seq >= g.first && seq <= g.last);
  }

  /**
   * The lowest seq of a transaction still unanswered (Infinity when none): a forward reader (`after=`, resume)
   * stops below it, so its cursor never passes a seq that is about to appear.
   */
  get forwardReadLimit(): number {
    return this.inFlight.length > 0 ? (this.inFlight[0] as Group).first : Number.POSITIVE_INFINITY;
  }

  /** Stores the events atomically (all or none) and resolves once they are durable. */
  publish(events: PreparedEvent[]): Promise<PublishResult[]> {
    if (this.closed) return Promise.reject(new ShuttingDownError('Herald is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.kick();
    });
  }

  /** Called with each publish's newly stored events, in seq order, before the publisher is answered. */
  onCommit(listener: (events: Event[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Refuses new work and waits for what is queued or in flight to finish. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length === 0 && this.inFlight.length === 0 && !this.draining) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private kick(): void {
    if (this.draining || this.inFlight.length >= this.options.maxInFlight) return;
    this.draining = true;
    setImmediate(() => void this.fill());
  }

  /** Starts transactions until the queue is empty or maxInFlight are running. */
  private async fill(): Promise<void> {
    try {
      while (this.queue.length > 0 && this.inFlight.length < this.options.maxInFlight) {
        if (this.options.windowMs > 0 && this.queuedEvents() < this.options.maxEvents) {
          await new Promise((r) => setTimeout(r, this.options.windowMs));
        }
        const units = this.takeUnits();
        const size = units.reduce((n, u) => n + u.events.length, 0);
        let first: number;
        try {
          first = await this.assignSeqs(size);
        } catch (error) {
          for (const unit of units) unit.reject(new StoreUnavailableError(`cannot lease seqs: ${String(error)}`));
          continue;
        }
        const group: Group = { units, first, last: first + size - 1 };
        this.inFlight.push(group);
        void this.run(group);
      }
    } finally {
      this.draining = false;
      this.settleIfIdle();
    }
  }

  private async assignSeqs(size: number): Promise<number> {
    if (this.nextSeq + size - 1 > this.blockEnd || this.nextSeq === 0) {
      const lease = Math.max(this.options.seqBlock, size);
      const first = await this.retryConflicts(() => this.repo.leaseSeqBlock(lease));
      this.nextSeq = first;
      this.blockEnd = first + lease - 1;
    }
    const first = this.nextSeq;
    this.nextSeq += size;
    return first;
  }

  private async run(group: Group): Promise<void> {
    const started = performance.now();
    let seq = group.first;
    const prepared = group.units.map((unit) => unit.events.map((e): Event => ({ ...e, seq: seq++ })));
    const settlers = await this.commitUnits(group.units, prepared);
    group.settle = () => {
      for (const settle of settlers) settle();
    };
    this.log.debug({ events: group.last - group.first + 1, ms: performance.now() - started }, 'group committed');
    this.release();
    this.kick();
    this.settleIfIdle();
  }

  /** Answers finished groups from the oldest on, stopping at the first still in flight. */
  private release(): void {
    while (this.inFlight.length > 0 && (this.inFlight[0] as Group).settle) {
      const group = this.inFlight.shift() as Group;
      this.answered = group.last;
      (group.settle as () => void)();
    }
  }

  /**
   * Commits the units together — when that fails for a reason other than a conflict, each on its own — and
   * returns how to answer each unit.
   */
  private async commitUnits(units: Unit[], events: Event[][]): Promise<Array<() => void>> {
    try {
      const results = await this.commitWithRetry(events.flat());
      let offset = 0;
      return units.map((unit, i) => {
        const mine = results.slice(offset, offset + (events[i] as Event[]).length);
        offset += mine.length;
        return () => {
          const created = mine.filter((r) => r.created).map((r) => r.event);
          if (created.length > 0) for (const listener of this.listeners) listener(created);
          unit.resolve(mine);
        };
      });
    } catch (error) {
      if (units.length > 1 && !(error instanceof StoreUnavailableError)) {
        // Keep one bad unit from failing its neighbours.
        this.log.warn({ err: error }, 'group commit failed; committing its units one by one');
        const settlers: Array<() => void> = [];
        for (let i = 0; i < units.length; i++) settlers.push(...(await this.commitUnits([units[i] as Unit], [events[i] as Event[]])));
        return settlers;
      }
      return units.map((unit) => () => unit.reject(error));
    }
  }

  private commitWithRetry(events: Event[]): Promise<PublishResult[]> {
    return this.retryConflicts(() => this.commitOnce(events));
  }

  /** Runs `work` again after a write conflict (another writer touched the same key), with a little jitter. */
  private async retryConflicts<T>(work: () => Promise<T>): Promise<T> {
    const attempts = this.options.maxAttempts ?? 50;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!isWriteConflict(error)) throw error;
        if (attempt >= attempts) throw new StoreUnavailableError(`gave up after ${attempts} write conflicts: ${String(error)}`);
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 2)));
      }
    }
  }

  private async commitOnce(all: Event[]): Promise<PublishResult[]> {
    // The first occurrence of an event_id is the one stored; later ones in the group answer as duplicates.
    const firstIndex = new Map<string, number>();
    all.forEach((e, i) => {
      if (!firstIndex.has(e.event_id)) firstIndex.set(e.event_id, i);
    });
    const candidates = [...firstIndex.values()].map((i) => all[i] as Event);
    const inserted = await this.repo.insertBatch(toRecords(candidates, new Date()));

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

  private settleIfIdle(): void {
    if (this.queue.length > 0 || this.inFlight.length > 0 || this.draining) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
