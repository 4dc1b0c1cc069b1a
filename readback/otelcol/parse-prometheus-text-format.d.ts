/**
 * Types for `parse-prometheus-text-format` 1.1.1, which ships none. Shapes checked
 * against the library's output (README and a run on Node 24): every number is a
 * string exactly as written in the exposition (`"1234"`, `"5.5e+02"`, `"NaN"`,
 * `"+Inf"`, and even a non-numeric token as-is); `labels` is absent when a sample has
 * none; the same family name can appear twice when its samples are not contiguous;
 * a line the parser cannot read may yield an empty value or drop the whole result.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details
 */
declare module 'parse-prometheus-text-format' {
  /** A counter, gauge or untyped sample. */
  export interface ParsedSample {
    value: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
  }
  /** A histogram sample: buckets by `le`, `count` and `sum`. */
  export interface ParsedHistogram {
    buckets: Record<string, string>;
    count: string;
    sum: string;
    labels?: Record<string, string>;
  }
  /** A summary sample: quantiles by `quantile`, `count` and `sum`. */
  export interface ParsedSummary {
    quantiles?: Record<string, string>;
    count: string;
    sum: string;
    labels?: Record<string, string>;
  }
  export interface ParsedFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'UNTYPED' | 'HISTOGRAM' | 'SUMMARY';
    metrics: Array<ParsedSample | ParsedHistogram | ParsedSummary>;
  }
  /** Parse Prometheus text exposition format 0.0.4. Never throws on bad input. */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
