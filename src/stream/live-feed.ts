import type { FastifyBaseLogger } from 'fastify';
import { Table, type LiveSubscription, type Surreal } from 'surrealdb';
import type { Event } from '../schemas/event.js';
import type { EventRepository } from '../store/event-repository.js';
import { SEGMENT_MAX_EVENTS, decodeDocs, type SegmentRow } from '../store/segment-rows.js';

type CommitRow = Pick<SegmentRow, 'first' | 'last' | 'docs'>;

/** Seqs of segment ends read per gap query: bounded, and at least one whole segment. */
const REPAIR_CHUNK = 2 * SEGMENT_MAX_EVENTS;
/**
 * How long the feed may stand still behind the counter before it reads the gap from the store. Notifications
 * are not lost in steady state, but they arrive late when the process is busy (commit → notification measured
 * up to ~400 ms on a loaded 2-core machine with 285 ms of event-loop lag) and out of order across
 * transactions; a shorter wait turned late notifications into store reads and warnings.
 */
export const REPAIR_AFTER_MS = 1000;

export interface LiveFeedOptions {
  /** How often the counter is read and what was committed past the position is considered for reading. */
  pollMs: number;
  /** False: no LIVE query (a SurrealDB cluster, where LIVE only sees writes made through its own node). */
  liveQuery: boolean;
  /** With the LIVE query, how long the feed stands still behind the counter before it reads the gap. */
  repairAfterMs: number;
}

/**
 * The process's one LIVE query, on `segment`, turned into an ordered stream of committed events.
 *
 * Segments tile the seq space: each covers (previous last, last], because every transaction checks and
 * advances the shared counter. So the feed knows which range comes next; a segment that arrives ahead of a gap
 * is held, and a gap that a later commit or the counter proves is committed is read from the store instead
 * (a notification lost across a reconnect, one that is late, or — with `liveQuery` off — every commit: the
 * feed then tails the store every `pollMs`). Events reach `deliver` exactly once, in seq order, whichever
 * process wrote them.
 */
export class LiveFeed {
  /** Every event with seq ≤ position has been delivered. */
  position = 0;
  private live: LiveSubscription | null = null;
  private readonly held = new Map<number, CommitRow>();
  private repairTimer: NodeJS.Timeout | null = null;
  private repairing: Promise<void> = Promise.resolve();
  /** Where the feed stood when the counter was first seen ahead of it, and since when. */
  private behind: { position: number; since: number } | null = null;
  private stopped = false;
  private startPosition = 0;
  /** For tests and metrics: gaps read from the store, notifications that came after their gap was read, failed repairs. */
  readonly stats = { repairs: 0, repairedEvents: 0, lateNotifications: 0, repairErrors: 0 };
  /** performance.now() of the last commit notification, or of the feed's creation before the first. */
  lastNotificationAt = performance.now();

  constructor(
    private readonly db: Surreal,
    private readonly repo: EventRepository,
    private readonly log: FastifyBaseLogger,
    private readonly deliver: (events: Event[]) => void,
    private readonly options: LiveFeedOptions = { pollMs: REPAIR_AFTER_MS / 4, liveQuery: true, repairAfterMs: REPAIR_AFTER_MS },
  ) {}

  async start(): Promise<void> {
    // Register first, then read the counter: a commit after this point arrives as a notification, one before
    // it is at or below the position and skipped when its notification comes.
    if (this.options.liveQuery) {
      this.live = await this.db.live(new Table('segment'));
      this.live.subscribe((message) => {
        if (message.action === 'CREATE') this.accept(message.value as unknown as CommitRow);
      });
    }
    this.position = await this.repo.seqUpperBound();
    this.startPosition = this.position;
    // Also tail from the counter, so a lost notification with no later commit is found too.
    this.repairTimer = setInterval(() => this.scheduleRepair(), this.options.pollMs);
    this.repairTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.repairTimer) clearInterval(this.repairTimer);
    await this.repairing;
    await this.live?.kill().catch((err: unknown) => this.log.warn({ err }, 'killing the LIVE query failed'));
  }

  private accept(row: CommitRow): void {
    if (this.stopped) return;
    this.lastNotificationAt = performance.now();
    if (row.last <= this.position) {
      // Already delivered: read from the store while this notification was late (commits before start aside).
      if (row.first > this.startPosition) this.stats.lateNotifications += 1;
      return;
    }
    if (row.first !== this.position + 1) {
      this.held.set(row.first, row);
      return;
    }
    this.emit(row);
    this.drainHeld();
  }

  private emit(row: CommitRow): void {
    this.position = row.last;
    const events = decodeDocs(row);
    if (events.length > 0) this.deliver(events);
  }

  private drainHeld(): void {
    for (let next = this.held.get(this.position + 1); next; next = this.held.get(this.position + 1)) {
      this.held.delete(next.first);
      this.emit(next);
    }
    for (const [first, row] of this.held) if (row.last <= this.position) this.held.delete(first);
  }

  private scheduleRepair(): void {
    this.repairing = this.repairing.then(() => this.repair()).catch((err: unknown) => {
      this.stats.repairErrors += 1;
      this.log.warn({ err }, 'live feed repair failed; retrying');
    });
  }

  /** Reads committed segments the LIVE query has not delivered, up to the counter, from the store. */
  private async repair(): Promise<void> {
    if (this.stopped) return;
    const upper = await this.repo.seqUpperBound();
    if (upper <= this.position) {
      this.behind = null;
      return;
    }
    if (!this.options.liveQuery) {
      await this.readGap(upper, false);
      return;
    }
    // A commit whose notification is merely in flight shows in the counter first. Repair only when the
    // feed has not moved at all for a while — not when it is briefly behind on one commit after another.
    if (this.behind === null || this.behind.position !== this.position) {
      this.behind = { position: this.position, since: Date.now() };
      return;
    }
    if (Date.now() - this.behind.since < this.options.repairAfterMs) return;
    await this.readGap(upper, true);
    this.behind = null;
  }

  /** Delivers the segments after the position up to `upper` (a committed seq), read from the store. */
  private async readGap(upper: number, missed: boolean): Promise<void> {
    while (!this.stopped && this.position < upper) {
      const rows = await this.repo.reads.endingIn(this.position, Math.min(upper, this.position + REPAIR_CHUNK));
      const from = this.position;
      const fresh = rows.filter((row) => row.last > this.position); // the LIVE query may have caught up meanwhile
      if (fresh.length === 0) {
        // Nothing ends in the chunk: retention deleted what the position trailed, or the LIVE query got there.
        if (this.position === from) this.position = Math.min(upper, from + REPAIR_CHUNK);
        continue;
      }
      const events = fresh.flatMap((row) => decodeDocs(row)).filter((e) => e.seq > from);
      if (missed) {
        this.stats.repairs += 1;
        this.stats.repairedEvents += events.length;
        this.log.warn({ from: from + 1, to: (fresh.at(-1) as SegmentRow).last, events: events.length }, 'live feed missed commits; read them from the store');
      }
      this.position = (fresh.at(-1) as SegmentRow).last;
      if (events.length > 0) this.deliver(events);
      this.drainHeld();
    }
  }
}
