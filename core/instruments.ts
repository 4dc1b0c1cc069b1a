/**
 * The metrics data model for every instrument and temporality: each data point's value,
 * start time, exemplar and series identity as a pure function of (seed, metric, series,
 * tick). The generator encodes these; the receiver and the reconciler recompute them.
 *
 * Conventions (shared with core/series.ts and instruments-churn.ts):
 * - Ticks count from 1; tick k is stamped `start + k · interval`.
 * - A series identity (slot, generation) is born at tick b (0 = run start, or the churn
 *   boundary that created it); its local tick at tick k is j = k − b ≥ 1.
 * - Start time: cumulative and gauge points carry time(b), the identity's start;
 *   delta points carry time(k − 1), the previous tick (OTLP data model).
 * - Counter (monotonic Sum, as_int): cumulative j · inc, delta inc; inc in [1, 100].
 * - Up-down counter (non-monotonic Sum, as_int): U(j) = d · j + w(j) with d in [−20, 20]
 *   per identity and w(j) in [−50, 50] per tick (w(0) = 0); cumulative U(j), delta the
 *   signed change c(j) = U(j) − U(j − 1), so the cumulative value is exactly Σ c.
 * - Gauge (as_double): slot · 2^20 + k. Exact in a double while slot < 2^33 and k < 2^20,
 *   so one sample names its series and tick ({@link decodeGaugeValue}).
 * - Histograms: see instruments-histogram.ts; cumulative = j · per-tick shape.
 * - Exemplars: decided per identity (ratio of identities, from the seed), one per point,
 *   so an encoded batch keeps its layout from tick to tick. When the run generates traces,
 *   each names a generated trace due in the point's interval ({@link ExemplarTraceLink}).
 *
 * @see README.md "How it measures" (Determinism: everything is derived from the seed)
 * @see https://opentelemetry.io/docs/specs/otel/metrics/data-model/
 */
import { ConfigError, InternalError, type InputProblem } from './errors.ts';
import { HASH32_INIT, hash32, mix32 } from './rng.ts';
import { counterIncrement } from './series.ts';
import { churnBirthTick, churnGeneration, churnPlan, type ChurnOptions, type ChurnPlan } from './instruments-churn.ts';
import {
  DEFAULT_EXPONENTIAL_MAX_SIZE, DEFAULT_EXPONENTIAL_SCALE, DEFAULT_HISTOGRAM_BOUNDS, explicitBucketValues,
} from './instruments-histogram.ts';

export * from './instruments-churn.ts';
export * from './instruments-histogram.ts';

/** OTLP instrument kinds tally generates. */
export const INSTRUMENTS = ['counter', 'up-down-counter', 'gauge', 'histogram', 'exponential-histogram'] as const;
export type Instrument = (typeof INSTRUMENTS)[number];

/** OTLP aggregation temporality. A gauge has none. */
export type Temporality = 'delta' | 'cumulative';

/** Exemplar options: the share of series identities whose points carry one exemplar. */
export interface ExemplarOptions {
  ratio: number;
}

/** One metric's instrument options, as the scenario gives them (see metrics.schema-fragment.json). */
export interface InstrumentOptions {
  instrument: Instrument;
  /** Required for every instrument but `gauge`, which must leave it unset. */
  temporality?: Temporality;
  /** Explicit bucket upper bounds, strictly increasing (histogram only). */
  buckets?: number[];
  /** Exponential histogram scale, 0..20 (exponential-histogram only). */
  scale?: number;
  /** Populated positive buckets per exponential point, 1..160 (exponential-histogram only). */
  maxSize?: number;
  exemplars?: ExemplarOptions;
  churn?: ChurnOptions;
}

/** The derived model of one metric; build with {@link metricModel}. */
export interface MetricModel {
  seed: number;
  metricIndex: number;
  seriesCount: number;
  instrument: Instrument;
  /** Undefined for a gauge. */
  temporality: Temporality | undefined;
  /** Explicit bounds and their representative values (histogram), else empty. */
  bounds: number[];
  bucketValues: number[];
  scale: number;
  maxSize: number;
  /** Share of identities with exemplars, 0 when none. */
  exemplarRatio: number;
  /** The generated traces exemplars name; absent when the run generates none ({@link linkExemplarTraces}). */
  exemplarTraces?: ExemplarTraceLink;
  churn: ChurnPlan | undefined;
}

/**
 * The run's generated traces, as exemplars need them: trace `seq` (0 ≤ seq < traceCount)
 * is due at `start + seq / ratePerSecond` and sent by shard `seq mod shardCount`
 * (core/trace-model.ts).
 */
