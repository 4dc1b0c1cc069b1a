/**
 * Series churn (avalanche-style): every `everyTicks` ticks, a fixed share of a metric's
 * series slots end their identity and begin a new one (the next generation).
 *
 * Which slots rotate is a seeded affine permutation of the slots walked as a ring: the
 * boundary after epoch e (tick e·N) rotates ring positions [(e-1)·R, e·R) mod C, where
 * C is the cardinality and R = round(ratio · C). So exactly R identities end and R begin
 * at every boundary, spread over the attribute space, and a slot's generation at any tick
 * is a closed form (no per-tick state), which the receiver and reconciler recompute.
 *
 * Tick conventions (shared with instruments.ts): ticks count from 1 and tick k is stamped
 * `start + k · interval`. An identity is "born" at a tick b (0 = run start) whose time is its
 * start time; its first point is at b + 1. A rotated identity's last point is at the
 * boundary tick e·N, and its successor is born at that same tick.
 *
 * @see https://github.com/prometheus-community/avalanche (series-change-interval churn)
 */
import { ConfigError } from './errors.ts';
import { hash32 } from './rng.ts';

/** Churn options as the scenario gives them. */
export interface ChurnOptions {
  /** Share of the series that rotate at every boundary, in [0, 1]. */
  ratio: number;
  /** Ticks between boundaries (an epoch), ≥ 1. */
  everyTicks: number;
}

/** The derived churn of one metric. */
export interface ChurnPlan {
  everyTicks: number;
  /** Identities that rotate at every boundary: round(ratio · seriesCount). */
  perBoundary: number;
  seriesCount: number;
  /** Affine permutation slot → ring position: (multiplier · slot + offset) mod seriesCount. */
  multiplier: number;
  offset: number;
  /** Modular inverse of `multiplier` (mod seriesCount). */
  inverse: number;
}

// Primes below 2^20, so multiplier · slot stays exact in a double for slots below 2^33.
const MULTIPLIERS = [1_000_003, 999_983, 524_287, 131_071, 65_537, 8_191, 7_919, 104_729];

/**
 * Derive a metric's churn plan.
 * @throws ConfigError `TALLY_CONFIG_INVALID` (pointers relative to the metric entry) when
 *   `ratio` is outside [0, 1] or `everyTicks` is not an integer ≥ 1.
 */
export function churnPlan(seed: number, metricIndex: number, seriesCount: number, churn: ChurnOptions): ChurnPlan {
  const problems = [];
  if (!(churn.ratio >= 0 && churn.ratio <= 1)) problems.push({ pointer: '/churn/ratio', message: 'must be a number in [0, 1]' });
  if (!Number.isInteger(churn.everyTicks) || churn.everyTicks < 1) problems.push({ pointer: '/churn/everyTicks', message: 'must be an integer ≥ 1' });
  if (problems.length > 0) throw new ConfigError('invalid churn options', problems);
  const pick = hash32(seed, metricIndex, 0xc4a2);
  let multiplier = 1;
  for (let i = 0; i < MULTIPLIERS.length; i++) {
    const candidate = MULTIPLIERS[(pick + i) % MULTIPLIERS.length] % seriesCount;
    if (candidate > 0 && gcd(candidate, seriesCount) === 1) {
      multiplier = candidate;
      break;
    }
  }
  return {
    everyTicks: churn.everyTicks,
    perBoundary: Math.min(seriesCount, Math.round(churn.ratio * seriesCount)),
    seriesCount,
    multiplier,
    offset: hash32(seed, metricIndex, 0xc4a3) % seriesCount,
    inverse: modInverse(multiplier, seriesCount),
  };
}

/** Ring position of a slot. */
export function churnPosition(plan: ChurnPlan, slot: number): number {
  return (plan.multiplier * slot + plan.offset) % plan.seriesCount;
}

/** Slot at a ring position (inverse of {@link churnPosition}). */
export function churnSlotAt(plan: ChurnPlan, position: number): number {
  const c = BigInt(plan.seriesCount);
  const shifted = (BigInt(position) - BigInt(plan.offset) + c) % c;
  return Number((BigInt(plan.inverse) * shifted) % c);
}

/** Boundaries passed by tick k: epoch index floor((k-1)/N), 0 before the first rotation. */
export function churnEpoch(plan: ChurnPlan, tick: number): number {
  return tick < 1 ? 0 : Math.floor((tick - 1) / plan.everyTicks);
}

/** Generation of `slot` at tick k (0 = the run's original identity). */
export function churnGeneration(plan: ChurnPlan, slot: number, tick: number): number {
  const covered = churnEpoch(plan, tick) * plan.perBoundary;
  const p = churnPosition(plan, slot);
  return covered > p ? Math.floor((covered - 1 - p) / plan.seriesCount) + 1 : 0;
}

/** Tick at which generation g of `slot` was born (its start time); 0 for generation 0. */
export function churnBirthTick(plan: ChurnPlan, slot: number, generation: number): number {
  if (generation === 0) return 0;
  const p = churnPosition(plan, slot);
  const epoch = Math.floor((p + (generation - 1) * plan.seriesCount) / plan.perBoundary) + 1;
  return epoch * plan.everyTicks;
}

/**
 * Slots whose identity ends at boundary tick `tick` (= e·N, e ≥ 1) and whose next
 * generation is born there; empty when `tick` is not a boundary.
 * @returns slot indices in ring order.
 */
export function churnRotatedAt(plan: ChurnPlan, tick: number): number[] {
  if (plan.perBoundary === 0 || tick < plan.everyTicks || tick % plan.everyTicks !== 0) return [];
  const epoch = tick / plan.everyTicks;
  const out = new Array<number>(plan.perBoundary);
  const first = (epoch - 1) * plan.perBoundary;
  for (let j = 0; j < plan.perBoundary; j++) out[j] = churnSlotAt(plan, (first + j) % plan.seriesCount);
  return out;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function modInverse(a: number, m: number): number {
  if (m === 1) return 0;
  let [oldR, r] = [BigInt(a), BigInt(m)];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  const mm = BigInt(m);
  return Number(((oldS % mm) + mm) % mm);
}
