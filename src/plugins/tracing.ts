import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Config } from '../config.js';
import { incomingTraceContext, type TraceContext } from '../tracing/context.js';

/** The standard OTEL_* switches: an explicit exporter wins, an OTLP endpoint alone means otlp, nothing means off. */
export function tracingKind(otel: Config['otel']): 'none' | 'otlp' | 'console' {
  if (otel.sdkDisabled) return 'none';
  if (otel.tracesExporter !== '') return otel.tracesExporter;
  return otel.endpoint !== '' || otel.tracesEndpoint !== '' ? 'otlp' : 'none';
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The trace context to store with the events `request` publishes (docs/operations.md#tracing). */
    traceContext(request: FastifyRequest): TraceContext;
  }
}

/**
 * OpenTelemetry when the OTEL_* variables turn it on: a span per request and the publish span's context stored
 * with its events. Off, no OpenTelemetry package is loaded and an incoming `traceparent` is passed through.
 * Registered before every other plugin, so @fastify/otel sees every hook and route.
 */
export default fp<{ spanExporter?: SpanExporter }>(
  async (app, options) => {
    const kind = tracingKind(app.config.otel);
    if (kind === 'none') {
      app.decorate('traceContext', (request: FastifyRequest) => incomingTraceContext(request.headers));
      return;
    }
    const { startTracing } = await import('../tracing/otel.js');
    const tracing = startTracing(kind, options.spanExporter);
    await app.register(tracing.plugin);
    app.decorate('traceContext', tracing.contextOf);
    app.addHook('onClose', async () => {
      await tracing.shutdown().catch((err: unknown) => app.log.warn({ err }, 'could not export the last spans'));
    });
  },
  { name: 'tracing', dependencies: ['config'] },
);
