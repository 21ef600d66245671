import type { FastifyBaseLogger } from 'fastify';
import { Table, type LiveSubscription, type Surreal } from 'surrealdb';
import type { Event } from '../schemas/event.js';
import type { EventRepository } from '../store/event-repository.js';
import { fromRow } from '../store/event-rows.js';

/** One committed transaction as its commit_log row carries it. */
interface CommitRow {
  first: number;
  last: number;
  inserted: unknown[];
  docs: string[];
}

const REPAIR_CHUNK = 2000;
/**
 * How long the feed may stand still behind the counter before it reads the gap from the store. Notifications
 * are not lost in steady state, but they arrive late when the process is busy (commit → notification measured
 * up to ~400 ms on a loaded 2-core machine with 285 ms of event-loop lag) and out of order across
 * transactions; a shorter wait turned late notifications into store reads and warnings.
 */
export const REPAIR_AFTER_MS = 1000;

/**
 * The process's one LIVE query, on `commit_log`, turned into an ordered stream of committed events.
 *
 * Commit-log rows tile the seq space: each covers (previous last, last], because every transaction checks and
 * advances the shared counter. So the feed knows which range comes next; a row that arrives ahead of a gap is
 * held, and a gap that a later commit or the counter proves is committed is read from the event table
 * instead (a notification lost across a reconnect, or one that is late). Events reach `deliver` exactly once,
 * in seq order, whichever process wrote them.
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
    private readonly options: { repairAfterMs: number } = { repairAfterMs: REPAIR_AFTER_MS },
  ) {}

  async start(): Promise<void> {
    // Register first, then read the counter: a commit after this point arrives as a notification, one before
    // it is at or below the position and skipped when its notification comes.
    this.live = await this.db.live(new Table('commit_log'));
    this.live.subscribe((message) => {
      if (message.action === 'CREATE') this.accept(message.value as unknown as CommitRow);
    });
    this.position = await this.repo.seqUpperBound();
    this.startPosition = this.position;
    // Also repair from the counter, so a lost notification with no later commit is found too.
    this.repairTimer = setInterval(() => this.scheduleRepair(), Math.max(10, this.options.repairAfterMs / 4));
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
    const inserted = new Set(row.inserted.map(String));
    const events = row.docs.map((doc) => JSON.parse(doc) as Event).filter((e) => inserted.has(e.event_id));
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

  /** Reads committed seqs the LIVE query has not delivered, up to the counter, from the event table. */
  private async repair(): Promise<void> {
    if (this.stopped) return;
    const upper = await this.repo.seqUpperBound();
    if (upper <= this.position) {
      this.behind = null;
      return;
    }
    // A commit whose notification is merely in flight shows in the counter first. Repair only when the
    // feed has not moved at all for a while — not when it is briefly behind on one commit after another.
    if (this.behind === null || this.behind.position !== this.position) {
      this.behind = { position: this.position, since: Date.now() };
      return;
    }
    if (Date.now() - this.behind.since < this.options.repairAfterMs) return;
    while (!this.stopped && this.position < upper) {
      const to = Math.min(upper, this.position + REPAIR_CHUNK);
      const rows = (await this.repo.scanRange('seq', this.position, to)).sort((a, b) => a.seq - b.seq);
      if (this.position >= to) continue; // the LIVE query caught up meanwhile
      const from = this.position;
      const events = rows.map(fromRow).filter((e) => e.seq > from);
      this.stats.repairs += 1;
      this.stats.repairedEvents += events.length;
      this.log.warn({ from: from + 1, to, events: events.length }, 'live feed missed commits; read them from the store');
      this.position = to;
      if (events.length > 0) this.deliver(events);
      this.drainHeld();
    }
    this.behind = null;
  }
}
