/**
 * How a delivery loop waits: `sleep` ends early on `wake`, and a `wake` that comes while the loop is busy
 * makes its next `sleep` return at once, so no wake-up is lost.
 */
export class WakeSignal {
  private woken = false;
  private wakeUp: (() => void) | null = null;

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  async sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
    });
    this.woken = false;
  }
}

/**
 * Waits until a loop's attempts in flight have ended; after `graceMs` it aborts the rest (each records a
 * failed attempt). Every attempt that ends must wake `signal`.
 */
export async function drainInFlight(signal: WakeSignal, inFlight: () => number, abort: AbortController, graceMs: number): Promise<void> {
  if (inFlight() === 0) return;
  const timer = setTimeout(() => abort.abort(), graceMs);
  while (inFlight() > 0) await signal.sleep(graceMs);
  clearTimeout(timer);
}
