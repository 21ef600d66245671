import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { makeAjv } from '../lib/validation.js';
import { SEQ_PATTERN, type EventFormat } from '../schemas/event.js';
import { HttpError } from '../lib/http-error.js';
import { CLIENT_MESSAGES, CloseCode } from '../schemas/stream.js';
import { Connection } from '../stream/connection.js';
import type { StreamContext } from '../stream/context.js';
import { newStreamStats, type StreamStats } from '../stream/stats.js';
import { subscriptionSelection, type Selection } from '../events/selection.js';
import { and } from '../events/filter.js';
import { LiveFeed, REPAIR_AFTER_MS } from '../stream/live-feed.js';
import { Router } from '../stream/router.js';
import { EventStreamSession } from '../stream/sse.js';

export interface Stream {
  router: Router;
  feed: LiveFeed;
  connections: ReadonlySet<Connection>;
  /** Server-Sent Events clients of `GET /events` (docs/streaming.md). */
  eventStreams: ReadonlySet<EventStreamSession>;
  stats: StreamStats;
  /** Takes over an upgraded `GET /events` socket. */
  accept(socket: WebSocket, request: FastifyRequest): void;
  /** Answers a `GET /events` that accepts `text/event-stream`: a 400 for a bad `Last-Event-ID`, else the stream. */
  openEventStream(request: FastifyRequest, reply: FastifyReply): void;
  /** Kills the LIVE query, so no event is dispatched to a closing socket, then closes every socket with 1001. */
  shutdown(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    stream: Stream;
  }
}

/** The live selection GET /events' query asked for (the route's preHandler parsed it): everything without one. */
function liveSelection(request: FastifyRequest): Selection {
  const asked = request.historyRequest?.selection;
  return subscriptionSelection(asked?.types ?? [], asked?.filter ?? and());
}

export default fp(
  async (app) => {
    const log = app.log.child({ component: 'stream' });
    const router = new Router();
    const connections = new Set<Connection>();
    const eventStreams = new Set<EventStreamSession>();
    const stats = newStreamStats();
    const feed = new LiveFeed(app.store.db, app.store.events, log, (events) => router.dispatch(events), {
      ...app.config.feed,
      repairAfterMs: REPAIR_AFTER_MS,
    });

    const ajv = makeAjv({ coerceTypes: false, useDefaults: false });
    const validators = new Map(Object.entries(CLIENT_MESSAGES).map(([type, schema]) => [type, ajv.compile(schema)]));

    const context: StreamContext = {
      router,
      repo: app.store.events,
      committer: app.committer,
      position: () => feed.position,
      retainedFrom: () => app.store.events.retainedFrom(),
      validators,
      limits: {
        ...app.config.ws,
        badMessageWindowMs: 10_000,
        maxQueuedEvents: 100_000,
      },
      stats,
      log,
    };

    await feed.start();

    app.decorate('stream', {
      router,
      feed,
      connections,
      eventStreams,
      stats,
      async shutdown() {
        await feed.stop();
        for (const connection of connections) connection.close(CloseCode.goingAway, 'server shutting down');
        // An open response would hold up the server's close; the browser reconnects and resumes elsewhere.
        for (const session of eventStreams) session.close();
      },
      accept(socket, request) {
        const connection = new Connection(socket, context, request.scopes, () => app.publishMessageWait(request), request.raw.socket);
        connections.add(connection);
        socket.on('close', () => connections.delete(connection));
        const query = request.query as { after?: string; format?: EventFormat };
        const asked = request.historyRequest?.selection;
        const after = query.after === undefined ? undefined : Number(query.after);
        const format = query.format ?? 'seed';
        // The shortcuts' and filter's conditions, if any, are the filter's top-level AND.
        if (asked && (after !== undefined || format !== 'seed' || asked.types.length > 0 || asked.filter.kind !== 'and' || asked.filter.nodes.length > 0)) {
          connection.subscribeFromQuery(liveSelection(request), after, format);
        }
      },
      openEventStream(request, reply) {
        const query = request.query as { after?: string; format?: EventFormat };
        const header = request.headers['last-event-id'];
        const lastEventId = header === '' ? undefined : header;
        if (lastEventId !== undefined && (typeof lastEventId !== 'string' || !new RegExp(SEQ_PATTERN).test(lastEventId))) {
          throw new HttpError(400, 'validation_error', 'the Last-Event-ID header must be a seq (digits), as the stream sets it',
            [{ in: 'headers', path: '/last-event-id', message: `must match pattern "${SEQ_PATTERN}"` }]);
        }
        // The browser sends Last-Event-ID when it reconnects, with the URL it first opened: the header is the newer cursor.
        const cursor = lastEventId ?? query.after;
        reply.hijack();
        for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          'x-accel-buffering': 'no', // nginx would otherwise buffer the stream
        });
        const session = new EventStreamSession(reply.raw, context, liveSelection(request), query.format ?? 'seed', app.config.sse, () => eventStreams.delete(session));
        eventStreams.add(session);
        void session.start(cursor === undefined ? undefined : Number(cursor));
      },
    } satisfies Stream);
  },
  { name: 'stream', dependencies: ['websocket', 'store', 'committer', 'rate-limit'] },
);

