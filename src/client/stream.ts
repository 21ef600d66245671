import type { ControlFrame, SubscribeMessage } from '../schemas/stream.js';
import { retryDelay, type ReconnectOptions } from './backoff.js';
import { HeraldError } from './errors.js';
import type { HttpClient } from './http.js';
import type { HeraldEvent, HistoryPage, StreamFilters } from './types.js';
import { frameText, type WebSocketConstructor, type WebSocketLike } from './websocket.js';

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateInfo {
  /** Consecutive failed attempts so far (0 once a subscription is confirmed). */
  attempt: number;
  /** With `reconnecting`: how long until the next attempt. */
  delayMs?: number;
  /** The close code of the socket that just ended, when one did. */
  closeCode?: number;
  /** With `closed`: why the stream ended, unless `close()` ended it. */
  error?: Error;
}

/** Events the server no longer had (`cursor_expired`), or a cursor from another or a reset database (`cursor_ahead`). */
export interface StreamGap {
  code: 'cursor_expired' | 'cursor_ahead';
  /** The cursor the client resumed from. */
  after: number;
  /** The first seq the stream can deliver now; events between `after` and it were not received. */
  resumedFrom: number;
}

export interface SubscribeOptions {
  /** Event types, `*` wildcards allowed (`task_*`); absent or empty = every type. */
  eventTypes?: readonly string[];
  /** source, target, priority, workflow_id, session_id, correlation_id, `payload.<path>` equality. */
  filters?: StreamFilters;
  /** The JSON filter language (`{"payload.progress": {"$gte": 50}}`), sent as the subscribe message's `filter`. */
  filter?: Record<string, unknown>;
  /** Deliver the stored events after this seq first. Absent: events from the moment of subscribing. */
  after?: number;
  reconnect?: ReconnectOptions;
  /** Send an application ping this often; a socket silent for 1.5 of these is dropped and reconnected (default 30 s; 0 = off). */
  heartbeatMs?: number;
  onStateChange?: (state: StreamState, info: StateInfo) => void;
  onGap?: (gap: StreamGap) => void;
  /** Errors thrown by `onEvent`, and the error that ends the stream. Default: `console.error`. */
  onError?: (error: Error) => void;
}

export type EventHandler = (event: HeraldEvent) => void | Promise<void>;

export interface StreamHandle {
  readonly state: StreamState;
  /** The seq of the last event received: where a reconnect resumes. */
  readonly lastSeq: number | undefined;
  /** Resolves when the server first confirms the subscription; rejects if the stream ends before. */
  ready(): Promise<void>;
  /** Stops for good: no reconnect, no further `onEvent` call. */
  close(): void;
}

const SUBSCRIPTION_ID = 'herald-client';
const HEARTBEAT_ID = 'herald-client-heartbeat';
/** Close codes after which reconnecting cannot help (docs/websocket.md): the client must change first. */
const isFatalClose = (code: number) => code === 1008 || code === 1009 || (code >= 4500 && code <= 4999);
/** HTTP answers that will not change by retrying: the key, the scope or the request is wrong. */
const isFatalStatus = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * One subscription on its own socket, kept alive across disconnects. One subscription per socket makes the
 * socket's event order the seq order (docs/websocket.md "Replays interleave"), so the last seq received is
 * a cursor that resumes with no gap, and any event at or below it is a duplicate.
 */
export class ResumableStream implements StreamHandle {
  state: StreamState = 'connecting';
  lastSeq: number | undefined;
  private attempt = 0;
  private socket: WebSocketLike | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  /** When the socket last said anything (for the heartbeat). */
  private lastHeard = 0;
  private confirmed = false;
  private endedWith: Error | undefined;
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  /** Handler calls run one after another, so an async handler still sees events in seq order. */
  private handling: Promise<void> = Promise.resolve();

  constructor(
    private readonly http: HttpClient,
    private readonly WebSocketImpl: WebSocketConstructor,
    private readonly options: SubscribeOptions,
    private readonly onEvent: EventHandler,
  ) {
    this.lastSeq = options.after;
    this.setState('connecting');
    void this.connect();
  }

