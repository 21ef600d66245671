import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../lib/http-error.js';
import { JsonRuleError, parseJson } from '../lib/json.js';
import { MAX_BATCH, type EventInput } from '../schemas/event.js';
import type { PreparedEvent } from './prepare.js';
import {
  cloudEventError, fromCloudEvent, isJsonMediaType, type CloudEventAttributes, type MappedCloudEvent,
} from './cloudevents.js';

/**
 * The CloudEvents HTTP binding on `POST /events` and `POST /events/batch` (docs/cloudevents.md): structured
 * mode (`application/cloudevents+json`), binary mode (`ce-*` headers, the body is the data) and batch mode
 * (`application/cloudevents-batch+json`). Written here rather than taken from the `cloudevents` package,
 * whose receiving side replaces an unparseable `time` with the current time and guesses at bodies: Herald
 * refuses bad input instead.
 */

export const STRUCTURED = 'application/cloudevents+json';
export const BATCH = 'application/cloudevents-batch+json';

/** The body of a binary-mode request, kept as bytes until its `ce-*` headers say how to read it. */
class RawBody {
  constructor(readonly bytes: Buffer) {}
}

const isBinaryMode = (headers: IncomingHttpHeaders): boolean => headers['ce-specversion'] !== undefined;
const mediaTypeOf = (headers: IncomingHttpHeaders): string => (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

const jsonRule = (bytes: Buffer): unknown => {
  try {
    return parseJson(bytes);
  } catch (err) {
    throw err instanceof JsonRuleError ? new HttpError(400, err.code, err.message) : err;
  }
};

/**
 * Content-type parsers for the events routes' scope. A binary-mode body is read as bytes whatever its type;
 * any other body that is not JSON or a CloudEvents format keeps the 415 Herald has always answered.
 */
export function addCloudEventParsers(app: FastifyInstance): void {
  app.addContentTypeParser([STRUCTURED, BATCH], { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, jsonRule(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, isBinaryMode(request.headers) ? new RawBody(body as Buffer) : jsonRule(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    if (isBinaryMode(request.headers)) return done(null, new RawBody(body as Buffer));
    done(new HttpError(415, 'unsupported_media_type', `Unsupported Media Type: ${request.headers['content-type'] ?? ''}`), undefined);
  });
}

/** A structured-mode body: the event's attributes, with its data apart. */
function structuredAttributes(body: unknown): CloudEventAttributes {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'validation_error', 'a structured-mode CloudEvent is a JSON object');
  }
  const { data, ...attributes } = body as Record<string, unknown>;
  return { attributes, data };
}

/**
 * A binary-mode request: `ce-<name>` headers are the attributes (percent-decoded), `content-type` is
 * `datacontenttype` and the body is the data. The `cloudevents` package sends string data unquoted under
 * `application/json`; a body that is not JSON and does not open like JSON (`{`, `[`, `"`) is read as that string.
 */
function binaryAttributes(headers: IncomingHttpHeaders, body: unknown): CloudEventAttributes {
  const attributes: Record<string, unknown> = {};
  for (const [header, value] of Object.entries(headers)) {
    if (!header.startsWith('ce-') || value === undefined) continue;
    const name = header.slice(3);
    const text = Array.isArray(value) ? value.join(',') : value;
    try {
      attributes[name] = decodeURIComponent(text);
    } catch {
      throw cloudEventError(name, 'is not valid percent-encoded UTF-8 (header ce-' + name + ')');
    }
  }
  const contentType = headers['content-type'];
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  const bytes = body instanceof RawBody ? body.bytes : undefined;
  if (bytes === undefined || bytes.length === 0) return { attributes, data: undefined };
  if (contentType !== undefined && !isJsonMediaType(contentType)) return { attributes, data: undefined }; // refused by the mapping (415)
  try {
    return { attributes, data: parseJson(bytes) };
  } catch (err) {
    const text = bytes.toString('utf8');
    if (err instanceof JsonRuleError && !/^\s*[[{"]/.test(text) && !text.includes('\uFFFD')) return { attributes, data: text };
    throw cloudEventError('data', `is not JSON: ${(err as Error).message}`);
  }
}

/** The CloudEvents of each request, mapped; the handlers add their origin and trace to the prepared events. */
const mapped = new WeakMap<FastifyRequest, MappedCloudEvent[]>();

/** `POST /events` preValidation: a structured or binary CloudEvent becomes the Herald input Fastify validates. */
export async function cloudEventInput(request: FastifyRequest): Promise<void> {
  const structured = mediaTypeOf(request.headers) === STRUCTURED;
  if (!structured && !isBinaryMode(request.headers)) return;
  const event = fromCloudEvent(structured ? structuredAttributes(request.body) : binaryAttributes(request.headers, request.body));
  mapped.set(request, [event]);
  request.body = event.input;
}

/** `POST /events/batch` preValidation: a CloudEvents batch becomes `{events}`; errors name `events/<index>`. */
export async function cloudEventBatchInput(request: FastifyRequest): Promise<void> {
  if (mediaTypeOf(request.headers) !== BATCH) {
    if (isBinaryMode(request.headers)) throw cloudEventError('specversion', 'arrived as a ce- header: binary mode carries one event, POST it to /events');
    return;
  }
  const body = request.body;
  if (!Array.isArray(body)) throw new HttpError(400, 'validation_error', 'a CloudEvents batch is a JSON array of CloudEvents');
  if (body.length === 0 || body.length > MAX_BATCH) {
    throw new HttpError(400, 'validation_error', `a CloudEvents batch holds 1 to ${MAX_BATCH} events, not ${body.length}`);
  }
  const events = body.map((item, index) => {
    try {
      return fromCloudEvent(structuredAttributes(item));
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      throw new HttpError(err.statusCode, err.code, `events/${index}: ${err.message}`, { index, errors: err.details });
    }
  });
  mapped.set(request, events);
  request.body = { events: events.map((e) => e.input) } satisfies { events: EventInput[] };
}

/** The prepared event with what its CloudEvent carried beyond the input: its origin, and its trace context if any. */
export function withCloudEvent(request: FastifyRequest, index: number, prepared: PreparedEvent): PreparedEvent {
  const event = mapped.get(request)?.[index];
  if (!event) return prepared;
  // The event's own trace context (the distributed-tracing extension) wins over the request's.
  const { traceparent: _traceparent, tracestate: _tracestate, ...untraced } = prepared;
  return { ...(event.trace.traceparent === undefined ? prepared : untraced), ...event.trace, cloudevent: event.origin };
}
