import type { FastifyBaseLogger } from 'fastify';
import type { ValidateFunction } from 'ajv';
import type { Committer } from '../events/committer.js';
import type { EventRepository } from '../store/event-repository.js';
import type { Router } from './router.js';
import type { StreamStats } from './stats.js';

/**
 * What a stream transport is given: shared by the WebSocket's Connection, the Server-Sent Events session and
 * their catch-up, so that neither transport's module is where the other's inputs are defined.
 */

export interface StreamLimits {
  maxBufferBytes: number;
  maxMessageBytes: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  /** Bad messages tolerated per window before the socket is closed with 1008. */
  maxBadMessages: number;
  badMessageWindowMs: number;
  /** Live events held for a socket while one of its subscriptions replays history. */
  maxQueuedEvents: number;
  /** Subscriptions one socket may hold (replacing one by its id does not add one). */
  maxSubscriptions: number;
  /** Client messages (and their bytes) waiting to be handled before the socket is no longer read. */
  maxInboxMessages: number;
  maxInboxBytes: number;
}

export interface StreamContext {
  router: Router;
  repo: EventRepository;
  committer: Committer;
  /** Every event with seq ≤ position has been dispatched to the router. */
  position: () => number;
  /** The lowest seq retention still keeps (cursors below it cannot be resumed without loss). */
  retainedFrom: () => Promise<number>;
  /** By message type; a Map, so names inherited by plain objects (`constructor`, `__proto__`) are unknown types. */
  validators: ReadonlyMap<string, ValidateFunction>;
  limits: StreamLimits;
  stats: StreamStats;
  log: FastifyBaseLogger;
}
