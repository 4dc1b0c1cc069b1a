/**
 * What a read-back saw, per (metric, series slot, tick): how many times each data point
 * arrived (saturating at 255), and how many arrived with a value other than the one
 * derived from the seed. One byte per point, whatever the instrument: a histogram point
 * is checked field by field before it is recorded, and only its first differing field is
 * kept as a sample. With series churn a slot holds exactly one live identity per tick, so
 * (slot, tick) still names one expected point.
 *
 * Pure: collectors feed it decoded points (see embedded/otlp-place.ts); the reconciler
 * reads it.
 */

/**
 * Why a point could not be placed in the run's series space:
 * - `unknown_metric`: no metric of that name in the scenario;
 * - `wrong_instrument`: the OTLP kind (or Sum monotonicity) differs from the instrument;
 * - `wrong_temporality`: the aggregation temporality differs;
 * - `foreign_attributes`: attributes are not of the metric's layout (or lack/misspell `tally.generation`);
 * - `off_tick`, `tick_out_of_range`: time_unix_nano is not a tick of the run;
 * - `wrong_generation`: a churned series identity that is not the one live at that tick;
 * - `bad_start_time`: start_time_unix_nano is not the identity's start (cumulative, gauge)
 *   or the previous tick (delta).
 */
export type UnexpectedReason =
  | 'unknown_metric' | 'wrong_instrument' | 'wrong_temporality' | 'foreign_attributes' | 'off_tick' | 'tick_out_of_range'
  | 'wrong_generation' | 'bad_start_time';

/** A point the store could not place in the run's series space. */
export interface UnexpectedPoint {
  metric: string;
  reason: UnexpectedReason;
  detail: string;
}

/** The first field of a placed point that differs from the model. */
export interface PointMismatch {
  /** `value`, `valueType`, `count`, `sum`, `min`, `max`, `bucketCounts[3]`, `exemplars[0].traceId`, … */
  field: string;
  expected: number | string;
  actual: number | string;
}

/** A point that arrived with the wrong value. `field` is absent for a Sum value (the original form). */
export interface ValueMismatch {
  metricIndex: number;
  series: number;
  tick: number;
  expected: number | string;
  actual: number | string;
  field?: string;
}

/** Samples kept of each finding list; the counts are always exact. */
export const SAMPLE_LIMIT = 100;

/**
 * Per-point arrival counts in memory another thread can share (one SharedArrayBuffer per
 * metric): the embedded receiver fills them on its own thread, the reconciler reads them
 * on the main thread, without a copy.
 */
export function sharedPointCounts(seriesCounts: readonly number[], ticks: number): Uint8Array[] {
  return seriesCounts.map((n) => new Uint8Array(new SharedArrayBuffer(n * ticks)));
}

/** Everything an {@link ObservationStore} holds besides its per-point counts (structured-clone safe). */
export interface ObservationTotals {
  pointsReceived: number;
  valueMismatchCount: number;
  valueMismatches: ValueMismatch[];
  unexpectedCount: number;
  unexpected: UnexpectedPoint[];
  foreignRunPoints: number;
  exemplarsReceived: number;
  exemplarsNamingOtherTraces: number;
}

/** Observations of one run's metric data points. */
export class ObservationStore {
  readonly seriesCounts: number[];
  readonly ticks: number;
  readonly #counts: Uint8Array[];
  pointsReceived = 0;
  valueMismatchCount = 0;
  valueMismatches: ValueMismatch[] = [];
  unexpectedCount = 0;
  unexpected: UnexpectedPoint[] = [];
  /** Points whose resource named another run (`tally.run.id`): ignored, but counted. */
  foreignRunPoints = 0;
  /** Exemplars on recorded points. */
  exemplarsReceived = 0;
  /** Exemplars whose trace id is not one of the run's generated traces (only counted after {@link trackExemplarTraces}). */
  exemplarsNamingOtherTraces = 0;
  #exemplarRunIdHex = '';
  #exemplarShardCount = 1;
  /** One byte per generated trace sequence: 1 once an exemplar named it. */
  #exemplarTraces: Uint8Array | undefined;

  /**
   * @param counts per-metric arrival counts to use (e.g. {@link sharedPointCounts}, so that
   * two threads see the same points); default new, private ones.
   */
  constructor(seriesCounts: number[], ticks: number, counts?: Uint8Array[]) {
    this.seriesCounts = seriesCounts;
    this.ticks = ticks;
    if (counts !== undefined && (counts.length !== seriesCounts.length || counts.some((c, m) => c.length !== seriesCounts[m] * ticks))) {
      throw new RangeError('counts do not match the series space');
    }
    this.#counts = counts ?? seriesCounts.map((n) => new Uint8Array(n * ticks));
  }

  /** The per-metric arrival counts (shared with another thread when built over {@link sharedPointCounts}). */
  get pointCounts(): readonly Uint8Array[] {
    return this.#counts;
  }

  /** The exemplar-trace marks, when tracked (shareable as the counts are). */
  get exemplarTraceMarks(): Uint8Array | undefined {
    return this.#exemplarTraces;
  }

