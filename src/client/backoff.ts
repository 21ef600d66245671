export interface ReconnectOptions {
  /** Ceiling of the first retry's delay (default 500 ms); each failed attempt doubles it. */
  initialDelayMs?: number;
  /** Largest ceiling (default 30 s). */
  maxDelayMs?: number;
  /** Consecutive failed attempts before giving up; absent = retry forever (the default). */
  maxAttempts?: number;
}

/**
 * "Full jitter" (AWS architecture blog): a uniform delay between 0 and the exponential ceiling, so clients
 * dropped together by one server restart do not come back together.
 */
export function retryDelay(attempt: number, options: ReconnectOptions): number {
  const initial = options.initialDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const ceiling = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
  return Math.random() * ceiling;
}
