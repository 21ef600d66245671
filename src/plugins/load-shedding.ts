import fp from 'fastify-plugin';
import underPressure from '@fastify/under-pressure';
import { HttpError } from '../lib/http-error.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A health or readiness probe: never shed or rate limited, so orchestrators see the truth under load. */
    probe?: boolean;
  }
}

const SAMPLE_INTERVAL_MS = 1000;
/**
 * The first samples cover start-up (compiling schemas, opening the store and replaying its log), during which
 * the event loop can be blocked for seconds; they describe start-up, not load, so event-loop delay counts
 * only from two samples after the app is ready.
 */
export const SHED_WARM_UP_MS = 2 * SAMPLE_INTERVAL_MS;
/** Seconds a shed client is told to wait: the pressure is measured again every second. */
export const SHED_RETRY_AFTER_S = 5;

const symptom = {
  eventLoopDelay: (ms: number) => `the event loop is ${Math.round(ms)} ms behind`,
  heapUsedBytes: (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB of heap are in use`,
} as Record<string, (value: number) => string>;

/**
 * Answers 503 with Retry-After, before any other work, while the process is overloaded (@fastify/under-pressure
 * samples event-loop delay and heap once a second). Probes keep answering.
 */
export default fp(
  async (app) => {
    const { maxEventLoopDelayMs, maxHeapUsedBytes } = app.config.shedding;
    let readyAt: number | undefined;
    app.addHook('onReady', async () => {
      readyAt = app.clock.now();
    });
    const warmingUp = () => readyAt === undefined || app.clock.now() - readyAt < SHED_WARM_UP_MS;
    await app.register(underPressure, {
      sampleInterval: SAMPLE_INTERVAL_MS,
      maxEventLoopDelay: maxEventLoopDelayMs,
      maxHeapUsedBytes,
      pressureHandler: async (request, reply, type, value) => {
        if (request.routeOptions.config.probe) return;
        let [reason, measured] = [type, value ?? 0];
        // No finite value means no measurement at all: one task held the loop across the whole second.
        if (type === 'eventLoopDelay' && (warmingUp() || !Number.isFinite(measured))) {
          // under-pressure stops at the first check that trips, so the heap check is left to us.
          const { heapUsed } = app.memoryUsage();
          if (maxHeapUsedBytes === 0 || heapUsed <= maxHeapUsedBytes) return;
          [reason, measured] = ['heapUsedBytes', heapUsed];
        }
        reply.header('retry-after', SHED_RETRY_AFTER_S);
        const why = symptom[reason]?.(measured) ?? reason;
        throw new HttpError(503, 'overloaded', `Herald is overloaded (${why}); retry after ${SHED_RETRY_AFTER_S} s`, { reason });
      },
    });
  },
  { name: 'load-shedding', dependencies: ['config', 'errors'] },
);
