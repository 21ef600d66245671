import type { SettledDelivery } from './engine-deps.js';

/** Who is told of each settled delivery (the metrics, tests and the bench wait on these, never on sleeps). */
export class SettledListeners {
  private readonly listeners = new Set<(settled: SettledDelivery) => void>();

  /** Adds a listener; returns its removal. */
  on(listener: (settled: SettledDelivery) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(settled: SettledDelivery): void {
    for (const listener of this.listeners) listener(settled);
  }
}
