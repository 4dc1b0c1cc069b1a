/**
 * What a read-back saw, per (metric, series, tick): how many times each data point
 * arrived (saturating at 255), and how many arrived with a value other than the one
 * derived from the seed. One byte per point.
 *
 * Pure: collectors feed it decoded points; the reconciler reads it.
 */

/** A point the store could not place in the run's series space. */
export interface UnexpectedPoint {
  metric: string;
  reason: 'unknown_metric' | 'foreign_attributes' | 'off_tick' | 'tick_out_of_range' | 'wrong_temporality';
  detail: string;
}

/** A point that arrived with the wrong value. */
export interface ValueMismatch {
  metricIndex: number;
  series: number;
  tick: number;
  expected: number;
  actual: number;
}

/** Samples kept of each finding list; the counts are always exact. */
export const SAMPLE_LIMIT = 100;

/** Observations of one run's metric data points. */
export class ObservationStore {
  readonly seriesCounts: number[];
  readonly ticks: number;
  readonly #counts: Uint8Array[];
  pointsReceived = 0;
  valueMismatchCount = 0;
  readonly valueMismatches: ValueMismatch[] = [];
  unexpectedCount = 0;
  readonly unexpected: UnexpectedPoint[] = [];
  /** Points whose resource named another run (`tally.run.id`): ignored, but counted. */
  foreignRunPoints = 0;

  constructor(seriesCounts: number[], ticks: number) {
    this.seriesCounts = seriesCounts;
    this.ticks = ticks;
    this.#counts = seriesCounts.map((n) => new Uint8Array(n * ticks));
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

  /** Record a point that does not belong in the series space. */
  addUnexpected(point: UnexpectedPoint): void {
    this.unexpectedCount++;
    this.pointsReceived++;
    if (this.unexpected.length < SAMPLE_LIMIT) this.unexpected.push(point);
  }
}
