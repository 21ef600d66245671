/**
 * The server under chaos: one real Herald process at a time on one RocksDB data directory, killed with
 * SIGKILL and started again. Each start is a generation; actors ask for the running one and learn from
 * `ended` whether an error they saw came from a kill (expected) or from a live server (a finding).
 */
import { spawnServer, type ExitInfo, type ServerProcess } from '../helpers/spawn-server.js';

const START_ATTEMPTS = 3;

export interface Generation {
  number: number;
  server: ServerProcess;
  /** Date.now() when the process was spawned. */
  startedAt: number;
  /** Spawn to GET /ready answering 200. */
  readyMs: number;
  /** Set before the signal is sent, so any error the signal causes finds it set. */
  ended?: { at: number; signal: 'SIGKILL' | 'SIGTERM' };
  exit?: ExitInfo;
}

export class ChaosServer {
  readonly generations: Generation[] = [];
  /** Starts that did not reach ready, with the server's output. */
  readonly failedStarts: Array<{ generation: number; attempt: number; error: string }> = [];
  private live: Generation | null = null;
  private waiters: Array<{ resolve: (generation: Generation) => void; reject: (error: Error) => void }> = [];
  private failure: Error | null = null;

  constructor(
    private readonly dataDir: string,
    private readonly env: Record<string, string>,
    private readonly readyTimeoutMs = 60_000,
  ) {}

  /**
   * Starts the next generation. A start that fails is recorded (a finding: the store should always reopen)
   * and tried again, up to START_ATTEMPTS; then it throws with the server's output.
   */
  async start(): Promise<Generation> {
    if (this.live) throw new Error(`generation ${this.live.number} is still running`);
    let startedAt = Date.now();
    let t0 = performance.now();
    let server: ServerProcess | undefined;
    for (let attempt = 1; !server; attempt++) {
      try {
        server = await spawnServer({ dataDir: this.dataDir, env: this.env, retryLocked: true, readyTimeoutMs: this.readyTimeoutMs });
      } catch (err) {
        const message = (err as Error).message;
        this.failedStarts.push({ generation: this.generations.length + 1, attempt, error: message.slice(-2000) });
        if (attempt >= START_ATTEMPTS) throw err;
        startedAt = Date.now();
        t0 = performance.now();
      }
    }
    const generation: Generation = { number: this.generations.length + 1, server, startedAt, readyMs: performance.now() - t0 };
    this.generations.push(generation);
    this.live = generation;
    for (const waiter of this.waiters.splice(0)) waiter.resolve(generation);
    return generation;
  }

  /** The running generation, or the next one once it is ready; rejects once the run has failed. */
  up(): Promise<Generation> {
    if (this.failure) return Promise.reject(this.failure);
    return this.live ? Promise.resolve(this.live) : new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** No generation will come (a restart failed, the run is over): every actor waiting for one stops. */
  fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
  }

  current(): Generation | null {
    return this.live;
  }

  /** kill -9 the running generation and wait until it is gone. */
  kill(): Promise<ExitInfo> {
    return this.end('SIGKILL');
  }

  /** Graceful stop (SIGTERM); the exit should be code 0. */
  stop(): Promise<ExitInfo> {
    return this.end('SIGTERM');
  }

  private async end(signal: 'SIGKILL' | 'SIGTERM'): Promise<ExitInfo> {
    const generation = this.live;
    if (!generation) throw new Error('no generation is running');
    this.live = null;
    generation.ended = { at: Date.now(), signal };
    generation.exit = await generation.server.stop(signal);
    return generation.exit;
  }
}
