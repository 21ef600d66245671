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
