/**
 * Where Prometheus read-back puts what it saw: one byte per (metric, series, tick)
 * (arrivals, saturating at 255), counts and bounded samples of value mismatches and
 * unexpected samples; never one object per point. The sink interface is the one
 * `reconcile/observations.ts`'s ObservationStore already has, so read-back can feed the
 * run's reconciler directly; {@link ReadbackStore} adds duplicate-series accounting.
 *
 * {@link summariseReadback} and {@link missingPoints} are pure.
 */
import { SAMPLE_LIMIT, type PointMismatch, type UnexpectedPoint, type ValueMismatch } from '../../reconcile/observations.ts';
import type { ReadbackSpace } from './space.ts';

/** What read-back writes into; `ObservationStore` from `reconcile/observations.ts` satisfies it. */
export interface ReadbackSink {
  /** One sample placed at (metric, series, tick), with the value it should have and the one it has. */
  add(metricIndex: number, series: number, tick: number, expected: number, actual: number): void;
  /**
   * One point placed at (metric, series, tick) whose parts were checked already (a
   * histogram): `mismatch` is its first differing part, undefined when it matched.
   */
  record(metricIndex: number, series: number, tick: number, mismatch: PointMismatch | undefined): void;
  /** A sample or series that does not belong in the space. */
  addUnexpected(point: UnexpectedPoint): void;
  /** Optional: one returned Prometheus series mapped to (metric, series). */
  seriesSeen?(metricIndex: number, series: number): void;
}

/** Values equal as stored floats; NaN equals NaN (a NaN sent is a NaN read). */
export function sameValue(expected: number, actual: number): boolean {
  return expected === actual || (Number.isNaN(expected) && Number.isNaN(actual));
}

/** Per-point arrival counts for one read-back, with findings counted exactly and sampled. */
export class ReadbackStore implements ReadbackSink {
  readonly seriesCounts: number[];
  readonly ticks: number;
  readonly #counts: Uint8Array[];
  /** 1 where a point was read with a value other than the model's. */
  readonly #wrong: Uint8Array[];
  readonly #seriesHits: Uint8Array[];
  samplesPlaced = 0;
  valueMismatchCount = 0;
  readonly valueMismatches: ValueMismatch[] = [];
  unexpectedCount = 0;
  readonly unexpected: UnexpectedPoint[] = [];
  /** Prometheus series beyond the first that mapped to the same (metric, series). */
  duplicateSeries = 0;

  constructor(seriesCounts: readonly number[], ticks: number) {
    this.seriesCounts = [...seriesCounts];
    this.ticks = ticks;
    this.#counts = seriesCounts.map((n) => new Uint8Array(n * ticks));
    this.#wrong = seriesCounts.map((n) => new Uint8Array(n * ticks));
    this.#seriesHits = seriesCounts.map((n) => new Uint8Array(n));
  }

