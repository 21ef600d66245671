/** What the inbox needs of a socket: ws's pause and resume of reading. */
export interface Pausable {
  readonly isPaused: boolean;
  pause(): void;
  resume(): void;
}

export interface InboxLimits {
  maxMessages: number;
  maxBytes: number;
}

/**
 * A socket's incoming work, run one task at a time in arrival order (so a subscribe is in place before a
 * following unsubscribe). A client that sends faster than its messages are handled is no longer read once
 * `maxMessages` tasks or `maxBytes` bytes wait: what it sends next stays in the TCP buffers and then in its
 * own send buffer rather than in server memory. Reading resumes when the inbox is below both bounds again.
 */
export class Inbox {
  private tail: Promise<void> = Promise.resolve();
  private messages = 0;
  private bytes = 0;

  constructor(
    private readonly socket: Pausable,
    private readonly limits: InboxLimits,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs `task` after every task pushed before it; `bytes` is what the message holds in memory meanwhile. */
  push(bytes: number, task: () => Promise<void>): void {
    this.messages += 1;
    this.bytes += bytes;
    if (this.full()) this.socket.pause();
    this.tail = this.tail
      .then(task)
      .catch(this.onError)
      .finally(() => {
        this.messages -= 1;
        this.bytes -= bytes;
        if (this.socket.isPaused && !this.full()) this.socket.resume();
      });
  }

  private full(): boolean {
    return this.messages >= this.limits.maxMessages || this.bytes >= this.limits.maxBytes;
  }
}
