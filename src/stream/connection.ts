import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Scope } from '../config.js';
import type { Event, EventFormat } from '../schemas/event.js';
import { CloseCode, type ClientMessage, type ControlFrame, type SubscribeMessage } from '../schemas/stream.js';
import { prepareEvent } from '../events/prepare.js';
import { subscriptionSelection, type Selection } from '../events/selection.js';
import { drained, newestIfAhead, oldestIfExpired, ReplayedSeqs, storedAfter } from './catch-up.js';
import { BadMessageWindow, readClientMessage, readSubscribeFilter, type Rejection } from './client-messages.js';
import type { StreamContext } from './context.js';
import { Inbox } from './inbox.js';
import { Liveness } from './liveness.js';
import type { SlowConsumerReason } from './stats.js';
import { eventFrame, type EventSink, type Routable } from './router.js';
import { Subscription } from './subscription.js';
import { CORK_MAX_BYTES, TickCork } from './tick-cork.js';

/**
 * One WebSocket client: its subscriptions, the message protocol, replay-then-live resume, backpressure and
 * liveness. Each event reaches the socket at most once however many of its subscriptions match it, and
 * every subscription sees its events in seq order.
 */
export class Connection implements EventSink {
  private readonly subs = new Map<string, Subscription>();
  private nextOrder = 0;
  private closed = false;
  /** Live events held while replays run; null when none does. */
  private queue: Event[] | null = null;
  /** The router position when the hold began: every held event is above it. */
  private queueStart = 0;
  private readonly replaySent = new ReplayedSeqs();
  private pendingReplays = 0;
  private replays: Promise<void> = Promise.resolve();
  private readonly inbox: Inbox;
  private readonly badMessages: BadMessageWindow;
  private readonly liveness: Liveness;
  private readonly cork: TickCork | undefined;
  /** Every subscription of a socket has this format, so an event matching several is still one frame. */
  private format: EventFormat = 'seed';

  constructor(
    private readonly socket: WebSocket,
    private readonly ctx: StreamContext,
    private readonly scopes: ReadonlySet<Scope>,
    /** Counts one publish message against the client's publish rate limit: 0, or the seconds to wait. */
    private readonly publishWait: () => Promise<number> = async () => 0,
    /** The TCP socket under the WebSocket, when known: frames sent in one tick leave it in one write. */
    transport?: Pick<Duplex, 'cork' | 'uncork'>,
  ) {
    // An injected WebSocket (tests) has no real socket under it.
    this.cork = typeof transport?.cork === 'function' ? new TickCork(transport, () => this.checkBacklog()) : undefined;
    this.inbox = new Inbox(socket, { maxMessages: ctx.limits.maxInboxMessages, maxBytes: ctx.limits.maxInboxBytes }, (err) =>
      ctx.log.error({ err }, 'websocket message handling failed'),
    );
    this.badMessages = new BadMessageWindow(ctx.limits);
    socket.on('message', (data, isBinary) => {
      // Any frame shows the peer is alive; a client with a long send backlog has its pong queued behind it.
      this.liveness.alive();
      this.inbox.push((data as Buffer).length, () => this.onMessage(data as Buffer, isBinary));
    });
    socket.on('close', () => this.dispose());
    socket.on('error', (err) => ctx.log.debug({ err }, 'websocket error'));
    socket.on('pong', () => this.liveness.alive());
    this.liveness = new Liveness(socket, ctx.limits, ctx.log, () => this.dispose());
  }

  /** The `?types=…&after=…` subscription of the upgrade request. */
  subscribeFromQuery(selection: Selection, after: number | undefined, format: EventFormat): void {
    // Through the inbox, so it is in place before the client's first message is handled.
    this.inbox.push(0, async () => {
      this.format = format;
      await this.subscribe(selection, after, undefined);
    });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.socket.close(code, reason);
    this.dispose();
  }

  private closeSlow(reason: SlowConsumerReason, message: string): void {
    if (this.closed) return;
    this.ctx.stats.slowConsumerCloses[reason] += 1;
    this.close(CloseCode.slowConsumer, message);
  }

