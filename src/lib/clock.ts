/** Wall-clock time in epoch ms. Injectable so retry timing is tested without waiting (buildApp's `clock`). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
