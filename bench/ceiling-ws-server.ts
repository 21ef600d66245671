/**
 * The fan-out ceiling: a bare Fastify 5 + @fastify/websocket app with Herald's HTTP in and frames out and
 * nothing between. `POST /events` parses and validates the same TypeBox EventInput with the same strict Ajv
 * setup as bench/ceiling-server.ts (src/plugins/errors.ts), fills the defaults with Herald's prepareEvent,
 * gives it a fake seq, serializes it once and sends that text with `ws` to every socket of `GET /events`
 * whose `?types=` names the event's type (all sockets when there is no `types`), then replies 201
 * `{event}`. No store, no LIVE query, no backpressure policy. `GET /ready` lets the bench wait for it.
 * Run as a child: PORT=… node --import tsx bench/ceiling-ws-server.ts
 */
import Fastify from 'fastify';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { httpValidatorCompiler } from '../src/lib/validation.js';
import { EventInput } from '../src/schemas/event.js';
import { prepareEvent } from '../src/events/prepare.js';
import { serverEventId } from '../src/store/event-ids.js';

const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
// The same validator compiler as Herald's (src/lib/validation.ts).
app.setValidatorCompiler(httpValidatorCompiler());
await app.register(websocket, { options: { maxPayload: 4 * 1024 * 1024 } });

interface Subscriber {
  socket: WebSocket;
  types: Set<string> | null;
}
const subscribers = new Set<Subscriber>();
let seq = 0;

app.get('/events', { websocket: true }, (socket, request) => {
  const types = (request.query as { types?: string }).types;
  const sub: Subscriber = { socket, types: types ? new Set(types.split(',')) : null };
  subscribers.add(sub);
  socket.on('close', () => subscribers.delete(sub));
  socket.on('error', () => subscribers.delete(sub));
});

app.post('/events', { schema: { body: EventInput } }, async (request, reply) => {
  const prepared = prepareEvent(request.body, new Date());
  seq += 1;
  const event = { ...prepared, seq, event_id: prepared.event_id ?? serverEventId(seq, Date.now()) };
  const frame = JSON.stringify(event);
  for (const sub of subscribers) {
    if (sub.types && !sub.types.has(event.event_type)) continue;
    if (sub.socket.readyState === sub.socket.OPEN) sub.socket.send(frame);
  }
  return reply.status(201).send({ event });
});
app.get('/ready', async () => ({ ready: true }));

const stop = () => {
  for (const sub of subscribers) sub.socket.terminate();
  void app.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
