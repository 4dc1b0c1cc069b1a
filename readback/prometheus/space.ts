/**
 * The expected series space of a run as Prometheus read-back sees it: per metric, its
 * Prometheus name, the label selectors that cover its series in bounded chunks, the map
 * from a returned label set back to a series index, and the expected value of every
 * (series, tick). Ticks are 1..T, stamped `startMs + k · intervalMs`.
 *
 * Pure.
 */
import { seriesAttributes, seriesIndexOf, type SeriesLayout } from '../../core/series.ts';
import { InternalError } from '../../core/errors.ts';
import type { HistogramReadback } from './histograms.ts';
import { expectedSeries, prometheusLabelName, type OtlpMetricShape, type OtlpResourceShape, type TranslateOptions, type UnsupportedMetric } from '../../wire/prometheus-translate.ts';

/** One metric of the read-back space. */
export interface ReadbackMetric {
  /** `__name__`, e.g. `tally_requests_total`. */
  name: string;
  seriesCount: number;
  /**
   * Label matchers (PromQL, without braces and without `__name__`) selecting every series of
   * this metric in the run, e.g. `job="tally",run="r1"`; used to count stray series.
   */
  runMatchers: string;
  /**
   * Chunks: label matchers whose selections are disjoint and together cover the metric's
   * series, each small enough that one query's reply stays bounded.
   */
  selectors: readonly string[];
  /** The series each selector covers, `[first, end)` (contiguous: the first attribute is the most significant digit). */
  selectorSeries?: readonly (readonly [number, number])[];
  /**
   * Series index of a returned label set (`__name__` ignored), or -1 when it is not of this
   * run. Labels a storing path adds (see {@link LayoutMetricOptions.optionalLabels}) are
   * accepted when they have the value the series must have.
   */
  seriesIndexOf(labels: Readonly<Record<string, string>>): number;
  /** The optional (path) labels a returned label set carries, by name. */
  optionalLabelsOf(labels: Readonly<Record<string, string>>): string[];
  /** The labels (without `__name__`) of series `index`, for reports. */
  seriesLabels(index: number): Record<string, string>;
  /** The value the point (series, tick) must have. */
  expectedValue(series: number, tick: number): number;
  /** Whether the point was sent (default: every point); unsent points are not expected to be visible. */
  expected?(series: number, tick: number): boolean;
  /**
   * Set for a histogram metric: `name` is then the family (classic: `<name>_count`,
   * `_sum`, `_bucket{le}` are read; native: `<name>` holds native samples), and every part
   * of a point is checked (`expectedValue` gives its count).
   */
  histogram?: HistogramReadback;
}

/** The whole space: metrics × series × ticks. */
export interface ReadbackSpace {
  metrics: readonly ReadbackMetric[];
  /** Ticks per series, numbered 1..ticks. */
  ticks: number;
  /** Tick k is stamped `startMs + k · intervalMs` (ms since the epoch). */
  startMs: number;
  intervalMs: number;
}

/** Timestamp of tick `k`, in ms since the epoch. */
export function tickMs(space: ReadbackSpace, tick: number): number {
  return space.startMs + tick * space.intervalMs;
}

/** A PromQL string literal (double-quoted, with `\` and `"` and newlines escaped). */
export function promqlString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

