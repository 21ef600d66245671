/**
 * The ceiling: a bare Fastify 5 app that does everything Herald's POST /events does at the HTTP layer —
 * parse JSON, validate the same TypeBox EventInput schema with the same strict Ajv setup as
 * src/plugins/errors.ts — and then nothing: it replies 201 `{}`. `POST /events/batch` does the same with the
 * BatchInput schema, the ceiling of the batch endpoint. `GET /noop` is the no-op read ceiling for
 * the history bench; `GET /ready` lets the bench wait for it. Run as a child: PORT=… node --import tsx bench/ceiling-server.ts
 */
import Fastify from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { httpValidatorCompiler } from '../src/lib/validation.js';
import { BatchInput, EventInput } from '../src/schemas/event.js';

const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
// The same validator compiler as Herald's (src/lib/validation.ts).
app.setValidatorCompiler(httpValidatorCompiler());

app.post('/events', { schema: { body: EventInput } }, async (_request, reply) => reply.status(201).send({}));
// Herald's batch body limit is larger than Fastify's 1 MiB default; the ceiling must accept what Herald does.
app.post('/events/batch', { schema: { body: BatchInput }, bodyLimit: 16 * 1024 * 1024 }, async (_request, reply) => reply.status(201).send({}));
app.get('/noop', async () => ({}));
app.get('/ready', async () => ({ ready: true }));

const stop = () => {
  void app.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
