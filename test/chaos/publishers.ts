/**
 * The publishers: HTTP POST /events (one event per request), POST /events/batch (a random 1..maxBatch) and
 * WebSocket `publish` messages (a window in flight). Each retries what was not acknowledged, with the same
 * event_id, on the next generation — as a real client does after a crash — so every event handed out ends
 * acknowledged, and a retry of one stored before the kill must come back as the stored event (same seq).
 */
import { Agent, request } from 'undici';
import WebSocket from 'ws';
import { errorCode } from '../helpers/spawn-server.js';
import type { ChaosEvent, Ledger } from './ledger.js';
import { rngFor, type Rng } from './random.js';
import type { ChaosServer, Generation } from './server.js';

export interface ActorContext {
  seed: number;
  server: ChaosServer;
  ledger: Ledger;
  /** Date.now() after which every actor gives up. */
  deadline: number;
  /** A failure no kill explains: a finding. */
  unexpected(what: string): void;
  stats: { retries: number; clientAborts: number; wsDrops: number };
}

export interface PublisherOptions {
  maxBatch: number;
  /** Chance per request that the client drops it mid-flight (an HTTP abort, a terminated WS). */
  disconnectRate: number;
  /** WS publishes in flight per socket. */
  wsWindow: number;
}

/** More attempts than any run needs: one per kill and per client abort, several times over. */
const MAX_ATTEMPTS = 1000;
/** After an unexplained failure, before the next attempt: never a hot loop against a broken server. */
const pauseAfterFailure = () => new Promise((resolve) => setTimeout(resolve, 100));

interface Answer {
  status: number;
  body: unknown;
}

/**
 * Sends with `send` until a 2xx. An error from a generation that was killed is expected and retried on the
 * next one; so is a request the client aborted itself. Anything else is reported, then retried.
 */
async function untilAcked(ctx: ActorContext, label: string, send: (generation: Generation) => Promise<Answer>): Promise<unknown> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS && Date.now() < ctx.deadline; attempt++) {
    const generation = await ctx.server.up();
    if (attempt > 1) ctx.stats.retries++;
    try {
      const answer = await send(generation);
      if (answer.status === 200 || answer.status === 201) return answer.body;
      if (generation.ended) continue;
      ctx.unexpected(`${label}: answered ${answer.status} ${JSON.stringify(answer.body)}`);
      if (answer.status < 500) return undefined;
    } catch (err) {
      if (generation.ended || err instanceof ClientAbort) continue;
      ctx.unexpected(`${label}: ${errorCode(err)} from live generation ${generation.number}`);
    }
    await pauseAfterFailure();
  }
  ctx.unexpected(`${label}: not acknowledged after ${MAX_ATTEMPTS} attempts or by the deadline`);
  return undefined;
}

/** The client dropped the request itself: the outcome is unknown, and the retry finds out. */
class ClientAbort extends Error {}

async function post(agent: Agent, ctx: ActorContext, rng: Rng, disconnectRate: number, url: string, body: unknown): Promise<Answer> {
  const abort = new AbortController();
  if (rng.chance(disconnectRate)) {
    ctx.stats.clientAborts++;
    // After the request is written, before the answer: the outcome is unknown to the client.
    setImmediate(() => abort.abort());
  }
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      dispatcher: agent,
      signal: abort.signal,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    return { status: res.statusCode, body: await res.body.json() };
  } catch (err) {
    throw abort.signal.aborted ? new ClientAbort(errorCode(err)) : err;
  }
}

/** POST /events (batch = false) or POST /events/batch until the budget is spent. */
export async function httpPublisher(ctx: ActorContext, name: string, batch: boolean, options: PublisherOptions): Promise<void> {
  const rng = rngFor(ctx.seed, name);
  const agent = new Agent({ connections: 1, keepAliveTimeout: 10_000 });
  try {
    for (let n = 0; Date.now() < ctx.deadline; ) {
      const count = ctx.ledger.take(batch ? rng.int(1, options.maxBatch) : 1);
      if (count === 0) return;
      const events = Array.from({ length: count }, () => ctx.ledger.make(rng, name, n++));
      const label = `${name} ${batch ? `batch of ${count}` : events[0]?.event_id}`;
      const body = await untilAcked(ctx, label, ({ server }) =>
        batch
          ? post(agent, ctx, rng, options.disconnectRate, `${server.url}/events/batch`, { events })
          : post(agent, ctx, rng, options.disconnectRate, `${server.url}/events`, events[0]),
      );
      if (body === undefined) continue;
      const stored = batch ? (body as { events: StoredRef[] }).events : [(body as { event: StoredRef }).event];
      for (const e of stored) ctx.ledger.ack(e.event_id, e.seq);
    }
  } finally {
    await agent.close();
  }
}

interface StoredRef {
  event_id: string;
  seq: number;
}

/**
 * `publish` messages over one socket at a time, `wsWindow` in flight. A socket that closes (a kill, or a
 * random drop by this client) loses the answers in flight; those events are sent again on the next socket.
 */
export async function wsPublisher(ctx: ActorContext, name: string, options: PublisherOptions): Promise<void> {
  const rng = rngFor(ctx.seed, name);
  const pending = new Map<string, ChaosEvent>();
  let n = 0;
  let spent = false;
  for (let session = 1; (!spent || pending.size > 0) && Date.now() < ctx.deadline; session++) {
    if (session > MAX_ATTEMPTS) {
      ctx.unexpected(`${name}: ${pending.size} publishes unacknowledged after ${MAX_ATTEMPTS} sockets`);
      return;
    }
    const generation = await ctx.server.up();
    if (session > 1) ctx.stats.retries++;
    const ws = new WebSocket(`${generation.server.url.replace(/^http/, 'ws')}/events`);
    let dropped = false;
    const send = (event: ChaosEvent) => ws.send(JSON.stringify({ type: 'publish', id: event.event_id, event }));
    const refill = () => {
      while (!spent && pending.size < options.wsWindow) {
        if (ctx.ledger.take(1) === 0) spent = true;
        else {
          const event = ctx.ledger.make(rng, name, n++);
          pending.set(event.event_id, event);
          send(event);
        }
      }
      if (spent && pending.size === 0) {
        dropped = true;
        ws.close(1000, 'done');
      }
    };
    ws.on('open', () => {
      for (const event of pending.values()) send(event);
      refill();
    });
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type?: string; id?: string; event_id?: string; seq?: number; code?: string; message?: string };
      if (frame.type === 'published' && frame.event_id !== undefined && frame.seq !== undefined) {
        ctx.ledger.ack(frame.event_id, frame.seq);
        pending.delete(frame.event_id);
        if (rng.chance(options.disconnectRate)) {
          ctx.stats.wsDrops++;
          dropped = true;
          ws.terminate();
          return;
        }
        refill();
      } else if (frame.type === 'error') {
        if (!generation.ended) ctx.unexpected(`${name}: error frame ${frame.code}: ${frame.message}`);
        // Its publish is still pending: a new socket sends it again.
        dropped = true;
        ws.terminate();
      }
    });
    ws.on('error', () => {
      // The close event that follows says what there is to know.
    });
    const stuck = setTimeout(() => ws.terminate(), Math.max(0, ctx.deadline - Date.now()));
    const code = await new Promise<number>((resolve) => ws.once('close', (closeCode) => resolve(closeCode)));
    clearTimeout(stuck);
    if (!dropped && !generation.ended) {
      ctx.unexpected(`${name}: socket on live generation ${generation.number} closed with ${code}`);
      await pauseAfterFailure();
    }
  }
}
