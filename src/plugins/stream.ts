import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { makeAjv } from '../lib/validation.js';
import type { HistoryQuery } from '../schemas/event.js';
import { CLIENT_MESSAGES, CloseCode } from '../schemas/stream.js';
import { Connection, type StreamContext } from '../stream/connection.js';
import { newStreamStats, type StreamStats } from '../stream/stats.js';
import { specFromQuery } from '../stream/filter.js';
import { LiveFeed, REPAIR_AFTER_MS } from '../stream/live-feed.js';
import { Router } from '../stream/router.js';

export interface Stream {
  router: Router;
  feed: LiveFeed;
  connections: ReadonlySet<Connection>;
  stats: StreamStats;
  /** Takes over an upgraded `GET /events` socket. */
  accept(socket: WebSocket, request: FastifyRequest): void;
  /** Kills the LIVE query, so no event is dispatched to a closing socket, then closes every socket with 1001. */
  shutdown(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    stream: Stream;
  }
}

export default fp(
  async (app) => {
    const log = app.log.child({ component: 'stream' });
    const router = new Router();
    const connections = new Set<Connection>();
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
      stats,
      async shutdown() {
        await feed.stop();
        for (const connection of connections) connection.close(CloseCode.goingAway, 'server shutting down');
      },
      accept(socket, request) {
        const connection = new Connection(socket, context, request.scopes, () => app.publishMessageWait(request));
        connections.add(connection);
        socket.on('close', () => connections.delete(connection));
        const query = request.query as HistoryQuery;
        const spec = specFromQuery(query);
        const after = query.after === undefined ? undefined : Number(query.after);
        if (after !== undefined || query.format !== undefined || spec.eventTypes.length > 0 || Object.keys(spec.filters).length > 0) {
          connection.subscribeFromQuery(spec, after, query.format ?? 'seed');
        }
      },
    } satisfies Stream);
  },
  { name: 'stream', dependencies: ['websocket', 'store', 'committer', 'rate-limit'] },
);

