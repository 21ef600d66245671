import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Surreal } from 'surrealdb';
import type { Config } from './config.js';
import type { Clock } from './lib/clock.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
import configPlugin from './plugins/config.js';
import tracingPlugin from './plugins/tracing.js';
import errorsPlugin, { clientErrorHandler, frameworkErrors } from './plugins/errors.js';
import authPlugin from './plugins/auth.js';
import loadSheddingPlugin from './plugins/load-shedding.js';
import rateLimitPlugin from './plugins/rate-limit.js';
import storePlugin from './plugins/store.js';
import committerPlugin from './plugins/committer.js';
import webhooksPlugin from './plugins/webhooks.js';
import cleanupPlugin from './plugins/cleanup.js';
import streamPlugin from './plugins/stream.js';
import websocketPlugin from './plugins/websocket.js';
import openapiPlugin from './plugins/openapi.js';
import metricsPlugin from './plugins/metrics.js';
import healthRoutes from './routes/health.js';
import eventRoutes from './routes/events.js';
import subscriptionRoutes from './routes/subscriptions.js';
import deliveryRoutes from './routes/deliveries.js';
import dashboardRoutes from './routes/dashboard.js';
import docsRoutes from './routes/docs.js';

export interface BuildOptions {
  config: Config;
  /** Share an open database between app instances (tests); otherwise the app opens config.db.url itself. */
  db?: Surreal;
  logger?: FastifyServerOptions['logger'];
  /** Time for the webhook worker and delivery scheduling (tests pass a controllable one). */
  clock?: Clock;
  /** Where spans go when tracing is on, instead of the exporter OTEL_* names (tests pass an in-memory one). */
  spanExporter?: SpanExporter;
}

/** Composes Herald from its plugins. server.ts listens; tests call this with a mem:// or temp rocksdb URL. */
export async function buildApp(options: BuildOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? {
      level: options.config.logLevel,
      // Browsers pass the API key as ?token= (WebSockets cannot set headers); keep it out of the logs.
      serializers: {
        req: (req: { method: string; url: string; ip?: string; socket?: { remoteAddress?: string; remotePort?: number } }) => ({
          method: req.method,
          url: req.url.replace(/([?&]token=)[^&]*/g, '$1[redacted]'),
          remoteAddress: req.ip ?? req.socket?.remoteAddress,
          remotePort: req.socket?.remotePort,
        }),
      },
    },
    bodyLimit: options.config.bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    forceCloseConnections: 'idle',
    frameworkErrors,
    clientErrorHandler,
    // No plugin deadline: opening the store after a crash (RocksDB replays its log) took longer than Fastify's
    // default 10 s on a busy host, and upgrading a 0.1.0 data directory takes minutes (docs/storage.md).
    // HERALD_DB_CONNECT_TIMEOUT bounds the open itself.
    pluginTimeout: 0,
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(configPlugin, { config: options.config, ...(options.clock && { clock: options.clock }) });
  await app.register(tracingPlugin, options.spanExporter ? { spanExporter: options.spanExporter } : {});
  await app.register(errorsPlugin);
  await app.register(websocketPlugin);
  // Shedding comes before auth, so an overloaded process does no other work; the limits come after it, so
  // they count per API key. Both only see routes registered after them.
  await app.register(loadSheddingPlugin);
  await app.register(authPlugin);
  await app.register(rateLimitPlugin);
  await app.register(storePlugin, options.db ? { db: options.db } : {});
  await app.register(webhooksPlugin);
  await app.register(committerPlugin);
  await app.register(cleanupPlugin);
  await app.register(streamPlugin);
  await app.register(openapiPlugin);
  // Before the routes, so its onResponse hook times every one of them.
  if (options.config.metrics) await app.register(metricsPlugin);
  await app.register(healthRoutes);
  await app.register(eventRoutes);
  await app.register(subscriptionRoutes);
  await app.register(deliveryRoutes);
  await app.register(dashboardRoutes);
  await app.register(docsRoutes);
  return app;
}