  /** Points of metric `metricIndex` read at least once. */
  presentPoints(metricIndex: number): number {
    let n = 0;
    for (const c of this.#counts[metricIndex]) if (c > 0) n++;
    return n;
  }

  /** Whether the point was read with a value other than the model's. */
  mismatched(metricIndex: number, series: number, tick: number): boolean {
    return this.#wrong[metricIndex][series * this.ticks + (tick - 1)] === 1;
  }

  /** Times the point was read. */
  count(metricIndex: number, series: number, tick: number): number {
    return this.#counts[metricIndex][series * this.ticks + (tick - 1)];
  }

  add(metricIndex: number, series: number, tick: number, expected: number, actual: number): void {
    const counts = this.#counts[metricIndex];
    const i = series * this.ticks + (tick - 1);
    if (counts[i] < 255) counts[i]++;
    this.samplesPlaced++;
    if (!sameValue(expected, actual)) {
      this.#wrong[metricIndex][i] = 1;
      this.valueMismatchCount++;
      if (this.valueMismatches.length < SAMPLE_LIMIT) this.valueMismatches.push({ metricIndex, series, tick, expected, actual });
    }
  }

  record(metricIndex: number, series: number, tick: number, mismatch: PointMismatch | undefined): void {
    const counts = this.#counts[metricIndex];
    const i = series * this.ticks + (tick - 1);
    if (counts[i] < 255) counts[i]++;
    this.samplesPlaced++;
    if (mismatch !== undefined) {
      this.#wrong[metricIndex][i] = 1;
      this.valueMismatchCount++;
      if (this.valueMismatches.length < SAMPLE_LIMIT) this.valueMismatches.push({ metricIndex, series, tick, ...mismatch });
    }
  }

  addUnexpected(point: UnexpectedPoint): void {
    this.unexpectedCount++;
    if (this.unexpected.length < SAMPLE_LIMIT) this.unexpected.push(point);
  }

  seriesSeen(metricIndex: number, series: number): void {
    const hits = this.#seriesHits[metricIndex];
    if (hits[series] > 0) this.duplicateSeries++;
    if (hits[series] < 255) hits[series]++;
  }
}

/** A missing point: which series (index and labels) and which tick. */
export interface MissingPointRef {
  metricIndex: number;
  series: number;
  tick: number;
}

/** A series with points expected and none read. */
export interface MissingSeriesRef {
  metricIndex: number;
  series: number;
  labels: Record<string, string>;
}

/** What a read-back found. Counts are exact; lists hold at most `SAMPLE_LIMIT` (100) entries. */
export interface ReadbackReport {
  pointsExpected: number;
  /** Expected points read at least once. */
  pointsPresent: number;
  pointsMissing: number;
  lossRatio: number;
  seriesExpected: number;
  /** Series with points expected and none read. */
  seriesMissing: number;
  /** Series read, but with some expected ticks missing. */
  seriesPartial: number;
  valueMismatches: number;
  /** Reads of a point beyond the first (two stored series mapping to one, or a resent sample). */
  duplicatePoints: number;
  duplicateSeries: number;
  /** Read points that were not expected (not sent), plus samples and series outside the space. */
  unexpected: number;
  /** Series of the run matched by `runMatchers` but by no chunk selector (counted, not listed). */
  seriesOutsideSelectors: number;
  /** API requests made, retries included. */
  queries: number;
  samples: {
    missingSeries: MissingSeriesRef[];
    missingPoints: MissingPointRef[];
    valueMismatches: ValueMismatch[];
    unexpected: UnexpectedPoint[];
  };
}

/**
 * Every expected point that was not read, in (metric, series, tick) order. Exact: use it
 * when the report's samples are not enough.
 */
export function* missingPoints(space: ReadbackSpace, store: ReadbackStore): Generator<MissingPointRef> {
  for (let m = 0; m < space.metrics.length; m++) {
    const metric = space.metrics[m];
    for (let s = 0; s < metric.seriesCount; s++) {
      for (let k = 1; k <= space.ticks; k++) {
        if ((metric.expected === undefined || metric.expected(s, k)) && store.count(m, s, k) === 0) yield { metricIndex: m, series: s, tick: k };
      }
    }
  }
}

/**
 * Summarise a store against its space. Pure.
 * @param extra `queries` made, and `seriesOutsideSelectors` counted by the caller.
 */
export function summariseReadback(space: ReadbackSpace, store: ReadbackStore, extra: { queries: number; seriesOutsideSelectors?: number }): ReadbackReport {
  const r: ReadbackReport = {
    pointsExpected: 0, pointsPresent: 0, pointsMissing: 0, lossRatio: 0,
    seriesExpected: 0, seriesMissing: 0, seriesPartial: 0,
    valueMismatches: store.valueMismatchCount, duplicatePoints: 0, duplicateSeries: store.duplicateSeries,
    unexpected: store.unexpectedCount, seriesOutsideSelectors: extra.seriesOutsideSelectors ?? 0, queries: extra.queries,
    samples: { missingSeries: [], missingPoints: [], valueMismatches: [...store.valueMismatches], unexpected: [...store.unexpected] },
  };
  for (let m = 0; m < space.metrics.length; m++) {
    const metric = space.metrics[m];
    for (let s = 0; s < metric.seriesCount; s++) {
      let expectedHere = 0;
      let presentHere = 0;
      for (let k = 1; k <= space.ticks; k++) {
        const n = store.count(m, s, k);
        if (n > 1) r.duplicatePoints += n - 1;
        if (metric.expected !== undefined && !metric.expected(s, k)) {
          if (n > 0) r.unexpected += n;
          continue;
        }
        expectedHere++;
        if (n > 0) presentHere++;
        else if (r.samples.missingPoints.length < SAMPLE_LIMIT) r.samples.missingPoints.push({ metricIndex: m, series: s, tick: k });
      }
      r.pointsExpected += expectedHere;
      r.pointsPresent += presentHere;
      if (expectedHere === 0) continue;
      r.seriesExpected++;
      if (presentHere === 0) {
        r.seriesMissing++;
        if (r.samples.missingSeries.length < SAMPLE_LIMIT) r.samples.missingSeries.push({ metricIndex: m, series: s, labels: metric.seriesLabels(s) });
      } else if (presentHere < expectedHere) r.seriesPartial++;
    }
  }
  r.pointsMissing = r.pointsExpected - r.pointsPresent;
  r.lossRatio = r.pointsExpected === 0 ? 0 : r.pointsMissing / r.pointsExpected;
  return r;
}
