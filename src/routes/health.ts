import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health, Ready } from '../schemas/health.js';
import { newestSeq } from '../store/event-history.js';
import { HERALD_VERSION as version } from '../lib/version.js';

const health: FastifyPluginAsyncTypebox = async (app) => {
  const started = Date.now();
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  const report = async () => {
    const up = await app.store.ping();
    const lastSeq = up ? await newestSeq(app.store.events).catch(() => null) : null;
    return {
      status: up ? ('ok' as const) : ('degraded' as const),
      version,
      uptime_s: Math.round((Date.now() - started) / 1000),
      store: { status: up ? ('up' as const) : ('down' as const), engine: app.config.db.url.split(':')[0] ?? 'unknown' },
      last_seq: lastSeq,
    };
  };
  const schema = { summary: 'Liveness and store status (the original browser page polls /api/health)', response: { 200: Health, 503: Health } };
  for (const url of ['/health', '/api/health']) {
    app.get(url, { schema, logLevel: 'warn' }, async (_request, reply) => {
      const body = await report();
      return reply.status(body.status === 'ok' ? 200 : 503).send(body);
    });
  }

  app.get('/ready', {
    logLevel: 'warn',
    schema: { summary: 'Readiness: 503 until the store answers, and while shutting down', response: { 200: Ready, 503: Ready } },
  }, async (_request, reply) => {
    if (closing) return reply.status(503).send({ ready: false, reason: 'shutting down' });
    if (!(await app.store.ping())) return reply.status(503).send({ ready: false, reason: 'store not answering' });
    return { ready: true };
  });
};

export default health;
