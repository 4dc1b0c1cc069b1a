/**
 * Series identities over a run (churn enumeration, attribute parsing), exemplars, and
 * the delta-accumulation check the reconciler runs. Pure; re-exported by instruments.ts.
 *
 * @see ./instruments.ts for the conventions (ticks, birth ticks, values).
 */
import { InternalError } from './errors.ts';
import { HASH32_INIT, hash32, mix32 } from './rng.ts';
import type { SeriesLayout } from './series.ts';
import { churnRotatedAt } from './instruments-churn.ts';
import { exponentialShape, histogramShape } from './instruments-histogram.ts';
import {
  birthTickOf, counterIncrementOf, gaugeValue, GENERATION_ATTRIBUTE, generationAt, upDownCumulative,
  type ExemplarTraceLink, type MetricModel, type SeriesIdentity,
} from './instruments.ts';

/** An identity that begins during the run: first point at `firstTick` = birthTick + 1. */
export interface SeriesStart {
  slot: number;
  generation: number;
  birthTick: number;
  firstTick: number;
}

/** An identity that ends during the run by rotation: its last point is at `lastTick`. */
export interface SeriesEnd {
  slot: number;
  generation: number;
  lastTick: number;
}

/** Every identity start and end of a metric over ticks 1..ticks. */
export interface SeriesLifecycle {
  starts: SeriesStart[];
  ends: SeriesEnd[];
}

/**
 * Enumerate the exact identity starts and ends of a metric over ticks 1..ticks: every
 * generation-0 identity starts at tick 1; at each churn boundary t < ticks the rotated
 * slots' identities end (last point t) and their successors start (first point t + 1).
 * O(cardinality + rotations).
 */
export function seriesLifecycle(model: MetricModel, ticks: number): SeriesLifecycle {
  const starts: SeriesStart[] = [];
  const ends: SeriesEnd[] = [];
  for (let slot = 0; slot < model.seriesCount; slot++) starts.push({ slot, generation: 0, birthTick: 0, firstTick: 1 });
  const plan = model.churn;
  if (plan === undefined || plan.perBoundary === 0) return { starts, ends };
  for (let t = plan.everyTicks; t < ticks; t += plan.everyTicks) {
    for (const slot of churnRotatedAt(plan, t)) {
      const generation = generationAt(model, slot, t + 1);
      ends.push({ slot, generation: generation - 1, lastTick: t });
      starts.push({ slot, generation, birthTick: t, firstTick: t + 1 });
    }
  }
  return { starts, ends };
}

/** The identities live at tick k, one per slot, in slot order. O(cardinality). */
export function liveSeries(model: MetricModel, tick: number): SeriesIdentity[] {
  const out = new Array<SeriesIdentity>(model.seriesCount);
  for (let slot = 0; slot < model.seriesCount; slot++) {
    const generation = generationAt(model, slot, tick);
    out[slot] = { slot, generation, birthTick: birthTickOf(model, slot, generation) };
  }
  return out;
}

/**
 * Place attributes in a metric's series space: the layout's keys with `<key>-<digit>`
 * values and, when `churned`, a {@link GENERATION_ATTRIBUTE} decimal string; nothing else.
 * @returns slot and generation, or `null` for foreign attributes (missing, extra or
 *   malformed key or value).
 */
export function seriesSlotOf(layout: SeriesLayout, attributes: Record<string, unknown>, churned: boolean): { slot: number; generation: number } | null {
  let slot = 0;
  for (let j = 0; j < layout.keys.length; j++) {
    const key = layout.keys[j];
    const value = attributes[key];
    if (typeof value !== 'string' || !value.startsWith(key) || value.charCodeAt(key.length) !== 45 /* - */) return null;
    const digit = decimalOf(value, key.length + 1);
    if (digit < 0 || digit >= layout.counts[j]) return null;
    slot = slot * layout.counts[j] + digit;
  }
  let generation = 0;
  if (churned) {
    const text = attributes[GENERATION_ATTRIBUTE];
    if (typeof text !== 'string') return null;
    generation = decimalOf(text, 0);
    if (generation < 0) return null;
  }
  let keyCount = 0;
  for (const _ in attributes) keyCount++;
  return keyCount === layout.keys.length + (churned ? 1 : 0) ? { slot, generation } : null;
}

