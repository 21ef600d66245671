import fp from 'fastify-plugin';
import underPressure from '@fastify/under-pressure';
import { HttpError } from '../lib/http-error.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A health or readiness probe: never shed or rate limited, so orchestrators see the truth under load. */
    probe?: boolean;
  }
}

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
    await app.register(underPressure, {
      maxEventLoopDelay: maxEventLoopDelayMs,
      maxHeapUsedBytes,
      pressureHandler: async (request, reply, type, value) => {
        if (request.routeOptions.config.probe) return;
        reply.header('retry-after', SHED_RETRY_AFTER_S);
        const why = symptom[type]?.(value ?? 0) ?? type;
        throw new HttpError(503, 'overloaded', `Herald is overloaded (${why}); retry after ${SHED_RETRY_AFTER_S} s`, { reason: type });
      },
    });
  },
  { name: 'load-shedding', dependencies: ['config', 'errors'] },
);
