/**
 * Stream resumers: clients that keep a cursor (the last seq received) and, whenever their connection ends —
 * a kill, a graceful restart, or a random drop by the client itself — reconnect with `after=<cursor>`.
 * Every event received is recorded, duplicates included, for the gap-free and duplicate-free check.
 *
 * The transport is pluggable: a resumer only needs "open a stream after this seq with this filter, give me
 * its events and tell me when it ends". WebSocket is the one transport today; an SSE resumer is one more
 * StreamTransport (GET /events with Accept: text/event-stream and Last-Event-ID) once the server has it.
 */
import WebSocket from 'ws';
import { errorCode } from '../helpers/spawn-server.js';
import type { ActorContext } from './publishers.js';
import { rngFor } from './random.js';

export interface StreamFilter {
  /** Event type patterns (`*` = any run of characters); absent = every type. */
  types?: string[];
  priority?: string[];
}

export interface StreamHandlers {
  event(event: { event_id: string; seq: number }): void;
  /** Any frame that is not an event (errors such as cursor_expired; no control frame is expected here). */
  control(frame: Record<string, unknown>): void;
}

export interface StreamSession {
  /** Settles when the connection is over; `code` is the close code where the transport has one. */
  ended: Promise<{ code: number }>;
  /** An abrupt client-side disconnect (no close handshake). */
  drop(): void;
  close(): void;
}

export type StreamTransport = (baseUrl: string, filter: StreamFilter, after: number, handlers: StreamHandlers) => StreamSession;

/** `GET /events?after=…&types=…&priority=…` upgraded to a WebSocket: one query subscription per socket. */
export const wsTransport: StreamTransport = (baseUrl, filter, after, handlers) => {
  const query = new URLSearchParams({ after: String(after) });
  if (filter.types) query.set('types', filter.types.join(','));
  if (filter.priority) query.set('priority', filter.priority.join(','));
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/events?${query}`);
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as Record<string, unknown>;
    if ('type' in frame) handlers.control(frame);
    // Herald's own operational events (endpoint health alerts, which the flaky receiver causes at any time)
    // are not part of what the run publishes; test/webhook-health.test.ts covers them.
    else if (frame.event_type !== 'system_alert') handlers.event(frame as unknown as { event_id: string; seq: number });
  });
  ws.on('error', () => {
    // The close event that follows carries the code.
  });
  return {
    ended: new Promise((resolve) => ws.once('close', (code) => resolve({ code }))),
    drop: () => ws.terminate(),
    close: () => ws.close(1000, 'done'),
  };
};

/** The oracle's own matcher (not the server's): exact types, `*` wildcards, priority list. */
export function matchesFilter(filter: StreamFilter, event: { event_type: string; priority: string }): boolean {
  const typeOk =
    !filter.types ||
    filter.types.some((pattern) => new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.:-]/g, '\\$&')).join('.*')}$`).test(event.event_type));
  return typeOk && (!filter.priority || filter.priority.includes(event.priority));
}

const MAX_SESSIONS = 100_000;

export class Resumer {
  /** Every event seq received, in arrival order, duplicates included. */
  readonly received: number[] = [];
  /** The resume cursor: the highest seq received. */
  lastSeq: number;
  readonly reconnects = { afterKill: 0, afterDrop: 0, afterClose: 0 };
  /** Close codes of connections that ended while the server was running and the client had not dropped them. */
  readonly closes: Record<string, number> = {};
  private session: StreamSession | null = null;
  private stopped = false;
  private waiters: Array<{ seq: number; wake: () => void }> = [];

  constructor(
    private readonly ctx: ActorContext,
    readonly name: string,
    readonly filter: StreamFilter,
    readonly firstCursor: number,
    private readonly transport: StreamTransport,
    private readonly disconnectRate: number,
  ) {
    this.lastSeq = firstCursor;
  }

  async run(): Promise<void> {
    const rng = rngFor(this.ctx.seed, this.name);
    for (let n = 1; !this.stopped && Date.now() < this.ctx.deadline; n++) {
      if (n > MAX_SESSIONS) return this.ctx.unexpected(`${this.name}: more than ${MAX_SESSIONS} connections`);
      const generation = await this.ctx.server.up().catch(() => null);
      if (!generation || this.stopped) return;
      let dropped = false;
      const session: StreamSession = this.transport(generation.server.url, this.filter, this.lastSeq, {
        event: (event) => {
          this.received.push(event.seq);
          if (event.seq > this.lastSeq) this.lastSeq = event.seq;
          for (const waiter of [...this.waiters]) {
            if (this.lastSeq < waiter.seq) continue;
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.wake();
          }
          if (!dropped && rng.chance(this.disconnectRate)) {
            dropped = true;
            session.drop();
          }
        },
        control: (frame) => {
          if (!generation.ended) this.ctx.unexpected(`${this.name}: ${JSON.stringify(frame)}`);
        },
      });
      this.session = session;
      const { code } = await session.ended;
      this.session = null;
      if (this.stopped) return;
      if (dropped) this.reconnects.afterDrop++;
      else if (generation.ended) this.reconnects.afterKill++;
      else {
        // 4000 (slow consumer) is documented as "reconnect and resume"; anything else on a live server is not.
        this.reconnects.afterClose++;
        this.closes[code] = (this.closes[code] ?? 0) + 1;
        if (code !== 4000) this.ctx.unexpected(`${this.name}: closed with ${code} by live generation ${generation.number}`);
      }
    }
  }

  /** Resolves once the cursor reaches `seq`; rejects after `timeoutMs`. */
  waitFor(seq: number, timeoutMs: number): Promise<void> {
    if (this.lastSeq >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.name}: cursor at ${this.lastSeq}, not ${seq}, after ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = { seq, wake: () => (clearTimeout(timer), resolve()) };
      this.waiters.push(waiter);
    });
  }

  stop(): void {
    this.stopped = true;
    this.session?.close();
  }
}

/** The newest stored seq: where a client that starts "from now" puts its first cursor. */
export async function newestSeq(ctx: ActorContext): Promise<number> {
  for (let attempt = 1; attempt <= 100; attempt++) {
    const generation = await ctx.server.up();
    try {
      const res = await fetch(`${generation.server.url}/events?limit=1`);
      const body = (await res.json()) as { events: Array<{ seq: number }> };
      if (res.status === 200) return body.events[0]?.seq ?? 0;
      if (!generation.ended) ctx.unexpected(`GET /events?limit=1 answered ${res.status}`);
    } catch (err) {
      if (!generation.ended) ctx.unexpected(`GET /events?limit=1: ${errorCode(err)} from live generation ${generation.number}`);
    }
  }
  throw new Error('no newest seq after 100 attempts');
}
