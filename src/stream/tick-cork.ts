import type { Duplex } from 'node:stream';

/**
 * Holds a socket's writes until the end of the current tick, then hands them to the kernel at once. A commit's
 * events, or a replay page, are offered to a socket in one synchronous run, so this makes one write system
 * call of them instead of one per frame (what Node's own HTTP responses do). At 1000 events/s to 100 sockets
 * that halved fan-out latency (docs/BENCHMARKS.md, fan-out).
 *
 * The owner releases early once a burst is large (`release`): a socket's buffered bytes are judged after
 * each release, and Node counts a held burst as unsent until the kernel took all of it, so a burst must stay
 * small against the slow-consumer limit, and a fast reader must not be taken for a slow one.
 */
/** The most a socket's frames of one tick are held before they go out: small against HERALD_WS_MAX_BUFFER. */
export const CORK_MAX_BYTES = 64 * 1024;

export class TickCork {
  private corked = false;

  constructor(
    private readonly socket: Pick<Duplex, 'cork' | 'uncork'>,
    /** Called after each release: the socket's backlog can be judged again. */
    private readonly released: () => void,
  ) {}

  hold(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    // After an early release and a new hold in the same tick, whichever of the pending calls runs first
    // releases at the tick's end; the others find nothing held.
    process.nextTick(() => this.release());
  }

  /** Hands what is held to the kernel now. */
  release(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
    this.released();
  }
}
