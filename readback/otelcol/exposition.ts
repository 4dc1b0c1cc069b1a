/**
 * Prometheus text exposition → flat samples, through `parse-prometheus-text-format`.
 * Shared by the OpenTelemetry Collector self-metrics and the backends' own counters
 * (Prometheus, Tempo): each reader keeps only the names it knows.
 *
 * The library never throws: it passes every value through as the string it read, keeps
 * a non-numeric token as-is, and returns nothing at all for some malformed bodies. So
 * every value is checked here, and a body with sample lines but no usable sample is a
 * bad reply, not an empty one.
 *
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details
 */
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { CollectorError } from '../../core/errors.ts';

/** One counter, gauge or untyped sample. */
export interface ExpositionSample {
  /** The sample's metric name as exposed, e.g. `otelcol_receiver_accepted_spans_total`. */
  readonly name: string;
  /** Labels as exposed (no `__name__`). */
  readonly labels: Readonly<Record<string, string>>;
  /** The value, in the metric's own unit; finite or ±Inf (NaN samples are skipped and counted). */
  readonly value: number;
}

/** Parsed samples and what could not be used. */
export interface ExpositionParse {
  readonly samples: ExpositionSample[];
  /** Selected samples whose value was NaN or not a number. */
  readonly unusableSamples: number;
  /** Histogram and summary families the selection matched: not read (no counter here is one). */
  readonly skippedFamilies: string[];
}

const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Parse an exposition body and keep the samples whose name `select` accepts.
 * @param text a `/metrics` body (text format 0.0.4; OpenMetrics bodies parse too, `# EOF` ignored).
 * @param select metric-name filter, called once per family; default keeps all.
 * @param source what the body came from, for the error (`otelcol http://…/metrics`).
 * @returns samples in body order; NaN and non-numeric values are left out and counted.
 * @throws CollectorError `TALLY_COLLECTOR_BAD_REPLY` when the body has sample lines and none parsed.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details
 */
export function parseExposition(text: string, select: (name: string) => boolean = () => true, source = 'exposition'): ExpositionParse {
  const families = parsePrometheusTextFormat(withoutHelp(text));
  const samples: ExpositionSample[] = [];
  const skippedFamilies: string[] = [];
  let unusableSamples = 0;
  for (const family of families) {
    if (!select(family.name)) continue;
    if (family.type === 'HISTOGRAM' || family.type === 'SUMMARY') {
      skippedFamilies.push(family.name);
      continue;
    }
    for (const metric of family.metrics) {
      const raw = 'value' in metric ? metric.value : '';
      const value = parseValue(raw);
      if (Number.isNaN(value)) {
        unusableSamples++;
        continue;
      }
      samples.push({ name: family.name, labels: metric.labels ?? EMPTY_LABELS, value });
    }
  }
  // Only when nothing was selected: a body of which nothing parses is a bad reply, not an empty one.
  if (samples.length === 0 && !families.some(hasUsableSample) && hasSampleLine(text)) {
    throw new CollectorError(`${source}: the body has sample lines but none parsed as Prometheus text format`, {
      code: 'TALLY_COLLECTOR_BAD_REPLY',
      details: { source, expected: 'Prometheus text exposition format 0.0.4', bodyBytes: Buffer.byteLength(text) },
    });
  }
  return { samples, unusableSamples, skippedFamilies };
}

/**
 * The body without its `# HELP` lines: they carry nothing a reader here uses, and the
 * library refuses an empty help text (`# HELP jaeger_storage_latency_seconds `, as Jaeger
 * 1.75 writes it) as an invalid line, which loses the whole body.
 */
function withoutHelp(text: string): string {
  return text.includes('# HELP') ? text.replace(/^[ \t]*# HELP[^\n]*\n?/gm, '') : text;
}

function hasUsableSample(family: ParsedFamily): boolean {
  return family.metrics.some((m) => !('value' in m) || !Number.isNaN(parseValue(m.value)));
}

/** Go's float syntax as Prometheus writes it: `Number()` reads all of it but the `Inf` spellings. */
function parseValue(raw: string): number {
  if (raw === '') return Number.NaN;
  if (raw === '+Inf' || raw === 'Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(raw);
}

function hasSampleLine(text: string): boolean {
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t !== '' && !t.startsWith('#')) return true;
  }
  return false;
}
