import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { context, propagation, trace } from '@opentelemetry/api';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { TraceContext } from './context.js';

/** How long shutdown waits for the last spans to be exported. */
const SHUTDOWN_FLUSH_MS = 2000;

/** Probes and scrapes would be most of the spans and say nothing. */
const UNTRACED = new Set(['/metrics', '/health', '/api/health', '/ready', '/livez', '/readyz']);

/** Browsers pass the API key as ?token= (WebSockets cannot set headers); the same pattern src/app.ts keeps out of the logs. */
const TOKEN_PARAM = /([?&]token=)[^&]*/g;

/**
 * Rewrites `token=` in every string attribute (`url.path` carries the query string) before `inner` exports
 * the span, so the API key never leaves the process.
 */
function redactingProcessor(inner: SpanProcessor): SpanProcessor {
  return {
    onStart: (span, parentContext) => inner.onStart(span, parentContext),
    onEnd(span: ReadableSpan) {
      const attributes = span.attributes as Record<string, unknown>;
      for (const [key, value] of Object.entries(attributes)) {
        if (typeof value === 'string' && value.includes('token=')) attributes[key] = value.replace(TOKEN_PARAM, '$1[redacted]');
      }
      inner.onEnd(span);
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
  };
}

export interface Tracing {
  /** The @fastify/otel plugin: a span per request, the parent taken from an incoming `traceparent`. */
  plugin: FastifyPluginCallback;
  /** The trace context of the span handling `request`, to store with the events it publishes. */
  contextOf(request: FastifyRequest): TraceContext;
  /** Flushes spans still buffered and releases the process-wide OpenTelemetry registrations. */
  shutdown(): Promise<void>;
}

/**
 * Loaded only when tracing is on (docs/operations.md#tracing), so with it off no OpenTelemetry package is
 * imported. The OTLP exporter, the sampler and the resource follow the standard OTEL_* variables; `exporter`
 * replaces the configured one (tests pass an in-memory exporter).
 */
export function startTracing(kind: 'otlp' | 'console', exporter?: SpanExporter): Tracing {
  const resource = resourceFromAttributes({ 'service.name': 'herald' }).merge(detectResources({ detectors: [envDetector] }));
  const spanProcessor = exporter
    ? new SimpleSpanProcessor(exporter)
    : kind === 'console' ? new SimpleSpanProcessor(new ConsoleSpanExporter()) : new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [redactingProcessor(spanProcessor)] });
  // The W3C propagator and the AsyncLocalStorage context manager that @fastify/otel relies on are global.
  provider.register();
  const instrumentation = new FastifyOtelInstrumentation({
    registerOnInitialization: false,
    ignorePaths: (route: { url: string }) => UNTRACED.has(route.url),
  });
  instrumentation.setTracerProvider(provider);
  return {
    plugin: instrumentation.plugin(),
    contextOf() {
      const carrier: TraceContext = {};
      propagation.inject(context.active(), carrier);
      return carrier;
    },
    async shutdown() {
      // An unreachable collector must not hold up (or fail) Herald's shutdown: what is not flushed by then is lost.
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          provider.shutdown(),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_FLUSH_MS).unref())),
        ]);
      } finally {
        clearTimeout(timer);
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}