  offer(event: Event, matched: Routable[], frame: (format: EventFormat) => string): void {
    if (this.closed) return;
    if (this.replaySent.size > 0 && !this.queue && this.replaySent.skip(event.seq)) return;
    if (this.queue) {
      this.queue.push(event);
      if (this.queue.length > this.ctx.limits.maxQueuedEvents) this.closeSlow('replay_queue', 'slow consumer: too many events queued during replay');
      return;
    }
    if (matched.some((sub) => (sub as Subscription).coveredFrom < event.seq)) this.send(frame(this.format));
  }

  private async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    if (this.closed) return;
    if (data.length > this.ctx.limits.maxMessageBytes) {
      this.close(CloseCode.tooBig, `message over ${this.ctx.limits.maxMessageBytes} bytes`);
      return;
    }
    const read = readClientMessage(data, isBinary, this.ctx.validators);
    if ('rejection' in read) {
      this.reject(read.rejection);
      return;
    }
    await this.handle(read.message);
  }

  private async handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'subscribe':
        return this.onSubscribe(message);
      case 'unsubscribe':
        if (message.id === undefined) for (const sub of [...this.subs.values()]) this.drop(sub);
        else {
          const sub = this.subs.get(String(message.id));
          if (sub) this.drop(sub);
        }
        return this.answer(message.id, { type: 'unsubscribed', id: message.id });
      case 'ping':
        return this.answer(message.id, { type: 'pong', id: message.id });
      case 'publish': {
        if (!this.scopes.has('publish')) {
          this.sendControl({ type: 'error', id: message.id, code: 'forbidden', message: "publishing needs an API key with the 'publish' scope" });
          return;
        }
        const wait = await this.publishWait();
        if (wait > 0) {
          this.sendControl({ type: 'error', id: message.id, code: 'rate_limited', message: `over the publish rate limit; retry after ${wait} s`, details: { retry_after_s: wait } });
          return;
        }
        try {
          const [result] = await this.ctx.committer.publish([prepareEvent(message.event, new Date())]);
          if (result) this.answer(message.id, { type: 'published', id: message.id, event_id: result.event.event_id, seq: result.event.seq, created: result.created });
        } catch (err) {
          this.sendControl({ type: 'error', id: message.id, code: 'publish_failed', message: (err as Error).message });
        }
        return;
      }
    }
  }

  private async onSubscribe(message: SubscribeMessage): Promise<void> {
    const replaces = message.id !== undefined && this.subs.has(String(message.id));
    if (!replaces && this.subs.size >= this.ctx.limits.maxSubscriptions) {
      const max = this.ctx.limits.maxSubscriptions;
      this.sendControl({ type: 'error', ...(message.id !== undefined && { id: message.id }), code: 'too_many_subscriptions', message: `a socket holds at most ${max} subscriptions; unsubscribe one first`, details: { max } });
      return;
    }
    const format = message.format ?? 'seed';
    if (format !== this.format && [...this.subs.keys()].some((key) => key !== String(message.id))) {
      this.reject({ id: message.id, code: 'format_conflict', message: `this socket's subscriptions use format ${this.format}; open another socket for ${format}` });
      return;
    }
    const read = readSubscribeFilter(message);
    if ('rejection' in read) {
      this.reject(read.rejection);
      return;
    }
    this.format = format;
    const after = message.after === undefined ? undefined : Number(message.after);
    const key = await this.subscribe(subscriptionSelection(message.event_types ?? [], read.filter), after, message.id);
    this.answer(message.id, { type: 'subscribed', id: message.id, subscription: key });
  }

  private async subscribe(selection: Selection, after: number | undefined, id: string | number | undefined): Promise<string> {
    let key = id === undefined ? `auto-${this.nextOrder}` : String(id);
    while (id === undefined && this.subs.has(key)) key = `${key}'`; // never take over a name the client chose
    const previous = this.subs.get(key);
    if (previous) this.drop(previous);
    const newest = after === undefined ? undefined : await newestIfAhead(this.ctx, after);
    if (newest !== undefined) {
      // Say so, and stream from now rather than stay silent.
      this.sendControl({ type: 'error', ...(id !== undefined && { id }), code: 'cursor_ahead', message: `cursor ${after} is ahead of the newest seq ${newest}; streaming from now`, details: { newest_seq: newest } });
      after = undefined;
    }
    const start = this.ctx.position();
    const sub = new Subscription(key, this.nextOrder++, selection, after ?? start, this);
    if (after !== undefined) {
      // Hold live events from before the subscription joins the router, so none overtakes the replay.
      if (!this.queue) {
        this.queue = [];
        this.queueStart = start;
      }
      this.pendingReplays += 1;
    }
    this.subs.set(key, sub);
    this.ctx.router.add(sub);
    if (after !== undefined) {
      // Replays run one at a time, after the `subscribed` answer; live events wait in the hold meanwhile.
      const from = after;
      this.replays = this.replays
        .then(() => this.replay(sub, from, start))
        .catch((err: unknown) => {
          this.ctx.log.error({ err }, 'replay failed');
          this.closeSlow('replay_failed', 'replay failed; reconnect and resume');
        });
    }
    return key;
  }

  /**
   * Sends the stored events after `after`, then — once no replay is left — the live events held meanwhile,
   * with no gap and no duplicate: everything committed before history is read is in history, everything
   * after is held, and the flush skips what a replay already sent.
   */
  private async replay(sub: Subscription, after: number, start: number): Promise<void> {
    try {
      if (this.closed || this.subs.get(sub.key) !== sub) return;
      const oldest = await oldestIfExpired(this.ctx, after);
      if (oldest !== undefined) {
        this.sendControl({ type: 'error', code: 'cursor_expired', message: `events after ${after} are no longer retained; resuming from ${oldest}`, oldest_seq: oldest });
      }
      // An older subscription on this socket delivered e already if it matches it and covered its seq.
      const deliveredBefore = (e: Event) =>
        [...this.subs.values()].some((s) => s !== sub && s.order < sub.order && s.matches(e) && s.coveredFrom < e.seq);
      for await (const event of storedAfter(this.ctx, sub.selection, after)) {
        if (this.closed || this.subs.get(sub.key) !== sub) return; // unsubscribed or replaced meanwhile
        await this.drained();
        if (!sub.matches(event) || (event.seq <= start && deliveredBefore(event))) continue;
        if (event.seq > this.queueStart) this.replaySent.add(event.seq);
        this.sendEvent(event);
      }
    } finally {
      this.pendingReplays -= 1;
      if (this.pendingReplays === 0) this.flushHeld();
    }
  }

  private flushHeld(): void {
    const held = this.queue ?? [];
    this.queue = null;
    for (const event of held) {
      if (this.closed) return;
      if (this.replaySent.skip(event.seq)) continue;
      if ([...this.subs.values()].some((s) => s.coveredFrom < event.seq && s.matches(event))) this.sendEvent(event);
    }
  }

  private async drained(): Promise<void> {
    if (!(await drained(() => this.socket.bufferedAmount, () => this.closed, this.ctx.limits))) {
      this.closeSlow('replay_stalled', 'slow consumer: replay stalled');
    }
  }

  private drop(sub: Subscription): void {
    this.ctx.router.remove(sub);
    this.subs.delete(sub.key);
  }

  private sendEvent(event: Event): void {
    this.send(eventFrame(event, this.format));
  }

  private answer(id: string | number | undefined, frame: ControlFrame): void {
    // Control frames go only to clients that asked with an id (the original browser page,
    // test/fixtures/seed-page.html, never does).
    if (id !== undefined) this.sendControl(frame);
  }

  private sendControl(frame: ControlFrame): void {
    this.send(JSON.stringify(frame));
  }

  private send(text: string): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.cork?.hold();
    this.socket.send(text);
    this.ctx.stats.framesSent += 1;
    // Corked, the tick's frames wait for the end of the tick, or for a burst of CORK_MAX_BYTES: the
    // backlog is judged at each release (tick-cork.ts).
    if (!this.cork) this.checkBacklog();
    else if (this.socket.bufferedAmount >= CORK_MAX_BYTES) this.cork.release();
  }

  private checkBacklog(): void {
    if (this.socket.bufferedAmount > this.ctx.limits.maxBufferBytes) {
      this.closeSlow('send_buffer', `slow consumer: more than ${this.ctx.limits.maxBufferBytes} bytes unsent`);
    }
  }

  private reject({ id, code, message, details }: Rejection): void {
    this.sendControl({ type: 'error', ...(id !== undefined && { id }), code, message, ...(details !== undefined && { details }) });
    if (this.badMessages.add()) this.close(CloseCode.policyViolation, 'too many invalid messages');
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.liveness.stop();
    for (const sub of this.subs.values()) this.ctx.router.remove(sub);
    this.subs.clear();
    this.queue = null;
  }
}
