import { v5 as uuidv5 } from 'uuid';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { makeAjv } from '../lib/validation.js';
import { HttpError } from '../lib/http-error.js';
import { CloudEventOrigin, EventInput, type Event } from '../schemas/event.js';
import { incomingTraceContext, type TraceContext } from '../tracing/context.js';

/**
 * CloudEvents 1.0 ↔ Herald events (docs/cloudevents.md has the mapping table and every rule). Pure: the HTTP
 * binding (cloudevents-http.ts) turns requests into the attribute maps this module reads.
 */

/** The UUID v5 namespace of `event_id = v5(source + "\n" + id)`; fixed forever, documented for producers. */
export const CLOUDEVENTS_NAMESPACE = '0d3c5f8e-6a43-4c55-9a0e-5b8f2f7f3c21';

/** CloudEvents identity is source + id: the same pair always gives the same Herald event_id. */
export const cloudEventId = (source: string, id: string): string => uuidv5(`${source}\n${id}`, CLOUDEVENTS_NAMESPACE);

/** Extensions that are Herald fields, by CloudEvents attribute name. */
const FIELD_OF_EXTENSION = {
  priority: 'priority',
  correlationid: 'correlation_id',
  workflowid: 'workflow_id',
  sessionid: 'session_id',
  target: 'target',
} as const satisfies Record<string, keyof EventInput>;
type MappedExtension = keyof typeof FIELD_OF_EXTENSION;

/** The CloudEvents attribute (or `data`) a Herald input field came from, for error messages. */
const ATTRIBUTE_OF_FIELD: Record<string, string> = {
  event_id: 'id', event_type: 'type', source: 'source', payload: 'data', timestamp: 'time',
  ...Object.fromEntries(Object.entries(FIELD_OF_EXTENSION).map(([attribute, field]) => [field, attribute])),
};