/** RE2 escape for a literal inside a `=~` matcher. */
function re2Literal(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** Options for {@link layoutMetric}. */
export interface LayoutMetricOptions {
  /** `__name__` of the metric. */
  name: string;
  /** Attribute layout of the series (core/series.ts): key order and value counts. */
  layout: SeriesLayout;
  /** Label name of each attribute key (from translate.ts `prometheusLabelName`); default: the key itself. */
  labelNames?: Readonly<Record<string, string>>;
  /** Labels every series of the run carries besides its attributes (job, instance, promoted resource attributes). */
  commonLabels: Readonly<Record<string, string>>;
  /** Largest number of series one selector may match (≥ 1). */
  maxSeriesPerSelector: number;
  expectedValue(series: number, tick: number): number;
  expected?(series: number, tick: number): boolean;
  /**
   * Labels a storing path may add besides the common and attribute labels, each with the
   * value series `index` must then carry: e.g. the collector's prometheusremotewrite
   * exporter with `resource_to_telemetry_conversion` turns every resource attribute into a
   * label (`tally_shard`, `service_name`) and adds the scope (`otel_scope_name`,
   * `otel_scope_version`). A label not listed here, or with another value, makes the series
   * foreign.
   */
  optionalLabels?: Readonly<Record<string, (series: number) => string>>;
  histogram?: HistogramReadback;
}

/**
 * A {@link ReadbackMetric} for a metric whose series are the mixed-radix attribute
 * layout of `core/series.ts`. Chunks fix the leading attributes: the shortest prefix
 * whose combinations each hold at most `maxSeriesPerSelector` series, with values of the
 * last fixed attribute grouped into one regex where several fit.
 * @throws InternalError `TALLY_INTERNAL` when a label name is missing or collides, or
 * `maxSeriesPerSelector` < 1.
 */
export function layoutMetric(options: LayoutMetricOptions): ReadbackMetric {
  const { layout, commonLabels, name } = options;
  if (!(options.maxSeriesPerSelector >= 1)) throw new InternalError('maxSeriesPerSelector must be at least 1');
  const labelOf = layout.keys.map((k) => options.labelNames?.[k] ?? k);
  const used = new Set(Object.keys(commonLabels));
  for (const label of labelOf) {
    if (used.has(label) || label === '__name__') throw new InternalError(`label ${label} appears twice in the read-back layout of ${name}`);
    used.add(label);
  }
  const commonKeys = Object.keys(commonLabels).sort();
  const runMatchers = commonKeys.map((k) => `${k}=${promqlString(commonLabels[k])}`).join(',');
  const labelCount = commonKeys.length + labelOf.length;
  const optional = options.optionalLabels ?? {};
  const optionalCount = Object.keys(optional).filter((k) => !used.has(k)).length;

  const { selectors, ranges } = chunkSelectors(layout, labelOf, options.maxSeriesPerSelector, runMatchers);
  return {
    name,
    seriesCount: layout.seriesCount,
    runMatchers,
    selectors,
    selectorSeries: ranges,
    seriesIndexOf(labels) {
      let count = 0;
      for (const key in labels) {
        if (key === '__name__') continue;
        count++;
        if (count > labelCount + optionalCount) return -1;
      }
      if (count < labelCount) return -1;
      for (const k of commonKeys) if (labels[k] !== commonLabels[k]) return -1;
      const attributes: Record<string, string> = {};
      for (let j = 0; j < labelOf.length; j++) attributes[layout.keys[j]] = labels[labelOf[j]];
      const index = seriesIndexOf(layout, attributes);
      if (index < 0 || count === labelCount) return index;
      for (const key in labels) {
        if (key === '__name__' || used.has(key)) continue;
        const value = optional[key];
        if (value === undefined || labels[key] !== value(index)) return -1;
      }
      return index;
    },
    optionalLabelsOf(labels) {
      return Object.keys(labels).filter((key) => key !== '__name__' && !used.has(key) && optional[key] !== undefined);
    },
    seriesLabels(index) {
      const attributes = seriesAttributes(layout, index);
      const out: Record<string, string> = { ...commonLabels };
      for (let j = 0; j < labelOf.length; j++) out[labelOf[j]] = attributes[layout.keys[j]];
      return out;
    },
    expectedValue: options.expectedValue,
    expected: options.expected,
    ...(options.histogram === undefined ? {} : { histogram: options.histogram }),
  };
}

function chunkSelectors(layout: SeriesLayout, labelOf: string[], maxSeries: number, runMatchers: string): { selectors: string[]; ranges: [number, number][] } {
  const join = (parts: string[]) => [runMatchers, ...parts].filter((p) => p !== '').join(',');
  if (layout.seriesCount <= maxSeries || layout.keys.length === 0) return { selectors: [join([])], ranges: [[0, layout.seriesCount]] };
  // Fix keys 0..p-1: per combination, seriesCount / prod(counts[0..p)) series.
  let p = 0;
  let perCombination = layout.seriesCount;
  while (perCombination > maxSeries && p < layout.keys.length) {
    perCombination /= layout.counts[p];
    p++;
  }
  const last = p - 1;
  const groupSize = Math.max(1, Math.floor(maxSeries / perCombination));
  const out: string[] = [];
  const ranges: [number, number][] = [];
  const prefixCount = layout.counts.slice(0, last).reduce((a, b) => a * b, 1);
  const digits = new Array<number>(last).fill(0);
  for (let c = 0; c < prefixCount; c++) {
    let rest = c;
    for (let j = last - 1; j >= 0; j--) {
      digits[j] = rest % layout.counts[j];
      rest = Math.floor(rest / layout.counts[j]);
    }
    const fixed = digits.map((d, j) => `${labelOf[j]}=${promqlString(`${layout.keys[j]}-${d}`)}`);
    for (let v = 0; v < layout.counts[last]; v += groupSize) {
      const values: string[] = [];
      for (let d = v; d < Math.min(v + groupSize, layout.counts[last]); d++) values.push(`${layout.keys[last]}-${d}`);
      const matcher = values.length === 1
        ? `${labelOf[last]}=${promqlString(values[0])}`
        : `${labelOf[last]}=~${promqlString(values.map(re2Literal).join('|'))}`;
      out.push(join([...fixed, matcher]));
      const first = (c * layout.counts[last] + v) * perCombination;
      ranges.push([first, first + values.length * perCombination]);
    }
  }
  return { selectors: out, ranges };
}

/** Options for {@link otlpLayoutMetric}. */
export interface OtlpLayoutMetricOptions {
  /** The OTLP metric, without attributes (they come from the layout): gauges and sums only. */
  metric: Omit<OtlpMetricShape, 'attributes'>;
  layout: SeriesLayout;
  /** The resource the run exports under (`service.name` → `job`, promoted attributes …). */
  resource: OtlpResourceShape;
  translate?: TranslateOptions;
  maxSeriesPerSelector: number;
  expectedValue(series: number, tick: number): number;
  expected?(series: number, tick: number): boolean;
}

/**
 * The read-back metric for an OTLP gauge or sum exported over a mixed-radix layout, with
 * the name and labels a Prometheus OTLP receiver gives it (translate.ts): metric name with
 * unit and `_total` suffixes, attribute keys escaped to label names, and `job`/`instance`
 * and promoted resource attributes as labels common to every series.
 * @returns the metric, or the translation's `{ unsupported, message }` finding (e.g. delta temporality).
 * @throws InternalError `TALLY_INTERNAL` for a histogram or summary (several Prometheus series per point; not supported here yet).
 * @see ./translate.ts expectedSeries
 */
export function otlpLayoutMetric(options: OtlpLayoutMetricOptions): ReadbackMetric | UnsupportedMetric {
  const { layout } = options;
  const kind = options.metric.kind;
  if (kind !== 'gauge' && kind !== 'sum') throw new InternalError(`read-back of ${kind} metrics is not supported`);
  const translated = expectedSeries({ ...options.metric, attributes: seriesAttributes(layout, 0) }, options.resource, options.translate);
  if ('unsupported' in translated) return translated;
  const labelNames: Record<string, string> = {};
  for (const key of layout.keys) {
    const label = prometheusLabelName(key, options.translate);
    if (label === null) return { unsupported: 'invalid_label_name', message: `attribute key "${key}" escapes to an invalid label name` };
    labelNames[key] = label;
  }
  const attributeLabels = new Set(Object.values(labelNames));
  const sample = translated.samples[0];
  const commonLabels: Record<string, string> = {};
  for (const [name, value] of Object.entries(sample.labels)) if (!attributeLabels.has(name)) commonLabels[name] = value;
  return layoutMetric({
    name: sample.name,
    layout,
    labelNames,
    commonLabels,
    maxSeriesPerSelector: options.maxSeriesPerSelector,
    expectedValue: options.expectedValue,
    expected: options.expected,
  });
}
