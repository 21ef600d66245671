import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import type { PublishResult } from '../events/committer.js';
import '@fastify/websocket';
import { Type } from 'typebox';
import { BODY_ERRORS, errorResponses } from '../schemas/common.js';
import { BatchInput, CloudEventInput, MAX_BATCH, Event, EventInput, EventParams, HistoryPage, HistoryQuery } from '../schemas/event.js';
import { prepareEvent } from '../events/prepare.js';
import { BATCH, STRUCTURED, addCloudEventParsers, cloudEventBatchInput, cloudEventInput, withCloudEvent } from '../events/cloudevents-http.js';
import { HttpError } from '../lib/http-error.js';
import { isExpired } from '../store/segment-rows.js';
import { parseHistoryQuery, readHistory, type HistoryRequest } from '../store/event-history.js';
import { orBadRequest } from '../events/filter.js';
import { acceptsEventStream } from '../stream/sse-format.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** GET /events' query, parsed once for whichever answer it gets (history page or live stream). */
    historyRequest?: HistoryRequest;
  }
}

/**
 * A publish answers with the events it just stored, and the committer kept each one's stored document: the
 * text of `JSON.stringify` of the Event it built from schema-checked fields. The reply reuses those texts
 * rather than serializing every event again (measurably cheaper on large batches: docs/BENCHMARKS.md).
 * A reply holding an event that was already stored (an idempotent re-publish) goes through the schema's
 * serializer as usual.
 */
function reuseStoredDocuments(reply: FastifyReply, results: PublishResult[], envelope: (docs: string) => string): void {
  const texts: string[] = [];
  for (const r of results) {
    if (r.json === undefined) return;
    texts.push(r.json);
  }
  reply.type('application/json; charset=utf-8').serializer(() => envelope(texts.join(',')));
}

const EventEnvelope = Type.Object({ event: Event }, { $id: 'EventEnvelope' });
const EventsEnvelope = Type.Object({ events: Type.Array(Event) }, { $id: 'EventList' });

const events: FastifyPluginAsyncTypebox = async (app) => {
  app.decorateRequest('historyRequest', undefined);
  addCloudEventParsers(app);

  app.post('/events', {
    config: { scope: 'publish', requestMedia: { [STRUCTURED]: CloudEventInput } },
    bodyLimit: app.config.bodyLimit,
    preValidation: cloudEventInput,
    schema: {
      summary: 'Publish one event (idempotent on event_id)',
      description: 'Also takes a CloudEvent: structured (`application/cloudevents+json`) or binary (`ce-*` headers, the body is its data); docs/cloudevents.md.',
      body: EventInput,
      response: { 200: EventEnvelope, 201: EventEnvelope, ...errorResponses(...BODY_ERRORS, 503) },
    },
  }, async (request, reply) => {
    const [result] = await app.committer.publish([
      withCloudEvent(request, 0, prepareEvent(request.body, new Date(), undefined, app.traceContext(request))),
    ]);
    if (!result) throw new Error('committer returned no result');
    reuseStoredDocuments(reply, [result], (doc) => `{"event":${doc}}`);
    return reply.status(result.created ? 201 : 200).send({ event: result.event });
  });

  app.post('/events/batch', {
    config: { scope: 'publish', requestMedia: { [BATCH]: Type.Array(CloudEventInput, { minItems: 1, maxItems: MAX_BATCH }) } },
    bodyLimit: app.config.batchBodyLimit,
    preValidation: cloudEventBatchInput,
    schema: {
      summary: 'Publish up to 1000 events atomically, stamped with one correlation_id',
      description: 'Also takes a JSON array of CloudEvents as `application/cloudevents-batch+json`, as atomic (docs/cloudevents.md).',
      body: BatchInput,
      response: { 200: EventsEnvelope, 201: EventsEnvelope, ...errorResponses(...BODY_ERRORS, 503) },
    },
  }, async (request, reply) => {
    const seen = new Map<string, number>();
    request.body.events.forEach((e, index) => {
      if (e.event_id === undefined) return;
      const first = seen.get(e.event_id);
      if (first !== undefined) {
        throw new HttpError(400, 'duplicate_event_id', `events/${index} repeats the event_id of events/${first}`, { index, first });
      }
      seen.set(e.event_id, index);
    });
    const now = new Date();
    const trace = app.traceContext(request);
    const prepared = request.body.events.map((e, i) => withCloudEvent(request, i, prepareEvent(e, now, request.body.correlation_id, trace)));
    const results = await app.committer.publish(prepared);
    reuseStoredDocuments(reply, results, (docs) => `{"events":[${docs}]}`);
    return reply
      .status(results.some((r) => r.created) ? 201 : 200)
      .send({ events: results.map((r) => r.event) });
  });

  app.route({
    method: 'GET',
    url: '/events',
    config: { scope: 'read', tokenInQuery: ['websocket', 'event-stream'] },
    schema: {
      summary: 'Event history, newest first by default, with cursors; upgrades to the live stream, or streams it as Server-Sent Events',
      querystring: HistoryQuery,
      // With `Accept: text/event-stream` the 200 is the stream instead; the OpenAPI document adds that media type.
      response: { 200: HistoryPage, ...errorResponses() },
    },
    // Before the upgrade too, so a bad filter is a 400 rather than an error after the socket opened.
    preHandler: async (request) => {
      request.historyRequest = orBadRequest(() => parseHistoryQuery(request.query));
    },
    handler: async (request, reply) => {
      const history = request.historyRequest as HistoryRequest;
      if (!acceptsEventStream(request.headers.accept)) {
        if (request.query.format === 'cloudevents') {
          throw new HttpError(400, 'validation_error', 'format=cloudevents applies to the live stream; history answers Herald events (docs/cloudevents.md)');
        }
        return readHistory(app.store.events, history);
      }
      app.stream.openEventStream(request, reply);
      return reply;
    },
    // The same path upgrades to the live stream (`GET /events` with `Upgrade: websocket`, docs/websocket.md).
    wsHandler: (socket, request) => app.stream.accept(socket, request),
  });

  app.get('/events/:event_id', {
    config: { scope: 'read' },
    schema: {
      summary: 'One event by id',
      params: EventParams,
      response: { 200: Event, ...errorResponses(404) },
    },
  }, async (request) => {
    const event = await app.store.events.getById(request.params.event_id);
    if (!event || isExpired(event, Date.now())) {
      throw new HttpError(404, 'not_found', `no event ${request.params.event_id}`);
    }
    return event;
  });
};

export default events;
