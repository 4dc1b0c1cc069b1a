/**
 * The embedded target's added latency (`embedded.target.latency`): a seeded draw per
 * request, in arrival order, from the same distributions as the receiver's
 * `faults.latency` (fixed, uniform in [min, max], exponential with a mean capped at max).
 * A stand-in for a slower system under test, e.g. to check that `tally compare` finds a
 * latency regression.
 */
import { unitFloat } from '../core/rng.ts';
import type { LatencyFault } from '../scenarios/types.ts';

const SALT_TARGET_LATENCY = 0x7a26e7;

/** The delay (ms) of one draw `u` in [0, 1) from a latency distribution. */
export function latencyMsOf(l: LatencyFault, u: number): number {
  switch (l.distribution) {
    case 'fixed':
      return l.ms;
    case 'uniform':
      return l.minMs + u * (l.maxMs - l.minMs);
    case 'exponential':
      return Math.min(l.maxMs, -Math.log(1 - u) * l.meanMs);
  }
}

/**
 * A delay source for the target: the k-th call returns the delay of the k-th request,
 * a pure function of (seed, k).
 */
export function targetDelays(seed: number, latency: LatencyFault): () => number {
  let k = 0;
  return () => latencyMsOf(latency, unitFloat(seed, SALT_TARGET_LATENCY, k++));
}