  ready(): Promise<void> {
    if (this.confirmed) return Promise.resolve();
    if (this.stopped) return Promise.reject(this.endedWith ?? new Error('stream closed before it was confirmed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  close(): void {
    this.end(undefined);
  }

  private async connect(): Promise<void> {
    if (this.lastSeq === undefined) {
      // "From now" must survive a reconnect that comes before the first event, so it becomes a cursor: the
      // newest stored seq. Events committed between this read and the subscription are replayed, not lost.
      try {
        const page = await this.http.request<HistoryPage>('GET', '/events', { query: { limit: 1 } });
        this.lastSeq ??= page.events[0]?.seq ?? 0;
      } catch (err) {
        return this.failed(err, undefined);
      }
    }
    if (this.stopped) return;
    const base = this.http.baseUrl.replace(/^http/, 'ws');
    // A query token, not a header: browsers cannot set headers on a WebSocket, and Herald redacts it in logs.
    const token = this.http.apiKey === undefined ? '' : `?token=${encodeURIComponent(this.http.apiKey)}`;
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketImpl(`${base}/events${token}`);
    } catch (err) {
      // A URL the constructor refuses (ws:// from an https page, say) will be refused on every attempt.
      return this.end(err instanceof Error ? err : new Error(String(err)));
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      const message: SubscribeMessage & { filter?: Record<string, unknown> } = {
        type: 'subscribe',
        id: SUBSCRIPTION_ID,
        ...(this.options.eventTypes?.length && { event_types: [...this.options.eventTypes] }),
        ...(this.options.filters && { filters: this.options.filters }),
        ...(this.options.filter && { filter: this.options.filter }),
        ...(this.lastSeq !== undefined && { after: this.lastSeq }),
      };
      socket.send(JSON.stringify(message));
      this.startHeartbeat(socket);
    };
    socket.onmessage = (message) => {
      if (this.socket === socket) this.onFrame(frameText(message.data));
    };
    socket.onerror = () => {
      // The close event that follows carries what there is to know.
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.detach();
      if (isFatalClose(event.code)) {
        this.end(new HeraldError(0, 'stream_closed', `Herald closed the stream with ${event.code}${event.reason ? `: ${event.reason}` : ''}; not reconnecting`, { closeCode: event.code, reason: event.reason }));
        return;
      }
      if (!opened) {
        // A refused upgrade looks like any network failure to a browser (1006); the same request over
        // HTTP tells a wrong key (401/403, final) from a server that is not there yet (retry).
        void this.probe(event.code);
        return;
      }
      this.scheduleRetry(event.code);
    };
  }

  private async probe(closeCode: number): Promise<void> {
    try {
      await this.http.request<HistoryPage>('GET', '/events', { query: { limit: 1 } });
    } catch (err) {
      return this.failed(err, closeCode);
    }
    this.scheduleRetry(closeCode);
  }

  /** A failed HTTP request: final when the answer says so, otherwise one more failed attempt. */
  private failed(err: unknown, closeCode: number | undefined): void {
    if (this.stopped) return;
    if (err instanceof HeraldError && isFatalStatus(err.status)) return this.end(err);
    this.scheduleRetry(closeCode);
  }

  private scheduleRetry(closeCode: number | undefined): void {
    if (this.stopped) return;
    this.attempt += 1;
    const max = this.options.reconnect?.maxAttempts;
    if (max !== undefined && this.attempt > max) {
      this.end(new HeraldError(0, 'reconnect_failed', `no connection after ${max} attempts`, { closeCode }));
      return;
    }
    const delayMs = retryDelay(this.attempt, this.options.reconnect ?? {});
    this.setState('reconnecting', { delayMs, ...(closeCode !== undefined && { closeCode }) });
    this.retryTimer = setTimeout(() => void this.connect(), delayMs);
  }

  private onFrame(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return; // Herald sends JSON only; anything else is not for us.
    }
    if (typeof frame !== 'object' || frame === null) return;
    if ('type' in frame) this.onControl(frame as ControlFrame);
    else this.onEventFrame(frame as HeraldEvent);
  }

  private onControl(frame: ControlFrame): void {
    this.lastHeard = Date.now();
    if (frame.type === 'subscribed' && frame.id === SUBSCRIPTION_ID) {
      this.attempt = 0;
      this.confirmed = true;
      this.setState('open');
      for (const waiter of this.waiters.splice(0)) waiter.resolve();
      return;
    }
    if (frame.type !== 'error') return;
    const after = this.lastSeq ?? 0;
    if (frame.code === 'cursor_expired' && frame.oldest_seq !== undefined) {
      this.options.onGap?.({ code: 'cursor_expired', after, resumedFrom: frame.oldest_seq });
      return;
    }
    if (frame.code === 'cursor_ahead') {
      // The server streams from its newest seq; keeping our higher cursor would drop those events as duplicates.
      const newest = (frame.details as { newest_seq?: number } | undefined)?.newest_seq ?? 0;
      this.lastSeq = newest;
      this.options.onGap?.({ code: 'cursor_ahead', after, resumedFrom: newest + 1 });
      return;
    }
    const error = new HeraldError(0, frame.code, frame.message, frame.details);
    // The server refused our subscribe message (bad filters, say): sending it again cannot work.
    if (frame.id === SUBSCRIPTION_ID) this.end(error);
    else this.report(error);
  }

  private onEventFrame(event: HeraldEvent): void {
    this.lastHeard = Date.now();
    if (this.lastSeq !== undefined && event.seq <= this.lastSeq) return; // replayed after a reconnect: seen
    this.lastSeq = event.seq;
    this.handling = this.handling
      .then(() => (this.stopped ? undefined : this.onEvent(event)))
      .catch((err: unknown) => this.report(err instanceof Error ? err : new Error(String(err))));
  }

  /**
   * Server pings are invisible to browser code, and a peer that vanished without a FIN leaves the socket
   * "open" for minutes; an application ping the server must answer finds out within a heartbeat.
   */
  private startHeartbeat(socket: WebSocketLike): void {
    const interval = this.options.heartbeatMs ?? 30_000;
    if (interval <= 0) return;
    this.lastHeard = Date.now();
    this.heartbeatTimer = setInterval(() => {
      if (Date.now() - this.lastHeard > interval * 1.5) {
        // Do not wait for a closing handshake a dead peer will never answer: drop it and reconnect now.
        this.detach();
        socket.close(4000, 'heartbeat timeout');
        this.scheduleRetry(undefined);
        return;
      }
      socket.send(JSON.stringify({ type: 'ping', id: HEARTBEAT_ID }));
    }, interval);
  }

  /** Forget the current socket: its late events and close are ignored from here on. */
  private detach(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.socket = null;
  }

  private end(error: Error | undefined): void {
    if (this.stopped) return;
    this.stopped = true;
    this.endedWith = error;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.detach();
    socket?.close(1000, 'client closed');
    this.setState('closed', error ? { error } : {});
    const reason = error ?? new Error('stream closed before it was confirmed');
    for (const waiter of this.waiters.splice(0)) waiter.reject(reason);
    if (error) this.report(error);
  }

  private report(error: Error): void {
    (this.options.onError ?? ((e: Error) => console.error('herald client:', e)))(error);
  }

  private setState(state: StreamState, extra: Omit<StateInfo, 'attempt'> = {}): void {
    this.state = state;
    this.options.onStateChange?.(state, { attempt: this.attempt, ...extra });
  }
}
