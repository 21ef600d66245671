import type { FastifyBaseLogger } from 'fastify';
import type { Event } from '../schemas/event.js';
import { DuplicateKeyError, EventRepository, SeqMovedError, isWriteConflict } from '../store/event-repository.js';
import { serverEventId } from '../store/event-ids.js';
import { toSegmentRecords } from '../store/segment-records.js';
import { documentTexts } from '../store/segment-docs.js';
import { SEGMENT_MAX_EVENTS, SEGMENT_SPLIT_EVENTS } from '../store/segment-rows.js';
import { GroupWindow } from './group-window.js';
import type { PreparedEvent } from './prepare.js';

export interface PublishResult {
  event: Event;
  /** False when an event with this event_id was already stored (idempotent re-publish). */
  created: boolean;
  /** When created: the event's stored document, exactly `JSON.stringify(event)` (the response can reuse it). */
  json?: string;
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

/** Weight of the newest transaction in the running mean of requests per transaction (`crowded`). */
const UNITS_SMOOTHING = 0.2;
/** A gap between publishes this long resets that mean. */
const CROWD_RESET_MS = 100;

export class ShuttingDownError extends Error {}
export class StoreUnavailableError extends Error {}

/**
 * The event as stored, its keys in the Event schema's order (seq before the optional trace and CloudEvent
 * fields): a publish answer reuses the stored text, and should read like every other answer.
 */
function storedEvent(prepared: PreparedEvent, seq: number, eventId: string): Event {
  const { traceparent, tracestate, cloudevent, ...fields } = prepared;
  return {
    ...fields, event_id: eventId, seq,
    ...(traceparent !== undefined && { traceparent }),
    ...(tracestate !== undefined && { tracestate }),
    ...(cloudevent !== undefined && { cloudevent }),
  };
}

/** `items` in runs of at most `size`, in order. */
function chunks<T>(items: T[], size: number): T[][] {
  const runs: T[][] = [];
  for (let i = 0; i < items.length; i += size) runs.push(items.slice(i, i + size));
  return runs;
}

export interface CommitterOptions {
  /** Most events per transaction; clamped to SEGMENT_MAX_EVENTS, the seq span segment reads rely on. */
  maxEvents: number;
  windowMs: number;
  /** Longest wait the arrival rate may add before a transaction that is not full (group-window.ts). */
  adaptiveWindowMs?: number;
  /** Monotonic ms for the group window; wall time is read for ids and commit times. */
  now?: () => number;
  /** Attempts after losing the seq counter to another writer or a write conflict, before 503. */
  maxAttempts?: number;
}

/**
 * The one writer of events per process. Publishes that arrive while a transaction is in flight are
 * group-committed in the next one — a segment row per 128 events of it (docs/storage.md) — so throughput is
 * bounded by HTTP and the engine's per-statement cost rather than one database round trip per event.
 *
 * Each transaction checks and advances the shared seq counter (`herald_seq:event`) as its first statement, so
 * seqs are assigned in commit order across every writer on the database: a writer that lost the race sees the
 * counter moved, aborts, and retries with fresh seqs (and fresh server ids, which carry the seq). A reader that
 * has seen seq n has therefore seen every committed event below n — the property resume (`after=`) relies on.
 * One transaction is in flight at a time; overlapping them would give up that order.
 */
export class Committer {
  private queue: Unit[] = [];
  private running = false;
  private closed = false;
  private lastSeq: number | null = null;
  private unanswered = 0;
  private lastArrival = Number.NEGATIVE_INFINITY;
  private idleWaiters: Array<() => void> = [];
  /** Publish requests per transaction, a running mean over recent transactions. */
  private unitsPerCommit = 0;
  private readonly listeners = new Set<(events: Event[]) => void>();
  private readonly groupListeners = new Set<(group: GroupCommit) => void>();
  private readonly window: GroupWindow;
  private readonly maxEvents: number;
  private readonly now: () => number;
  /** Transactions committed and the events they held, for tests and benchmarks. */
  readonly stats = { commits: 0, events: 0 };

  constructor(
    private readonly repo: EventRepository,
    private readonly log: FastifyBaseLogger,
    private readonly options: CommitterOptions,
  ) {
    this.maxEvents = Math.min(options.maxEvents, SEGMENT_MAX_EVENTS);
    this.window = new GroupWindow({ fixedMs: options.windowMs, adaptiveMaxMs: options.adaptiveWindowMs ?? 0 });
    this.now = options.now ?? (() => performance.now());
  }

