import type { FastifyBaseLogger } from 'fastify';
import { isWriteConflict } from '../store/event-repository.js';

const CONFLICT_RETRIES = 20;

/**
 * Write conflicts on the delivery queue in this process: `retried` ones succeeded on a later attempt,
 * `exhausted` ones failed CONFLICT_RETRIES times and were logged as errors. Read by tests.
 */
export const writeConflicts = { retried: 0, exhausted: 0 };

/**
 * Runs a queue write again when RocksDB aborts it for a conflict with another claimer or this worker's own
 * renew/settle: an expected outcome of sharing the queue, so it is counted and logged at debug; only a
 * write that still conflicts after CONFLICT_RETRIES attempts reaches the caller (which logs it as an error).
 */
export async function retryConflicts<T>(log: FastifyBaseLogger, operation: string, write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isWriteConflict(err)) throw err;
      if (attempt >= CONFLICT_RETRIES) {
        writeConflicts.exhausted += 1;
        throw err;
      }
      writeConflicts.retried += 1;
      log.debug({ err, operation, attempt }, 'webhook queue write conflict; retrying');
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
  }
}