const CONTEXT_ATTRIBUTES = new Set(['specversion', 'id', 'source', 'type', 'time', 'subject', 'dataschema', 'datacontenttype']);
/** Set by Herald on the way out; an incoming one (an event forwarded from another Herald) is not this Herald's. */
const IGNORED_EXTENSIONS = new Set(['seq']);
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/** `application/json`, `text/json` or any `+json` type, with or without parameters. */
export const isJsonMediaType = (mediaType: string): boolean =>
  /^(application|text)\/([a-z0-9!#$&^_.-]+\+)?json\s*(;|$)/i.test(mediaType.trim());

/** A CloudEvents input error: 400 (or 415) naming the attribute at fault in `details.attribute`. */
export function cloudEventError(attribute: string, message: string, status = 400): HttpError {
  const code = status === 415 ? 'unsupported_media_type' : 'validation_error';
  return new HttpError(status, code, `CloudEvents attribute "${attribute}" ${message}`, [{ in: 'cloudevent', attribute, message }]);
}

/** A published CloudEvent in Herald's terms: the input fields, its trace context and what else it carried. */
export interface MappedCloudEvent {
  input: EventInput;
  trace: TraceContext;
  origin: CloudEventOrigin;
}

/** The attributes of one CloudEvent, as the JSON format or the binary HTTP binding gives them. */
export interface CloudEventAttributes {
  attributes: Record<string, unknown>;
  /** The data, already decoded from JSON; `undefined` when the event has none. */
  data: unknown;
}

const ajv = makeAjv({ coerceTypes: false, useDefaults: false });
const validInput: ValidateFunction = ajv.compile(EventInput);
const validOrigin: ValidateFunction = ajv.compile(CloudEventOrigin);

/** The first validation error, named by the CloudEvents attribute it is about. */
function schemaFault(errors: ErrorObject[] | null | undefined, attributeOf: (path: string[]) => string): HttpError {
  const error = errors?.[0];
  const path = (error?.instancePath ?? '').split('/').filter(Boolean);
  const attribute = attributeOf(path);
  const where = path.length > 1 ? ` at ${path.slice(1).join('/')}` : '';
  return cloudEventError(attribute, `${error?.message ?? 'is invalid'}${where}`);
}

const requiredString = (attributes: Record<string, unknown>, name: string): string => {
  const value = attributes[name];
  if (value === undefined || value === null) throw cloudEventError(name, 'is required');
  if (typeof value !== 'string' || value === '') throw cloudEventError(name, 'must be a non-empty string');
  return value;
};

const optionalString = (attributes: Record<string, unknown>, name: string): string | undefined => {
  const value = attributes[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw cloudEventError(name, 'must be a string');
  return value;
};

/**
 * A CloudEvent as a Herald publish. Refuses (400, or 415 for data that is not JSON) anything the spec or
 * Herald's limits refuse, naming the attribute; never guesses.
 */
export function fromCloudEvent({ attributes, data }: CloudEventAttributes): MappedCloudEvent {
  const specversion = attributes.specversion;
  if (specversion === undefined || specversion === null) throw cloudEventError('specversion', 'is required');
  if (specversion !== '1.0') throw cloudEventError('specversion', `must be "1.0", not ${JSON.stringify(specversion)}`);
  if ('data_base64' in attributes) {
    throw cloudEventError('data_base64', 'is not supported: Herald stores JSON data only', 415);
  }
  const id = requiredString(attributes, 'id');
  const source = requiredString(attributes, 'source');
  // A URI-reference has no line break, and without one in `source` the identity's "\n" cannot be ambiguous.
  if (/[\r\n]/.test(source)) throw cloudEventError('source', 'must not contain a line break (it is a URI-reference)');
  const type = requiredString(attributes, 'type');
  const datacontenttype = optionalString(attributes, 'datacontenttype');
  if (datacontenttype !== undefined && !isJsonMediaType(datacontenttype)) {
    throw cloudEventError('datacontenttype', `is ${JSON.stringify(datacontenttype)}: Herald stores JSON data only (application/json, text/json, */*+json)`, 415);
  }
  const eventType = type.toLowerCase();
  const origin: CloudEventOrigin = { id };
  if (eventType !== type) origin.type = type;
  const subject = optionalString(attributes, 'subject');
  if (subject !== undefined) origin.subject = subject;
  const dataschema = optionalString(attributes, 'dataschema');
  if (dataschema !== undefined) origin.dataschema = dataschema;
  if (datacontenttype !== undefined) origin.datacontenttype = datacontenttype;

  const input: EventInput = { event_id: cloudEventId(source, id), event_type: eventType, source };
  const time = optionalString(attributes, 'time');
  if (time !== undefined) input.timestamp = time;
  if (data === undefined) origin.data = 'none';
  else if (data !== null && typeof data === 'object' && !Array.isArray(data)) input.payload = data as Record<string, unknown>;
  else {
    origin.data = 'wrapped';
    input.payload = { data };
  }

  const extensions: Record<string, string | number | boolean> = {};
  const traceAttributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (CONTEXT_ATTRIBUTES.has(name) || IGNORED_EXTENSIONS.has(name) || value === null || value === undefined) continue;
    if (!ATTRIBUTE_NAME.test(name)) throw cloudEventError(name, 'is not a valid attribute name: names are lower-case letters a-z and digits only');
    if (name in FIELD_OF_EXTENSION) {
      if (typeof value !== 'string') throw cloudEventError(name, 'must be a string');
      (input as Record<string, unknown>)[FIELD_OF_EXTENSION[name as MappedExtension]] = value;
    } else if (name === 'traceparent' || name === 'tracestate') {
      if (typeof value !== 'string') throw cloudEventError(name, 'must be a string');
      traceAttributes[name] = value;
    } else {
      if (typeof value !== 'string' && typeof value !== 'boolean' && !Number.isInteger(value)) {
        throw cloudEventError(name, 'must be a string, an integer or a boolean (the CloudEvents type system)');
      }
      extensions[name] = value as string | number | boolean;
    }
  }
  if (Object.keys(extensions).length > 0) origin.extensions = extensions;

  if (!validInput(input)) throw schemaFault(validInput.errors, (path) => ATTRIBUTE_OF_FIELD[path[0] ?? ''] ?? path[0] ?? 'data');
  if (!validOrigin(origin)) {
    throw schemaFault(validOrigin.errors, (path) => (path[0] === 'extensions' ? path[1] ?? 'extensions' : path[0] ?? 'id'));
  }
  // An invalid traceparent is ignored, as W3C Trace Context asks of a receiver (src/tracing/context.ts).
  return { input, trace: incomingTraceContext(traceAttributes), origin };
}

/** A CloudEvent in the JSON format (structured mode), as Herald sends it. */
export type CloudEventJson = Record<string, unknown> & { specversion: '1.0'; id: string; source: string; type: string };

/**
 * A stored event as a CloudEvent: the original `id`, `type`, `subject`, `dataschema`, data and extensions
 * of one published as a CloudEvent, Herald's fields as extensions, and `seq` for resuming and ordering.
 */
export function toCloudEvent(event: Event): CloudEventJson {
  const origin = event.cloudevent;
  const ce: CloudEventJson = {
    specversion: '1.0',
    id: origin?.id ?? event.event_id,
    source: event.source,
    type: origin?.type ?? event.event_type,
    time: event.timestamp,
    ...(origin?.subject !== undefined && { subject: origin.subject }),
    ...(origin?.dataschema !== undefined && { dataschema: origin.dataschema }),
    ...origin?.extensions,
    priority: event.priority,
    ...(event.target !== null && { target: event.target }),
    ...(event.correlation_id !== null && { correlationid: event.correlation_id }),
    ...(event.workflow_id !== null && { workflowid: event.workflow_id }),
    ...(event.session_id !== null && { sessionid: event.session_id }),
    ...(event.traceparent !== undefined && { traceparent: event.traceparent }),
    ...(event.tracestate !== undefined && { tracestate: event.tracestate }),
    seq: event.seq,
  };
  if (origin?.data === 'none') return ce;
  ce.datacontenttype = origin?.datacontenttype ?? 'application/json';
  ce.data = origin?.data === 'wrapped' ? event.payload.data : event.payload;
  return ce;
}
