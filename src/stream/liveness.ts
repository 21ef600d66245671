import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { StreamLimits } from './context.js';

/**
 * A WebSocket peer's liveness: pinged every interval, and dropped when neither its pong nor any other frame
 * arrives within the pong timeout, so a vanished client does not hold its subscriptions and buffers.
 */
export class Liveness {
  private readonly pingTimer: NodeJS.Timeout;
  private pongTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly socket: Pick<WebSocket, 'isPaused' | 'ping' | 'terminate'>,
    private readonly limits: Pick<StreamLimits, 'pingIntervalMs' | 'pongTimeoutMs'>,
    private readonly log: FastifyBaseLogger,
    /** Called after the socket is terminated for a missed pong. */
    private readonly onDropped: () => void,
  ) {
    this.pingTimer = setInterval(() => this.ping(), limits.pingIntervalMs);
    this.pingTimer.unref();
  }

  alive(): void {
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
  }

  private ping(): void {
    if (this.stopped || this.pongTimer) return;
    this.pongTimer = setTimeout(() => {
      this.pongTimer = null;
      // A paused socket is not read, so its pong may be waiting unread behind our own backlog: the server,
      // not the peer, is behind, and what the peer can make us hold meanwhile is bounded by the inbox limits.
      if (this.socket.isPaused) return;
      this.log.info('websocket peer missed its pong; dropping it');
      this.socket.terminate();
      this.onDropped();
    }, this.limits.pongTimeoutMs);
    this.pongTimer.unref();
    this.socket.ping();
  }
}
