import type { ServerResponse } from 'node:http';
import type { Event, EventFormat } from '../schemas/event.js';
import type { EventStreamError } from '../schemas/stream.js';
import { drained, newestIfAhead, oldestIfExpired, ReplayedSeqs, storedAfter } from './catch-up.js';
import type { StreamContext } from './context.js';
import { compileSelection, type Selection } from '../events/selection.js';
import { eventFrame, type EventSink, type Routable } from './router.js';
import type { SlowConsumerReason } from './stats.js';
import { errorMessage, eventMessage, HEARTBEAT, retryMessage } from './sse-format.js';

export interface EventStreamOptions {
  heartbeatMs: number;
  /** What the stream tells the browser to wait before reconnecting. */
  retryMs: number;
}

/**
 * One Server-Sent Events client of `GET /events`: a single subscription from the query, replayed from its
 * cursor and then live, with no gap and no duplicate (the WebSocket's hand-off, ./catch-up.ts). It is its
 * own router subscription and sink. It writes to the raw response: the stream bounds a slow reader by the
 * bytes it has not yet taken, rather than waiting for each write to drain.
 */
export class EventStreamSession implements Routable, EventSink {
  readonly eventTypes: readonly string[];
  readonly matches: (event: Event) => boolean;
  readonly connection = this;
  private closed = false;
  /** Every matching event above this seq is delivered (by replay, then live). */
  private coveredFrom = 0;
  /** Live events held while the replay runs; null when none does. */
  private held: Event[] | null = null;
  private readonly replayed = new ReplayedSeqs();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    private readonly ctx: StreamContext,
    private readonly selection: Selection,
    private readonly format: EventFormat,
    options: EventStreamOptions,
    private readonly onClosed: () => void,
  ) {
    this.eventTypes = selection.types;
    this.matches = compileSelection(selection);
    res.on('close', () => this.dispose());
    res.on('error', (err) => ctx.log.debug({ err }, 'event stream error'));
    res.write(retryMessage(options.retryMs));
    this.heartbeat = setInterval(() => this.write(HEARTBEAT), options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Streams the events after `after` (live from now without one). */
  async start(after: number | undefined): Promise<void> {
    const newest = after === undefined ? undefined : await newestIfAhead(this.ctx, after);
    if (newest !== undefined) {
      // As on the WebSocket: say so, and stream from now rather than stay silent.
      this.write(errorMessage({ code: 'cursor_ahead', message: `cursor ${after} is ahead of the newest seq ${newest}; streaming from now`, details: { newest_seq: newest } }));
      after = undefined;
    }
    if (this.closed) return;
    const start = this.ctx.position();
    this.coveredFrom = after ?? start;
    // Live events from before the replay reads the store are held, so none overtakes the replay.
    if (after !== undefined) this.held = [];
    this.ctx.router.add(this);
    if (after === undefined) return;
    try {
      await this.replay(after, start);
    } catch (err) {
      this.ctx.log.error({ err }, 'event stream replay failed');
      this.closeSlow('replay_failed', 'replay failed; reconnect and resume');
    }
  }

  offer(event: Event, _matched: Routable[], frame: (format: EventFormat) => string): void {
    if (this.closed) return;
    if (this.held) {
      this.held.push(event);
      if (this.held.length > this.ctx.limits.maxQueuedEvents) this.closeSlow('replay_queue', 'slow consumer: too many events queued during replay');
      return;
    }
    if (this.replayed.size > 0 && this.replayed.skip(event.seq)) return;
    if (event.seq > this.coveredFrom) this.send(event.seq, frame(this.format));
  }

  /** Ends the response; the browser reconnects with `Last-Event-ID` and resumes. */
  close(): void {
    if (this.closed) return;
    this.res.end();
    this.dispose();
  }

  private async replay(after: number, start: number): Promise<void> {
    const oldest = await oldestIfExpired(this.ctx, after);
    if (oldest !== undefined) {
      // The id moves the browser's Last-Event-ID past the purged events: reconnecting resumes from the oldest
      // retained one, as the WebSocket does, unless the client closes its EventSource to resynchronize.
      this.fail({ code: 'cursor_expired', message: `events after ${after} are no longer retained; reconnect to resume from ${oldest}`, oldest_seq: oldest }, oldest - 1);
      return;
    }
    for await (const event of storedAfter(this.ctx, this.selection, after)) {
      if (this.closed) return;
      if (!(await drained(() => this.res.writableLength, () => this.closed, this.ctx.limits))) {
        this.closeSlow('replay_stalled', 'slow consumer: replay stalled');
        return;
      }
      if (!this.matches(event)) continue;
      if (event.seq > start) this.replayed.add(event.seq);
      this.send(event.seq, eventFrame(event, this.format));
    }
    const held = this.held ?? [];
    this.held = null;
    for (const event of held) {
      if (this.closed) return;
      if (!this.replayed.skip(event.seq) && event.seq > this.coveredFrom) this.send(event.seq, eventFrame(event, this.format));
    }
  }

  private send(seq: number, json: string): void {
    this.write(eventMessage(seq, json));
    if (this.res.writableLength > this.ctx.limits.maxBufferBytes) {
      this.closeSlow('send_buffer', `slow consumer: more than ${this.ctx.limits.maxBufferBytes} bytes unsent`);
    }
  }

  private write(text: string): void {
    if (!this.closed && this.res.writable) this.res.write(text);
  }

  /** Slow consumers may reconnect and resume: nothing they missed is lost, unlike a cursor_expired. */
  private closeSlow(reason: SlowConsumerReason, message: string): void {
    if (this.closed) return;
    this.ctx.stats.eventStreamSlowCloses[reason] += 1;
    this.fail({ code: 'slow_consumer', message, details: { reason } });
  }

  private fail(error: EventStreamError, id?: number): void {
    this.write(errorMessage(error, id));
    this.close();
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.ctx.router.remove(this);
    this.held = null;
    this.onClosed();
  }
}