/** Canonical non-negative decimal at text[from..], or −1. */
function decimalOf(text: string, from: number): number {
  if (from >= text.length || text.length - from > 15 || (text.charCodeAt(from) === 48 && text.length - from > 1)) return -1;
  let n = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** True when the points of identity (slot, generation) carry an exemplar (ratio of identities, seeded). */
export function hasExemplar(model: MetricModel, slot: number, generation: number): boolean {
  return model.exemplarRatio > 0 && hash32(model.seed, model.metricIndex, slot, generation, 0xe1) / 0x1_0000_0000 < model.exemplarRatio;
}

/** The exemplar of a point: which trace it names and its measurement. */
export interface ExemplarPoint {
  /**
   * Shard part (2 bytes) of the exemplar's trace id: `traceSequence mod shardCount` when
   * the run generates traces, else 0.
   */
  traceShard: number;
  /**
   * Sequence part (6 bytes) of the trace id. With generated traces, a trace due in the
   * point's interval (see {@link exemplarTraceWindow}); without, a hash with the top bit of
   * the 48 set (≥ 2^47), which no generated trace uses. The trace id is
   * (run id hex · traceShard · traceSequence) and the span id that trace's root span's,
   * both by core/trace-model.ts.
   */
  traceSequence: number;
  /** The measurement, as_double: the per-tick change of a Sum, the gauge value, a histogram's max. */
  value: number;
}

/**
 * The generated traces an exemplar at tick k may name: those due in the tick's interval,
 * sequences [⌈(k−1)·r⌉, ⌈k·r⌉) with r traces per tick, cut at the trace count. When no
 * trace is due in it (a slow trace rate, or the traces ended), any trace of the run.
 * @returns the window as [first, first + count); count ≥ 1.
 */
export function exemplarTraceWindow(link: ExemplarTraceLink, tick: number): { first: number; count: number } {
  const first = Math.ceil((tick - 1) * link.tracesPerTick - 1e-9);
  const end = Math.min(Math.ceil(tick * link.tracesPerTick - 1e-9), link.traceCount);
  return end > first ? { first, count: end - first } : { first: 0, count: link.traceCount };
}

/** The seeded draw that picks an exemplar's trace inside its window. Hot-path form. */
export function exemplarPick(model: MetricModel, slot: number, tick: number): number {
  return mix32(mix32(mix32(mix32(mix32(HASH32_INIT, model.seed), model.metricIndex), slot), tick), 0xe4);
}

/** High 15 bits (above 2^32) of an unlinked exemplar trace sequence, before the marker bit. Hot-path form. */
export function exemplarSequenceHigh(model: MetricModel, slot: number, tick: number): number {
  return mix32(mix32(mix32(mix32(mix32(HASH32_INIT, model.seed), model.metricIndex), slot), tick), 0xe2) & 0x7fff;
}

/** Low 32 bits of an unlinked exemplar trace sequence. Hot-path form. */
export function exemplarSequenceLow(model: MetricModel, slot: number, tick: number): number {
  return mix32(mix32(mix32(mix32(mix32(HASH32_INIT, model.seed), model.metricIndex), slot), tick), 0xe3);
}

/** Exemplar time: the middle of the tick's interval, `time(k) − floor(interval / 2)`. */
export function exemplarTimeUnixNano(startUnixNano: bigint, intervalNs: bigint, tick: number): bigint {
  return startUnixNano + BigInt(tick) * intervalNs - intervalNs / 2n;
}

/**
 * The exemplar of identity (slot, generation) at tick k, or `null` when its points carry none.
 * @throws InternalError `TALLY_INTERNAL` when tick precedes the identity's first point.
 */
export function exemplarAt(model: MetricModel, identity: SeriesIdentity, tick: number): ExemplarPoint | null {
  const { slot, generation, birthTick } = identity;
  if (!hasExemplar(model, slot, generation)) return null;
  const j = tick - birthTick;
  if (j < 1) throw new InternalError(`tick ${tick} precedes the first point of slot ${slot} generation ${generation}`);
  const value = exemplarValue(model, slot, generation, j, tick);
  const link = model.exemplarTraces;
  if (link === undefined) {
    return { traceShard: 0, traceSequence: 2 ** 47 + exemplarSequenceHigh(model, slot, tick) * 0x1_0000_0000 + exemplarSequenceLow(model, slot, tick), value };
  }
  const window = exemplarTraceWindow(link, tick);
  const traceSequence = window.first + (exemplarPick(model, slot, tick) % window.count);
  return { traceShard: traceSequence % link.shardCount, traceSequence, value };
}

/** The measurement an exemplar carries; see {@link ExemplarPoint.value}. */
export function exemplarValue(model: MetricModel, slot: number, generation: number, localTick: number, tick: number): number {
  switch (model.instrument) {
    case 'counter':
      return counterIncrementOf(model, slot, generation);
    case 'up-down-counter':
      return upDownCumulative(model, slot, generation, localTick) - upDownCumulative(model, slot, generation, localTick - 1);
    case 'gauge':
      return gaugeValue(slot, tick);
    case 'histogram':
      return histogramShape(model.seed, model.metricIndex, slot, generation, model.bucketValues).max;
    case 'exponential-histogram':
      return exponentialShape(model.seed, model.metricIndex, slot, generation, model.scale, model.maxSize).max;
  }
}

/** The reconciler's view of one delta identity: what its points should sum to and what arrived. */
export interface DeltaAccumulation {
  firstTick: number;
  /** Last tick considered: the identity's last point or `throughTick`, whichever is first. */
  lastTick: number;
  /** Cumulative value at lastTick: the counter/up-down sum, or the histogram count. */
  expected: number;
  /** Σ of the delta values of the ticks that arrived. */
  observed: number;
  /** expected − observed: the lasting offset a consumer summing the deltas carries. */
  offset: number;
  missingTicks: number;
}

/**
 * For a delta identity: the running sum a consumer that accumulates its deltas should
 * hold at `throughTick`, against the one it holds given which ticks arrived. A lost
 * delta point leaves a lasting offset; a lost cumulative point only a gap.
 * The scalar is the Sum value (counter, up-down counter) or the point count (histograms).
 * @param arrived whether the point at a tick (within the identity's life) arrived.
 * @throws InternalError `TALLY_INTERNAL` for a gauge or a cumulative metric.
 */
export function deltaAccumulation(model: MetricModel, identity: SeriesIdentity, throughTick: number, arrived: (tick: number) => boolean): DeltaAccumulation {
  if (model.temporality !== 'delta') throw new InternalError(`deltaAccumulation needs a delta metric, got ${model.instrument}/${model.temporality ?? 'none'}`);
  const { slot, generation, birthTick } = identity;
  const plan = model.churn;
  const end = plan === undefined || plan.perBoundary === 0 ? throughTick : birthTickOf(model, slot, generation + 1);
  const firstTick = birthTick + 1;
  const lastTick = Math.min(throughTick, end);
  const perTick = deltaScalar(model, slot, generation);
  let observed = 0;
  let missingTicks = 0;
  for (let k = firstTick; k <= lastTick; k++) {
    if (arrived(k)) observed += perTick(k - birthTick);
    else missingTicks++;
  }
  const span = Math.max(0, lastTick - birthTick);
  const expected = model.instrument === 'up-down-counter' ? upDownCumulative(model, slot, generation, span) : span === 0 ? 0 : perTick(1) * span;
  return { firstTick, lastTick, expected, observed, offset: expected - observed, missingTicks };
}

function deltaScalar(model: MetricModel, slot: number, generation: number): (localTick: number) => number {
  switch (model.instrument) {
    case 'counter': {
      const inc = counterIncrementOf(model, slot, generation);
      return () => inc;
    }
    case 'up-down-counter':
      return (j) => upDownCumulative(model, slot, generation, j) - upDownCumulative(model, slot, generation, j - 1);
    case 'histogram': {
      const { count } = histogramShape(model.seed, model.metricIndex, slot, generation, model.bucketValues);
      return () => count;
    }
    case 'exponential-histogram': {
      const { count } = exponentialShape(model.seed, model.metricIndex, slot, generation, model.scale, model.maxSize);
      return () => count;
    }
    case 'gauge':
      throw new InternalError('a gauge has no temporality');
  }
}