  /** Everything but the counts, as plain data. */
  totals(): ObservationTotals {
    return {
      pointsReceived: this.pointsReceived, valueMismatchCount: this.valueMismatchCount, valueMismatches: [...this.valueMismatches],
      unexpectedCount: this.unexpectedCount, unexpected: [...this.unexpected], foreignRunPoints: this.foreignRunPoints,
      exemplarsReceived: this.exemplarsReceived, exemplarsNamingOtherTraces: this.exemplarsNamingOtherTraces,
    };
  }

  /** Take the totals another store (over the same counts, on another thread) collected. */
  adoptTotals(t: ObservationTotals): void {
    this.pointsReceived = t.pointsReceived;
    this.valueMismatchCount = t.valueMismatchCount;
    this.valueMismatches = [...t.valueMismatches];
    this.unexpectedCount = t.unexpectedCount;
    this.unexpected = [...t.unexpected];
    this.foreignRunPoints = t.foreignRunPoints;
    this.exemplarsReceived = t.exemplarsReceived;
    this.exemplarsNamingOtherTraces = t.exemplarsNamingOtherTraces;
  }

  /** Forget every arrival (counts, totals, samples, exemplar marks): for a read-back taken again from scratch. */
  clear(): void {
    for (const c of this.#counts) c.fill(0);
    this.#exemplarTraces?.fill(0);
    this.adoptTotals({ pointsReceived: 0, valueMismatchCount: 0, valueMismatches: [], unexpectedCount: 0, unexpected: [], foreignRunPoints: 0, exemplarsReceived: 0, exemplarsNamingOtherTraces: 0 });
  }

  /** Times the point arrived. */
  count(metricIndex: number, series: number, tick: number): number {
    return this.#counts[metricIndex][series * this.ticks + (tick - 1)];
  }

  /** Record one arrival of a placed point and check its value. */
  add(metricIndex: number, series: number, tick: number, expected: number, actual: number): void {
    const i = series * this.ticks + (tick - 1);
    const counts = this.#counts[metricIndex];
    if (counts[i] < 255) counts[i]++;
    this.pointsReceived++;
    if (expected !== actual) {
      this.valueMismatchCount++;
      if (this.valueMismatches.length < SAMPLE_LIMIT) this.valueMismatches.push({ metricIndex, series, tick, expected, actual });
    }
  }

  /**
   * Record one arrival of a placed point already checked against the model.
   * @param mismatch its first differing field, or undefined when it matched.
   */
  record(metricIndex: number, series: number, tick: number, mismatch: PointMismatch | undefined): void {
    const i = series * this.ticks + (tick - 1);
    const counts = this.#counts[metricIndex];
    if (counts[i] < 255) counts[i]++;
    this.pointsReceived++;
    if (mismatch !== undefined) {
      this.valueMismatchCount++;
      if (this.valueMismatches.length < SAMPLE_LIMIT) this.valueMismatches.push({ metricIndex, series, tick, ...mismatch });
    }
  }

  /**
   * Note which generated traces exemplars name: trace ids (run id hex · shard · sequence,
   * core/trace-model.ts) with this run prefix, a sequence below `traceCount` and the
   * shard that sends it (`sequence mod shardCount`).
   * @param runIdHex trace id bytes 0–7 of the run (16 hex).
   * @param marks the marks to use (shared with another thread), one byte per trace; default new ones.
   */
  trackExemplarTraces(runIdHex: string, traceCount: number, shardCount: number, marks?: Uint8Array): void {
    this.#exemplarRunIdHex = runIdHex.toLowerCase();
    this.#exemplarShardCount = shardCount;
    this.#exemplarTraces = marks ?? new Uint8Array(traceCount);
  }

  /** Record the trace id (hex, as received) of an exemplar on a recorded point. */
  recordExemplar(traceId: string): void {
    this.exemplarsReceived++;
    const traces = this.#exemplarTraces;
    if (traces === undefined) return;
    const id = traceId.toLowerCase();
    const seq = id.length === 32 && id.startsWith(this.#exemplarRunIdHex) ? Number.parseInt(id.slice(20), 16) : Number.NaN;
    const shard = Number.parseInt(id.slice(16, 20), 16);
    if (Number.isInteger(seq) && seq >= 0 && seq < traces.length && shard === seq % this.#exemplarShardCount) traces[seq] = 1;
    else this.exemplarsNamingOtherTraces++;
  }

  /** Sequences of the generated traces that exemplars named, ascending (empty unless tracked). */
  exemplarTraceSequences(): number[] {
    const out: number[] = [];
    const traces = this.#exemplarTraces;
    if (traces !== undefined) for (let seq = 0; seq < traces.length; seq++) if (traces[seq] === 1) out.push(seq);
    return out;
  }

  /** Record a point that does not belong in the series space. */
  addUnexpected(point: UnexpectedPoint): void {
    this.unexpectedCount++;
    this.pointsReceived++;
    if (this.unexpected.length < SAMPLE_LIMIT) this.unexpected.push(point);
  }
}