export interface ExemplarTraceLink {
  /** Traces the run generates: sequences [0, traceCount). */
  traceCount: number;
  /** Trace shards; trace `seq` carries shard `seq mod shardCount` in its id. */
  shardCount: number;
  /** Traces due per export interval: `ratePerSecond · exportIntervalMs / 1000` (fractional). */
  tracesPerTick: number;
}

/**
 * A model whose exemplars name the run's generated traces (the planner calls this when
 * `telemetry.traces` is set and the run has at least one trace).
 * @throws InternalError `TALLY_INTERNAL` when the link is not a positive trace count,
 *   shard count and rate (a planner bug).
 */
export function linkExemplarTraces(model: MetricModel, link: ExemplarTraceLink): MetricModel {
  if (!(Number.isSafeInteger(link.traceCount) && link.traceCount >= 1 && Number.isInteger(link.shardCount) && link.shardCount >= 1
    && link.tracesPerTick > 0 && Number.isFinite(link.tracesPerTick))) {
    throw new InternalError('exemplar trace link: traceCount, shardCount and tracesPerTick must be positive', { details: { ...link } });
  }
  return { ...model, exemplarTraces: { ...link } };
}

/** Attribute that names a churned series' generation (string decimal), present only on churned metrics. */
export const GENERATION_ATTRIBUTE = 'tally.generation';
/** Gauge value = slot · GAUGE_SLOT_STRIDE + tick. */
export const GAUGE_SLOT_STRIDE = 2 ** 20;

/**
 * Check instrument options and derive a metric's model.
 * @param seriesCount cardinality (product of attribute value counts), ≥ 1.
 * @throws ConfigError `TALLY_CONFIG_INVALID` listing every problem, pointers relative to
 *   the metric entry (`/temporality`, `/buckets`, `/scale`, `/maxSize`, `/exemplars/ratio`, `/churn/…`).
 */
export function metricModel(seed: number, metricIndex: number, seriesCount: number, options: InstrumentOptions): MetricModel {
  const problems = optionProblems(options);
  if (problems.length > 0) throw new ConfigError(`invalid options for a ${options.instrument} metric`, problems);
  const isHistogram = options.instrument === 'histogram';
  const bounds = isHistogram ? [...(options.buckets ?? DEFAULT_HISTOGRAM_BOUNDS)] : [];
  return {
    seed,
    metricIndex,
    seriesCount,
    instrument: options.instrument,
    temporality: options.instrument === 'gauge' ? undefined : options.temporality,
    bounds,
    bucketValues: isHistogram ? explicitBucketValues(bounds) : [],
    scale: options.scale ?? DEFAULT_EXPONENTIAL_SCALE,
    maxSize: options.maxSize ?? DEFAULT_EXPONENTIAL_MAX_SIZE,
    exemplarRatio: options.exemplars?.ratio ?? 0,
    churn: options.churn === undefined ? undefined : churnPlan(seed, metricIndex, seriesCount, options.churn),
  };
}

function optionProblems(o: InstrumentOptions): InputProblem[] {
  const problems: InputProblem[] = [];
  if (!(INSTRUMENTS as readonly string[]).includes(o.instrument)) problems.push({ pointer: '/instrument', message: `must be one of ${INSTRUMENTS.join(', ')}` });
  if (o.instrument === 'gauge' && o.temporality !== undefined) problems.push({ pointer: '/temporality', message: 'a gauge has no temporality; leave it unset' });
  if (o.instrument !== 'gauge' && o.temporality !== 'delta' && o.temporality !== 'cumulative') problems.push({ pointer: '/temporality', message: 'must be delta or cumulative' });
  if (o.buckets !== undefined) {
    if (o.instrument !== 'histogram') problems.push({ pointer: '/buckets', message: 'only a histogram has explicit buckets' });
    else if (o.buckets.length === 0 || o.buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= o.buckets![i - 1]))) {
      problems.push({ pointer: '/buckets', message: 'must be a non-empty list of strictly increasing finite bounds' });
    }
  }
  if (o.scale !== undefined && (o.instrument !== 'exponential-histogram' || !Number.isInteger(o.scale) || o.scale < 0 || o.scale > 20)) {
    problems.push({ pointer: '/scale', message: 'an exponential-histogram scale is an integer in 0..20' });
  }
  if (o.maxSize !== undefined && (o.instrument !== 'exponential-histogram' || !Number.isInteger(o.maxSize) || o.maxSize < 1 || o.maxSize > 160)) {
    problems.push({ pointer: '/maxSize', message: 'an exponential-histogram maxSize is an integer in 1..160' });
  }
  if (o.exemplars !== undefined && !(o.exemplars.ratio >= 0 && o.exemplars.ratio <= 1)) problems.push({ pointer: '/exemplars/ratio', message: 'must be in [0, 1]' });
  return problems;
}

