/**
 * The one PromQL call the self-metrics and datapath readers need, injected so they do not
 * depend on a particular Prometheus client (readback/prometheus/api.ts provides one).
 */

/** One element of an instant vector: its labels (with `__name__` when the query keeps it) and value. */
export interface InstantSample {
  readonly labels: Readonly<Record<string, string>>;
  /** The sample value; Prometheus's `"NaN"`, `"+Inf"` strings already converted to numbers. */
  readonly value: number;
}

/**
 * Evaluate a PromQL expression at one instant (`GET /api/v1/query?query=…&time=…`).
 * @param promql the expression.
 * @param timeSec evaluation time, seconds since the Unix epoch (fractions allowed).
 * @returns the instant vector; an empty array when nothing matched. A scalar or string
 *   result is the caller's mistake and should throw.
 * @throws CollectorError when Prometheus cannot be reached or answers with an error.
 * @see https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
 */
export type InstantQuery = (promql: string, timeSec: number) => Promise<InstantSample[]>;
