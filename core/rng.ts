/**
 * Seeded, deterministic randomness. Everything tally generates or decides at random
 * derives from the scenario seed through these functions, so a checker can regenerate
 * what was sent instead of storing it.
 */

/**
 * A 32-bit integer hash of several inputs: each input is folded in and mixed with the
 * lowbias32 finaliser (Chris Wellons' hash-prospector), which avalanches well and needs
 * no BigInt. Used for every seeded decision (values, fault draws), so a checker can
 * recompute any of them from the same inputs.
 * @param values unsigned 32-bit integers (callers pass seed, indices, ticks).
 * @returns an unsigned 32-bit hash.
 */
export function hash32(...values: number[]): number {
  let h = HASH32_INIT;
  for (const v of values) h = mix32(h, v);
  return h;
}

/** Initial state of {@link hash32}'s fold: `mix32(mix32(HASH32_INIT, a), b) === hash32(a, b)`. */
export const HASH32_INIT = 0x9e3779b9;

/**
 * One step of {@link hash32}'s fold, for hot loops: chaining it from {@link HASH32_INIT}
 * over the same inputs gives exactly `hash32(...)` without the rest-parameter array.
 * @param state the previous step's result (or {@link HASH32_INIT}).
 * @param value an unsigned 32-bit input.
 * @returns an unsigned 32-bit hash.
 */
export function mix32(state: number, value: number): number {
  let h = Math.imul(state ^ (value >>> 0), 0x85ebca6b) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) derived from the inputs. */
export function unitFloat(...values: number[]): number {
  return hash32(...values) / 0x1_0000_0000;
}

/** A seeded PRNG (mulberry32): fast, 32-bit state, deterministic for a given seed. */
export interface Rng {
  /** Next uniform float in [0, 1). */
  next(): number;
  /** Next integer in [0, n). */
  int(n: number): number;
}

/** Create a seeded PRNG. */
export function createRng(seed: number): Rng {
  let state = hash32(seed) | 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}