/** A series identity: the slot (index in the attribute space) and its generation. */
export interface SeriesIdentity {
  slot: number;
  generation: number;
  /** Tick whose time is the identity's start time (0 = run start). */
  birthTick: number;
}

/** Generation of `slot` at tick k: 0 without churn. */
export function generationAt(model: MetricModel, slot: number, tick: number): number {
  return model.churn === undefined ? 0 : churnGeneration(model.churn, slot, tick);
}

/** Birth tick of generation g of `slot` (0 for generation 0). */
export function birthTickOf(model: MetricModel, slot: number, generation: number): number {
  return model.churn === undefined || generation === 0 ? 0 : churnBirthTick(model.churn, slot, generation);
}

/** The identity live in `slot` at tick k. Every slot always has exactly one live identity. */
export function identityAt(model: MetricModel, slot: number, tick: number): SeriesIdentity {
  const generation = generationAt(model, slot, tick);
  return { slot, generation, birthTick: birthTickOf(model, slot, generation) };
}

/**
 * Tick whose time is the start_time_unix_nano of the point of an identity born at
 * `birthTick`, at tick k: the birth tick (cumulative, gauge) or k − 1 (delta).
 */
export function startTickOf(model: MetricModel, birthTick: number, tick: number): number {
  return model.temporality === 'delta' ? tick - 1 : birthTick;
}

/** Per-tick increment of a counter identity, in [1, 100]; generation 0 keeps core/series.ts's inc(i). */
export function counterIncrementOf(model: MetricModel, slot: number, generation: number): number {
  return generation === 0 ? counterIncrement(model.seed, model.metricIndex, slot) : 1 + (hash32(model.seed, model.metricIndex, slot, generation, 0x1c) % 100);
}

/** Up-down counter drift d of an identity, in [−20, 20]. */
export function upDownDrift(model: MetricModel, slot: number, generation: number): number {
  return (hash32(model.seed, model.metricIndex, slot, generation, 0xd0) % 41) - 20;
}

/** Up-down counter wobble w(j) in [−50, 50]; w(0) = 0. Allocation-free (hot path). */
export function upDownWobble(model: MetricModel, slot: number, generation: number, localTick: number): number {
  if (localTick <= 0) return 0;
  const h = mix32(mix32(mix32(mix32(mix32(mix32(HASH32_INIT, model.seed), model.metricIndex), slot), generation), localTick), 0xd1);
  return (h % 101) - 50;
}

/** Up-down counter cumulative value U(j) = d · j + w(j). */
export function upDownCumulative(model: MetricModel, slot: number, generation: number, localTick: number): number {
  return upDownDrift(model, slot, generation) * localTick + upDownWobble(model, slot, generation, localTick);
}

/**
 * Value of a Sum point (counter or up-down counter) of identity (slot, generation) at local
 * tick j ≥ 1, in the metric's temporality.
 */
export function sumValue(model: MetricModel, slot: number, generation: number, localTick: number): number {
  if (model.instrument === 'counter') {
    const inc = counterIncrementOf(model, slot, generation);
    return model.temporality === 'delta' ? inc : inc * localTick;
  }
  const now = upDownCumulative(model, slot, generation, localTick);
  return model.temporality === 'delta' ? now - upDownCumulative(model, slot, generation, localTick - 1) : now;
}

/** Gauge value of `slot` at tick k: slot · 2^20 + k. */
export function gaugeValue(slot: number, tick: number): number {
  return slot * GAUGE_SLOT_STRIDE + tick;
}

/** Inverse of {@link gaugeValue}; `null` when the value is not a gauge encoding. */
export function decodeGaugeValue(value: number): { slot: number; tick: number } | null {
  if (!Number.isSafeInteger(value) || value < 0) return null;
  return { slot: Math.floor(value / GAUGE_SLOT_STRIDE), tick: value % GAUGE_SLOT_STRIDE };
}

/** Multiplier of a per-tick shape at local tick j: j when cumulative, 1 when delta. */
export function shapeFactor(model: MetricModel, localTick: number): number {
  return model.temporality === 'cumulative' ? localTick : 1;
}

export {
  deltaAccumulation, exemplarAt, exemplarPick, exemplarSequenceHigh, exemplarSequenceLow, exemplarTraceWindow, exemplarTimeUnixNano, exemplarValue, hasExemplar, liveSeries,
  seriesLifecycle, seriesSlotOf,
} from './instruments-series.ts';
export type { DeltaAccumulation, ExemplarPoint, SeriesEnd, SeriesLifecycle, SeriesStart } from './instruments-series.ts';
