/**
 * The shape of a parsed threshold, shared by the scenario loader that parses it
 * (scenarios/thresholds-spec.ts) and the evaluation that judges it (reconcile/thresholds.ts).
 * Thresholds follow k6: `<aggregation> <operator> <value>` on a named figure, such as
 * `p(99)<20ms` on `latency` or `rate<0.001` on `errors`.
 *
 * @see https://grafana.com/docs/k6/latest/using-k6/thresholds/
 */

/**
 * k6's metric types, which decide the aggregations a threshold may use:
 * - `trend`: a distribution (`avg`, `min`, `max`, `med`, `p(N)`, and `count` of samples);
 * - `rate`: a share of events (`rate`, 0..1; `count` of the events);
 * - `counter`: a count (`count`; `rate` per second of the run);
 * - `gauge`: one value (`value`).
 */
export type ThresholdKind = 'trend' | 'rate' | 'counter' | 'gauge';

/** The aggregations of k6's threshold syntax. */
export type Aggregation = 'avg' | 'min' | 'max' | 'med' | 'p' | 'count' | 'rate' | 'value';

/** Comparison operators (k6's; `===` is `==`). */
export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** The unit of a threshold's limit and observed value, by kind and aggregation. */
export type ThresholdUnit = 'us' | 'ratio' | 'count' | 'per_second' | 'value';

/** One threshold expression, parsed and normalised. */
export interface ThresholdSpec {
  /** The name as written in the scenario (a tally name or a k6 alias, maybe with a `{tag:value}` selector). */
  name: string;
  /** The tally name it resolves to (aliases resolved). */
  metric: string;
  kind: ThresholdKind;
  /** The expression as written, e.g. `p(99)<20ms`. */
  expression: string;
  aggregation: Aggregation;
  /** Percentile (0..100) for `p`. */
  percentile?: number;
  operator: ThresholdOperator;
  /** The limit, in {@link ThresholdSpec.unit} (trend durations in µs). */
  limit: number;
  unit: ThresholdUnit;
  /** Stop the run as soon as the threshold is breached (checked every interval). */
  abortOnFail: boolean;
  /** Do not check an abortOnFail threshold before this much of the run has passed (ms). */
  delayAbortEvalMs: number;
}
