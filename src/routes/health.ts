import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../schemas/common.js';
import { readiness } from '../lib/readiness.js';
import { Health, Live, Ready, ReadyDetail } from '../schemas/health.js';
import { version } from '../lib/version.js';

const health: FastifyPluginAsyncTypebox = async (app) => {
  const started = Date.now();
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  const report = async () => {
    const up = await app.store.ping();
    // The committed counter, not the newest segment: this route is unauthenticated, and seqs are dense.
    const lastSeq = up ? await app.store.events.seqUpperBound().catch(() => null) : null;
    return {
      status: up ? ('ok' as const) : ('degraded' as const),
      version,
      uptime_s: Math.round((Date.now() - started) / 1000),
      store: { status: up ? ('up' as const) : ('down' as const), engine: app.config.db.url.split(':')[0] ?? 'unknown' },
      last_seq: lastSeq,
    };
  };
  const schema = { summary: 'Liveness and store status (the original browser page polls /api/health)', response: { ...errorResponses(), 200: Health, 503: Health } };
  for (const url of ['/health', '/api/health']) {
    app.get(url, { schema, logLevel: 'warn', config: { probe: true } }, async (_request, reply) => {
      const body = await report();
      return reply.status(body.status === 'ok' ? 200 : 503).send(body);
    });
  }

  app.get('/ready', {
    logLevel: 'warn',
    config: { probe: true },
    schema: { summary: 'Readiness: 503 until the store answers, and while shutting down', response: { ...errorResponses(), 200: Ready, 503: Ready } },
  }, async (_request, reply) => {
    if (closing) return reply.status(503).send({ ready: false, reason: 'shutting down' });
    if (!(await app.store.ping())) return reply.status(503).send({ ready: false, reason: 'store not answering' });
    return { ready: true };
  });

  app.get('/livez', {
    logLevel: 'warn',
    config: { probe: true },
    schema: { summary: 'Liveness: the process answers HTTP (the store is not asked)', response: { ...errorResponses(), 200: Live } },
  }, async () => ({ live: true as const }));

  app.get('/readyz', {
    logLevel: 'warn',
    config: { probe: true },
    schema: {
      summary: 'Readiness: the store answers and the live feed has caught up with it; 503 with a reason otherwise, and while shutting down',
      response: { ...errorResponses(), 200: ReadyDetail, 503: ReadyDetail },
    },
  }, async (_request, reply) => {
    const storeUp = !closing && (await app.store.ping());
    const counter = storeUp ? await app.store.events.seqUpperBound().catch(() => null) : null;
    const feedLag = counter === null ? undefined : Math.max(0, counter - app.stream.feed.position);
    const verdict = readiness({ closing, storeUp: counter !== null, feedLag: feedLag ?? 0 });
    return reply.status(verdict.ready ? 200 : 503).send({ ...verdict, ...(feedLag !== undefined && { feed_lag: feedLag }) });
  });
};

export default health;
