/**
 * Seeded randomness for the chaos suite. Every actor (a publisher, a resumer, the killer, a receiver) draws
 * from its own stream derived from the run's seed and the actor's name, so a replayed seed makes the same
 * decisions per actor even though the actors interleave differently from run to run.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** FNV-1a of the text: a 32-bit seed per actor name. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** mulberry32: small, fast and good enough to schedule chaos (not for anything secret). */
export function rngFor(seed: number, actor: string): Rng {
  let state = hash(`${seed}:${actor}`);
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
  };
}

/** A seed for a run that was not given one. */
export const freshSeed = (): number => Math.floor(Math.random() * 2 ** 31);
