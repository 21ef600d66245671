import type { Event } from '../schemas/event.js';

/**
 * waiting: not attempted yet; sending: its attempt is running; queued: its first attempt failed and the
 * retry queue has it, while later events of its line wait (ordered subscriptions only); done: settled.
 */
export type ItemState = 'waiting' | 'sending' | 'queued' | 'done';

export interface WindowItem {
  event: Event;
  /** Ordering line (ordering.ts); undefined = unordered. */
  line: string | undefined;
  state: ItemState;
}

/** Waiting items one scheduling pass looks at past the first one it cannot start. */
const LOOKAHEAD = 1024;

/**
 * Unsettled events a window holds before the dispatcher stops reading the log ahead for it: fewer while
 * deliveries yield to publishing, since a read competes with the commits too.
 */
export const readAhead = (yielding: boolean): number => (yielding ? 64 : 1024);

/** Whether a window that just went down to `pending` unsettled events should read ahead again now: half drained. */
export const halfDrained = (pending: number): boolean => pending === readAhead(false) / 2 || pending === readAhead(true) / 2;

/**
 * One subscription's in-memory window over the log: the matching events above its durable cursor that are
 * not settled yet. It decides which may be attempted now (ordering lines: an event waits until every earlier
 * event of its line is settled) and where the cursor may move (below the lowest unsettled event). Pure: the
 * dispatcher does the I/O.
 */
export class SubscriptionWindow {
  /** Highest seq read from the log into the window. */
  readTo: number;
  private items: WindowItem[] = [];
  private head = 0;
  private readonly doneAbove: Set<number>;
  /** Lines with an earlier event sending or queued: count of such events per line. */
  private readonly busy = new Map<string, number>();
  private unsettled = 0;

  constructor(public cursor: number, above: readonly number[]) {
    this.readTo = cursor;
    this.doneAbove = new Set(above);
  }

  /** Events not settled yet (waiting, sending or queued). */
  get pending(): number {
    return this.unsettled;
  }

  /** Adds the matching events read up to `readTo` (ascending); events settled before a takeover are skipped. */
  add(events: Event[], readTo: number, lineOf: (event: Event) => string | undefined): WindowItem[] {
    const added: WindowItem[] = [];
    for (const event of events) {
      if (event.seq <= this.readTo || this.doneAbove.has(event.seq)) continue;
      const item: WindowItem = { event, line: lineOf(event), state: 'waiting' };
      this.items.push(item);
      added.push(item);
      this.unsettled++;
    }
    this.readTo = Math.max(this.readTo, readTo);
    return added;
  }

  /** Marks up to `max` items sending, in seq order, skipping items whose line is held by an earlier one. */
  start(max: number): WindowItem[] {
    const started: WindowItem[] = [];
    const heldHere = new Set<string>();
    let skipped = 0;
    for (let i = this.head; i < this.items.length && started.length < max && skipped < LOOKAHEAD; i++) {
      const item = this.items[i] as WindowItem;
      if (item.state !== 'waiting') continue;
      if (item.line !== undefined && (this.busy.has(item.line) || heldHere.has(item.line))) {
        heldHere.add(item.line);
        skipped++;
        continue;
      }
      item.state = 'sending';
      if (item.line !== undefined) this.busy.set(item.line, (this.busy.get(item.line) ?? 0) + 1);
      started.push(item);
    }
    return started;
  }

  /** Puts an item just started back to waiting (the endpoint gate held it back): it keeps its place. */
  unstart(item: WindowItem): void {
    if (item.state !== 'sending') return;
    item.state = 'waiting';
    if (item.line === undefined) return;
    const left = (this.busy.get(item.line) ?? 1) - 1;
    if (left === 0) this.busy.delete(item.line);
    else this.busy.set(item.line, left);
  }

  /** A sending item was settled (done) or handed to the retry queue while its line waits (queued). */
  settle(item: WindowItem, state: 'done' | 'queued'): void {
    if (item.state === 'done') return;
    const wasHolding = item.state === 'sending' || item.state === 'queued';
    if (state === 'queued') {
      item.state = 'queued';
      if (!wasHolding && item.line !== undefined) this.busy.set(item.line, (this.busy.get(item.line) ?? 0) + 1);
      return;
    }
    if (wasHolding && item.line !== undefined) {
      const left = (this.busy.get(item.line) ?? 1) - 1;
      if (left === 0) this.busy.delete(item.line);
      else this.busy.set(item.line, left);
    }
    item.state = 'done';
    this.unsettled--;
  }

  /** Items in the retry queue whose line waits for them. */
  queued(): WindowItem[] {
    return this.items.slice(this.head).filter((i) => i.state === 'queued');
  }

  /**
   * Moves the cursor below the lowest unsettled event (to readTo when none is) and returns it with the seqs
   * settled above it: what the cursor row records.
   */
  advance(): { seq: number; above: number[] } {
    while (this.head < this.items.length && (this.items[this.head] as WindowItem).state === 'done') this.head++;
    const lowest = this.items[this.head];
    this.cursor = lowest ? lowest.event.seq - 1 : this.readTo;
    if (this.head > 1024 || this.head === this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    const above: number[] = [];
    for (const seq of this.doneAbove) if (seq <= this.cursor) this.doneAbove.delete(seq);
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as WindowItem;
      if (item.state === 'done') above.push(item.event.seq);
    }
    return { seq: this.cursor, above: [...new Set([...this.doneAbove, ...above])].sort((a, b) => a - b) };
  }
}
