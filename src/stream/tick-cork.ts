import type { Duplex } from 'node:stream';

/**
 * Holds a socket's writes until the end of the current tick, then hands them to the kernel at once. A commit's
 * events, or a replay page, are offered to a socket in one synchronous run, so this makes one write system
 * call of them instead of one per frame (what Node's own HTTP responses do). At 1000 events/s to 100 sockets
 * that halved fan-out latency (docs/BENCHMARKS.md, fan-out).
 */
export class TickCork {
  private corked = false;

  constructor(
    private readonly socket: Pick<Duplex, 'cork' | 'uncork'>,
    /** Called after each flush: what the kernel did not take is the socket's real backlog. */
    private readonly flushed: () => void,
  ) {}

  hold(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
      this.flushed();
    });
  }
}
