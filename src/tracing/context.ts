import type { IncomingHttpHeaders } from 'node:http';

/**
 * The W3C trace context an event carries: the CloudEvents distributed-tracing extension's `traceparent` and
 * `tracestate` attributes, stored in the event and sent with its webhooks and stream frames
 * (docs/operations.md#tracing). This module loads no OpenTelemetry package.
 */
export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
}

/** version 00 (or a later one, read as 00 defines it): trace id, parent span id, flags, lowercase hex. */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
/** W3C allows 32 list members of at most 256 characters each; kept longer than that it is dropped. */
const TRACESTATE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]*=[\x20-\x2b\x2d-\x3c\x3e-\x7e]*(,[\x20-\x2b\x2d-\x3c\x3e-\x7e]*=[\x20-\x2b\x2d-\x3c\x3e-\x7e]*)*$/;
const TRACESTATE_MAX = 512;

const single = (value: string | string[] | undefined): string | undefined =>
  typeof value === 'string' ? value.trim() : undefined;

/**
 * The trace context of an incoming request, passed through as sent. An invalid `traceparent` is ignored (not
 * refused), as W3C Trace Context requires of a receiver; `tracestate` counts only beside a valid traceparent.
 */
export function incomingTraceContext(headers: IncomingHttpHeaders): TraceContext {
  const traceparent = single(headers.traceparent);
  if (traceparent === undefined || traceparent.length < 55 || !TRACEPARENT.test(traceparent.slice(0, 55))) return {};
  if (traceparent.length > 55 && (traceparent.startsWith('00') || traceparent[55] !== '-')) return {};
  const context: TraceContext = { traceparent: traceparent.slice(0, 55) };
  const tracestate = single(headers.tracestate);
  if (tracestate !== undefined && tracestate !== '' && tracestate.length <= TRACESTATE_MAX && TRACESTATE.test(tracestate)) {
    context.tracestate = tracestate;
  }
  return context;
}

/** The headers a webhook delivery of `event` carries, beside the Standard Webhooks ones. */
export function traceHeaders(event: TraceContext): Record<string, string> {
  const headers: Record<string, string> = {};
  if (event.traceparent !== undefined) headers.traceparent = event.traceparent;
  if (event.tracestate !== undefined) headers.tracestate = event.tracestate;
  return headers;
}