  /** Stores the events atomically (all or none) and resolves once they are durable. */
  publish(events: PreparedEvent[]): Promise<PublishResult[]> {
    if (this.closed) return Promise.reject(new ShuttingDownError('Herald is shutting down'));
    const now = this.now();
    // A pause ends the crowd: the mean of requests per transaction starts again.
    if (now - this.lastArrival > CROWD_RESET_MS) this.unitsPerCommit = 0;
    this.lastArrival = now;
    this.window.arrived(this.lastArrival);
    this.unanswered++;
    const answered = () => this.unanswered--;
    return new Promise<PublishResult[]>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    }).finally(answered);
  }

  /** Whether a publish is unanswered, or arrived within the last `ms` (a closed-loop publisher's next one is coming). */
  publishing(ms: number): boolean {
    return this.unanswered > 0 || this.now() - this.lastArrival < ms;
  }

  /**
   * Whether publishes crowd the committer: on average at least `units` requests joined each recent
   * transaction, and a publish is waiting or arrived within `recentMs`. Requests queue up behind a
   * transaction only when they arrive faster than transactions commit, so this is publishing at the
   * engine's pace, where anything else using the engine slows it. A batch request counts once.
   */
  crowded(units: number, recentMs: number): boolean {
    return this.unitsPerCommit >= units && this.publishing(recentMs);
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
        const wait = this.window.waitMs(this.now(), this.queuedEvents(), this.maxEvents);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const units = this.takeUnits();
        this.unitsPerCommit += UNITS_SMOOTHING * (units.length - this.unitsPerCommit);
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
    const clientIds = [...new Set(events.flatMap((e) => (e.event_id === null ? [] : [e.event_id])))];
    const byKey = new Map<string, Event>();
    let byServer = new Map<string, Event>();
    let byServerUpper: number | null = null;
    for (let attempt = 1; ; attempt++) {
      try {
        this.lastSeq ??= await this.repo.seqUpperBound();
        // A server id sent back has no key row, so the commit cannot refuse it: it is looked up here, against
        // the counter this attempt commits after. The cached counter may predate the id (another replica
        // stored it), so the lookup is redone whenever the counter is re-read after a lost race.
        if (byServerUpper !== this.lastSeq) {
          byServer = await this.repo.storedByServerId(clientIds, this.lastSeq);
          byServerUpper = this.lastSeq;
        }
        return await this.commitOnce(events, this.lastSeq, new Map([...byServer, ...byKey]));
      } catch (error) {
        if (error instanceof DuplicateKeyError) {
          // Another request or replica stored some of these ids: answer those with the stored events.
          for (const [id, event] of await this.repo.storedByKey(clientIds)) byKey.set(id, event);
        } else if (error instanceof SeqMovedError || isWriteConflict(error)) {
          this.lastSeq = null; // another writer committed: re-read the counter and take the seqs after it
        } else {
          throw error;
        }
        if (attempt >= attempts) throw new StoreUnavailableError(`gave up after ${attempts} lost commit races: ${String(error)}`);
        if (!(error instanceof DuplicateKeyError)) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 2)));
      }
    }
  }

  /** Stores the events whose id is not in `stored`; the first occurrence of a repeated id is the one stored. */
  private async commitOnce(all: PreparedEvent[], prevSeq: number, stored: ReadonlyMap<string, Event>): Promise<PublishResult[]> {
    const created = new Map<string, Event>();
    const fresh: Event[] = [];
    const atMs = Date.now();
    let seq = prevSeq;
    const results = all.map((prepared): PublishResult | string => {
      const id = prepared.event_id;
      if (id !== null) {
        const existing = stored.get(id) ?? created.get(id);
        if (existing) return { event: existing, created: false };
      }
      const event = storedEvent(prepared, ++seq, id ?? serverEventId(seq, atMs));
      if (id !== null) created.set(id, event);
      fresh.push(event);
      return event.event_id;
    });
    let texts: string[] = [];
    if (fresh.length > 0) {
      const clientIds = new Set(created.keys());
      const segments = chunks(fresh, SEGMENT_SPLIT_EVENTS).map((events) => toSegmentRecords(events, clientIds, atMs));
      await this.repo.commitSegments(prevSeq, segments);
      texts = segments.flatMap((r) => documentTexts(r.segment) ?? []);
      this.lastSeq = seq;
      this.stats.commits += 1;
      this.stats.events += fresh.length;
    }
    const byId = new Map(fresh.map((e, i) => [e.event_id, { event: e, created: true, json: texts[i] }]));
    return results.map((r) => (typeof r === 'string' ? byId.get(r) as PublishResult : r));
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
      if (units.length > 0 && size + next.events.length > this.maxEvents) break;
      units.push(this.queue.shift() as Unit);
      size += next.events.length;
    }
    return units;
  }
}
