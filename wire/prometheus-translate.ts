/**
 * What an OTLP metric becomes in Prometheus: metric name, type and the exact series
 * (name + labels) a Prometheus OTLP receiver stores for it. The reconciler uses this
 * to know which series to query for; it never sees the values.
 *
 * Pure: values in, values out. The rules follow the OpenTelemetry specification
 * "Prometheus and OpenMetrics Compatibility" (OTLP Metric points to Prometheus) and,
 * where the specification leaves room (SHOULD, MAY) or Prometheus deviates from it,
 * what Prometheus's own OTLP receiver does (`prometheus/otlptranslator` and
 * `storage/remote/otlptranslator/prometheusremotewrite`), because that is what
 * tally reads back. Deviations from the specification are called out where they occur.
 *
 * @see https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#otlp-metric-points-to-prometheus
 * @see https://prometheus.io/docs/guides/opentelemetry/
 * @see https://prometheus.io/docs/prometheus/latest/configuration/configuration/ (`otlp:` block)
 */

/** Prometheus's `otlp.translation_strategy` values. */
export type TranslationStrategy =
  | 'UnderscoreEscapingWithSuffixes'
  | 'UnderscoreEscapingWithoutSuffixes'
  | 'NoUTF8EscapingWithSuffixes'
  | 'NoTranslation';

/** OTLP metric data types, in the proto's terms. */
export type OtlpMetricKind = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';

/** OTLP aggregation temporality. */
export type Temporality = 'delta' | 'cumulative';

/** An OTLP attribute value; arrays and maps are out of scope. */
export type AttributeValue = string | number | boolean | bigint;

/** The parts of an OTLP metric (and of its data points' shape) that decide its Prometheus series. */
export interface OtlpMetricShape {
  /** OTLP metric name, e.g. `http.server.request.duration`. */
  name: string;
  /** UCUM unit, e.g. `s`, `By/s`, `{packet}`, `1`; `''` for none. */
  unit: string;
  kind: OtlpMetricKind;
  /** Sums only: `is_monotonic`. */
  monotonic?: boolean;
  /** Sums and (exponential) histograms; absent means AGGREGATION_TEMPORALITY_UNSPECIFIED. */
  temporality?: Temporality;
  /** Data point attributes. */
  attributes: Readonly<Record<string, AttributeValue>>;
  /** Histograms only: `explicit_bounds`, ascending. */
  explicitBounds?: readonly number[];
  /** Histograms only: whether the points carry `sum` (default true). */
  hasSum?: boolean;
  /** Summaries only: the quantiles reported, each in [0, 1]. */
  quantiles?: readonly number[];
}

/** The OTLP resource the metric was exported under. */
export interface OtlpResourceShape {
  attributes: Readonly<Record<string, AttributeValue>>;
}

/** Receiver configuration that changes names and labels; defaults are Prometheus's. */
export interface TranslateOptions {
  /** Default `UnderscoreEscapingWithSuffixes`. */
  translationStrategy?: TranslationStrategy;
  /** `otlp.promote_resource_attributes`: resource attribute keys copied onto every series. */
  promoteResourceAttributes?: readonly string[];
  /** `otlp.promote_all_resource_attributes` (default false). */
  promoteAllResourceAttributes?: boolean;
  /** `otlp.ignore_resource_attributes`, only with `promoteAllResourceAttributes`. */
  ignoreResourceAttributes?: readonly string[];
  /** `otlp.keep_identifying_resource_attributes` (default false): service.* also on `target_info`. */
  keepIdentifyingResourceAttributes?: boolean;
  /** `otlp.label_name_underscore_sanitization` (default true): `_x` becomes `key_x`. */
  labelNameUnderscoreSanitization?: boolean;
  /** `otlp.label_name_preserve_multiple_underscores` (default true). */
  labelNamePreserveMultipleUnderscores?: boolean;
  /** `otlp.convert_histograms_to_nhcb` (default false): explicit histograms become one native series. */
  convertHistogramsToNhcb?: boolean;
  /** Whether the receiver stores native histograms (default true); false makes exponential histograms unsupported. */
  nativeHistograms?: boolean;
}

/** The Prometheus metric type a translated metric has. */
export type PrometheusMetricType = 'counter' | 'gauge' | 'histogram' | 'native_histogram' | 'summary';

/** One series as Prometheus stores it: `name` is the `__name__` label, `labels` all others, keys sorted. */
export interface ExpectedSample {
  name: string;
  labels: Record<string, string>;
}

/** The Prometheus form of one OTLP metric data point shape. */
export interface ExpectedSeries {
  /** Metric family name, e.g. `http_server_request_duration_seconds`. */
  metricName: string;
  type: PrometheusMetricType;
  /** Prometheus UNIT metadata, e.g. `seconds`, `bytes_per_second`; `''` for none. */
  unit: string;
  /** Every series one data point produces (histogram: `_sum`, `_count`, one `_bucket` per `le`). */
  samples: ExpectedSample[];
}

/** Why Prometheus stores nothing for a metric. */
export type UnsupportedReason =
  | 'delta_temporality'
  | 'unspecified_temporality'
  | 'invalid_metric_name'
  | 'invalid_label_name'
  | 'reserved_label_collision'
  | 'native_histograms_disabled';

/** The translation's answer when the metric cannot be represented: a finding, not an error. */
export interface UnsupportedMetric {
  unsupported: UnsupportedReason;
  /** One sentence naming the metric and the rule. */
  message: string;
}

const SERVICE_NAME = 'service.name';
const SERVICE_NAMESPACE = 'service.namespace';
const SERVICE_INSTANCE_ID = 'service.instance.id';
const IDENTIFYING_ATTRIBUTES: readonly string[] = [SERVICE_NAMESPACE, SERVICE_NAME, SERVICE_INSTANCE_ID];

// UCUM → Prometheus unit words, as Prometheus's otlptranslator maps them. `1` maps to
// nothing: dimensionless counts carry no unit suffix (gauges get `_ratio` instead).
const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds',
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', TiBy: 'tibibytes',
  KBy: 'kilobytes', MBy: 'megabytes', GBy: 'gigabytes', TBy: 'terabytes',
  m: 'meters', V: 'volts', A: 'amperes', J: 'joules', W: 'watts', g: 'grams',
  Cel: 'celsius', Hz: 'hertz', '1': '', '%': 'percent',
};
// The denominator of a rate is singular: `By/s` → `bytes_per_second`.
const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year',
};

/**
 * The OTLP type as it matters for naming: monotonic sums get `_total`, gauges with unit
 * `1` get `_ratio`, non-monotonic sums neither.
 */
export type NamingType = 'monotonic_counter' | 'non_monotonic_counter' | 'gauge' | 'histogram' | 'exponential_histogram' | 'summary';

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAsciiAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || isDigit(c);
}
function isAllUnderscores(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 95) return false;
  return true;
}

/**
 * Compare two strings in Unicode code point order, which is UTF-8 byte order: the order
 * Prometheus (Go) sorts label names and attribute keys in. JS `<` compares UTF-16 code
 * units, which puts astral characters before U+E000–U+FFFF.
 * @returns negative, zero or positive, like `Array.prototype.sort` wants.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate && (x >= 0xe000 || y >= 0xe000)) return xSurrogate ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Format a float as Go's `strconv.FormatFloat(x, 'f', -1, 64)`: shortest round-trip
 * digits, never an exponent. Prometheus formats `le` and `quantile` label values so.
 * @returns e.g. `0.005`, `1`, `1000000`, `0.0000001`, `+Inf`.
 */
export function formatFloatLikeGo(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Number.isNaN(x)) return 'NaN';
  if (Object.is(x, -0)) return '-0';
  const text = String(x);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const negative = text.startsWith('-');
  const mantissa = text.slice(negative ? 1 : 0, e);
  const exponent = Number(text.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const intDigits = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const digits = dot < 0 ? mantissa : intDigits + mantissa.slice(dot + 1);
  const point = intDigits.length + exponent;
  let plain: string;
  if (point <= 0) plain = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) plain = digits + '0'.repeat(point - digits.length);
  else plain = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${plain}` : plain;
}

/** Attribute value → label value: JSON-like for non-strings, as pdata's `AsString` does. */
function attributeText(value: AttributeValue): string {
  return typeof value === 'string' ? value : String(value);
}

function escapes(strategy: TranslationStrategy): boolean {
  return strategy === 'UnderscoreEscapingWithSuffixes' || strategy === 'UnderscoreEscapingWithoutSuffixes';
}
function addsSuffixes(strategy: TranslationStrategy): boolean {
  return strategy === 'UnderscoreEscapingWithSuffixes' || strategy === 'NoUTF8EscapingWithSuffixes';
}

/** Split a UCUM unit into its main and `per_` parts, unescaped; `{…}` annotations drop their part. */
function unitParts(unit: string): { main: string; per: string } {
  const slash = unit.indexOf('/');
  const mainText = (slash < 0 ? unit : unit.slice(0, slash)).trim();
  const perText = slash < 0 ? '' : unit.slice(slash + 1).trim();
  const braces = /[{}]/;
  const main = mainText !== '' && !braces.test(mainText) ? (UNIT_WORDS[mainText] ?? mainText) : '';
  const perWord = perText !== '' && !braces.test(perText) ? (PER_UNIT_WORDS[perText] ?? perText) : '';
  return { main, per: perWord === '' ? '' : `per_${perWord}` };
}

/** Escape a unit word for a legacy name: non-`[a-zA-Z0-9:]` → `_`, runs collapsed, one leading `_` dropped. */
function cleanUnit(unit: string): string {
  let out = '';
  for (const ch of unit) {
    const c = ch.charCodeAt(0);
    const keep = ch.length === 1 && (isAsciiAlnum(c) || c === 58);
    const next = keep ? ch : '_';
    if (next === '_' && out.endsWith('_')) continue;
    out += next;
  }
  return out.startsWith('_') ? out.slice(1) : out;
}

/**
 * The Prometheus UNIT metadata for an OTLP unit.
 * @param unit UCUM unit, e.g. `By/s`.
 * @returns e.g. `bytes_per_second`; `''` for `1`, `{packet}` or no unit.
 * @see https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#metric-metadata-1
 */
export function prometheusUnit(unit: string, strategy: TranslationStrategy = 'UnderscoreEscapingWithSuffixes'): string {
  let { main, per } = unitParts(unit);
  if (escapes(strategy)) {
    main = cleanUnit(main);
    per = cleanUnit(per);
  }
  const joined = main !== '' && per !== '' ? `${main}_${per}` : main || per;
  return joined.replace(/^_/, '').replace(/_$/, '');
}

// Legacy metric-name tokens: runs of [a-zA-Z0-9:]. Splitting on everything else (and on
// `_`) is what drops leading, trailing and repeated underscores.
function legacyNameTokens(name: string): string[] {
  const tokens: string[] = [];
  let current = '';
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && (isAsciiAlnum(c) || c === 58)) current += ch;
    else if (current !== '') {
      tokens.push(current);
      current = '';
    }
  }
  if (current !== '') tokens.push(current);
  return tokens;
}

function nameWithSuffixesEscaped(name: string, unit: string, type: NamingType): string {
  let tokens = legacyNameTokens(name);
  const parts = unitParts(unit);
  let main = cleanUnit(parts.main);
  let per = cleanUnit(parts.per);
  // Prometheus skips the unit when any token equals it, not only the last one: the
  // specification says "unless the metric name already contains the unit".
  if (tokens.includes(main)) main = '';
  if (per === 'per_') per = '';
  else {
    per = per.replace(/_$/, '');
    if (tokens.includes(per)) per = '';
  }
  if (per !== '') main = main.replace(/_$/, '');
  if (main !== '') tokens.push(main);
  if (per !== '') tokens.push(per);
  if (type === 'monotonic_counter') tokens = [...tokens.filter((t) => t !== 'total'), 'total'];
  // `_ratio` only for OTLP gauges: OTel receivers put unit `1` on counts of things.
  if (unit === '1' && type === 'gauge') tokens = [...tokens.filter((t) => t !== 'ratio'), 'ratio'];
  const joined = tokens.join('_');
  return joined !== '' && isDigit(joined.charCodeAt(0)) ? `_${joined}` : joined;
}

function trimSuffixAndDelimiter(name: string, suffix: string): string {
  return name.endsWith(suffix) && name.length > suffix.length + 1 ? name.slice(0, name.length - suffix.length - 1) : name;
}

function nameWithSuffixesUtf8(name: string, unit: string, type: NamingType): string {
  const { main, per } = unitParts(unit);
  const ratio = unit === '1' && type === 'gauge';
  const total = type === 'monotonic_counter';
  let base = name;
  if (ratio) base = trimSuffixAndDelimiter(base, 'ratio');
  if (total) base = trimSuffixAndDelimiter(base, 'total');
  if (per !== '') base = trimSuffixAndDelimiter(base, per);
  if (main !== '' && !base.endsWith(main)) base = `${base}_${main}`;
  if (per !== '') base = `${base}_${per}`;
  if (total) base = `${base}_total`;
  if (ratio) base = `${base}_ratio`;
  return base;
}

function nameWithoutSuffixesEscaped(name: string): string {
  const fields = name.split(/[^a-zA-Z0-9:_]+/u).filter((f) => f !== '');
  const joined = fields.join('_');
  return joined !== '' && isDigit(joined.charCodeAt(0)) ? `_${joined}` : joined;
}

/**
 * The Prometheus metric family name for an OTLP metric name.
 * @param type how the metric is named: counters get `_total`, gauges with unit `1` get `_ratio`.
 * @returns the name, or `null` when it would be empty or only underscores (Prometheus drops the metric).
 * @see https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#metric-metadata-1
 */
export function prometheusMetricName(
  name: string,
  unit: string,
  type: NamingType,
  strategy: TranslationStrategy = 'UnderscoreEscapingWithSuffixes',
): string | null {
  let out: string;
  switch (strategy) {
    case 'UnderscoreEscapingWithSuffixes':
      out = nameWithSuffixesEscaped(name, unit, type);
      break;
    case 'UnderscoreEscapingWithoutSuffixes':
      out = nameWithoutSuffixesEscaped(name);
      break;
    case 'NoUTF8EscapingWithSuffixes':
      out = nameWithSuffixesUtf8(name, unit, type);
      break;
    case 'NoTranslation':
      out = name;
      break;
  }
  if (out === '') return null;
  return escapes(strategy) && isAllUnderscores(out) ? null : out;
}

/**
 * The Prometheus label name for an OTLP attribute key.
 * Escaping strategies: non-`[a-zA-Z0-9_]` → `_`; a leading digit gets `key_`; a single
 * leading `_` gets `key` (unless disabled); `__`-prefixed keys are kept, being reserved
 * for Prometheus. UTF-8 strategies keep the key as is.
 * @returns the label name, or `null` when empty or only underscores (Prometheus refuses it).
 * @see https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#metric-attributes
 */
export function prometheusLabelName(key: string, options: TranslateOptions = {}): string | null {
  if (key === '' || isAllUnderscores(key)) return null;
  if (!escapes(options.translationStrategy ?? 'UnderscoreEscapingWithSuffixes')) return key;
  let out = '';
  for (const ch of key) {
    const c = ch.charCodeAt(0);
    out += ch.length === 1 && (isAsciiAlnum(c) || c === 95) ? ch : '_';
  }
  // Prometheus keeps `a..b` as `a__b` by default, unlike the specification's SHOULD collapse.
  if (options.labelNamePreserveMultipleUnderscores === false) out = out.replace(/_{2,}/g, '_');
  if (isDigit(out.charCodeAt(0))) out = `key_${out}`;
  else if (options.labelNameUnderscoreSanitization !== false && out.startsWith('_') && !out.startsWith('__')) out = `key${out}`;
  return isAllUnderscores(out) ? null : out;
}

type LabelBuild = { labels: Map<string, string> } | { badKey: string };

/** Sanitise keys, merging values of keys that collide, in code point order of the original keys. */
function sanitisedLabels(attributes: Readonly<Record<string, AttributeValue>>, options: TranslateOptions, skip: readonly string[] = []): LabelBuild {
  const keys = Object.keys(attributes).filter((k) => !skip.includes(k)).sort(compareCodePoints);
  const labels = new Map<string, string>();
  for (const key of keys) {
    const name = prometheusLabelName(key, options);
    if (name === null) return { badKey: key };
    const value = attributeText(attributes[key]);
    const existing = labels.get(name);
    labels.set(name, existing === undefined ? value : `${existing};${value}`);
  }
  return { labels };
}

function promotedKeys(resource: OtlpResourceShape, options: TranslateOptions): string[] {
  const keys = Object.keys(resource.attributes);
  if (options.promoteAllResourceAttributes) {
    const ignored = options.ignoreResourceAttributes ?? [];
    return keys.filter((k) => !ignored.includes(k)).sort(compareCodePoints);
  }
  const wanted = options.promoteResourceAttributes ?? [];
  return keys.filter((k) => wanted.includes(k)).sort(compareCodePoints);
}

/** `job` from `<service.namespace>/<service.name>`, `instance` from `service.instance.id`; set only when present. */
function setJobAndInstance(labels: Map<string, string>, resource: OtlpResourceShape): void {
  const attrs = resource.attributes;
  if (attrs[SERVICE_NAME] !== undefined) {
    const name = attributeText(attrs[SERVICE_NAME]);
    labels.set('job', attrs[SERVICE_NAMESPACE] !== undefined ? `${attributeText(attrs[SERVICE_NAMESPACE])}/${name}` : name);
  }
  if (attrs[SERVICE_INSTANCE_ID] !== undefined) labels.set('instance', attributeText(attrs[SERVICE_INSTANCE_ID]));
}

function sortedRecord(labels: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of [...labels.keys()].sort(compareCodePoints)) {
    const value = labels.get(key) as string;
    // Prometheus treats an empty label value as an absent label.
    if (value !== '') out[key] = value;
  }
  return out;
}

function namingType(metric: OtlpMetricShape): NamingType {
  if (metric.kind === 'sum') return metric.monotonic ? 'monotonic_counter' : 'non_monotonic_counter';
  return metric.kind;
}

function temporalityProblem(metric: OtlpMetricShape): UnsupportedMetric | null {
  if (metric.kind === 'gauge' || metric.kind === 'summary') return null;
  if (metric.temporality === 'cumulative') return null;
  if (metric.temporality === 'delta') {
    return {
      unsupported: 'delta_temporality',
      message: `${metric.name}: delta ${metric.kind} points are refused by a Prometheus OTLP receiver without delta support ("invalid temporality and type combination"); convert to cumulative upstream`,
    };
  }
  return { unsupported: 'unspecified_temporality', message: `${metric.name}: ${metric.kind} without an aggregation temporality is refused` };
}

/**
 * The Prometheus metric name, type, unit and series one data point of `metric` becomes.
 * Labels: data point attributes (sanitised, colliding keys merged with `;`), then
 * promoted resource attributes where no attribute already took the name, then `job` and
 * `instance` from the resource (these overwrite attributes of the same name), then the
 * type's own label (`le`, `quantile`).
 * @param metric the OTLP metric shape; `explicitBounds` for histograms, `quantiles` for summaries.
 * @param resource the resource it was exported under.
 * @returns the expected series, or `{ unsupported, message }` when Prometheus stores nothing
 * for it (delta or unspecified temporality, a name or label that escapes to nothing, an
 * attribute that takes `__name__`/`le`/`quantile`, native histograms off).
 * @see https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#otlp-metric-points-to-prometheus
 */
export function expectedSeries(metric: OtlpMetricShape, resource: OtlpResourceShape, options: TranslateOptions = {}): ExpectedSeries | UnsupportedMetric {
  const strategy = options.translationStrategy ?? 'UnderscoreEscapingWithSuffixes';
  const temporality = temporalityProblem(metric);
  if (temporality) return temporality;
  if (metric.kind === 'exponential_histogram' && options.nativeHistograms === false) {
    return { unsupported: 'native_histograms_disabled', message: `${metric.name}: exponential histograms need native histogram ingestion` };
  }
  const type = namingType(metric);
  const metricName = prometheusMetricName(metric.name, metric.unit, type, strategy);
  if (metricName === null) return { unsupported: 'invalid_metric_name', message: `metric name "${metric.name}" escapes to an empty name` };

  const built = sanitisedLabels(metric.attributes, options);
  if ('badKey' in built) return { unsupported: 'invalid_label_name', message: `${metric.name}: attribute key "${built.badKey}" escapes to an invalid label name` };
  const labels = built.labels;
  for (const key of promotedKeys(resource, options)) {
    const name = prometheusLabelName(key, options);
    if (name === null) return { unsupported: 'invalid_label_name', message: `${metric.name}: resource attribute key "${key}" escapes to an invalid label name` };
    if (!labels.has(name)) labels.set(name, attributeText(resource.attributes[key]));
  }
  setJobAndInstance(labels, resource);

  const promType = prometheusType(metric, options);
  const extra = promType === 'histogram' ? 'le' : promType === 'summary' ? 'quantile' : null;
  for (const reserved of ['__name__', extra]) {
    if (reserved !== null && labels.has(reserved)) {
      return { unsupported: 'reserved_label_collision', message: `${metric.name}: an attribute becomes the reserved label "${reserved}"` };
    }
  }
  const base = sortedRecord(labels);
  return { metricName, type: promType, unit: prometheusUnit(metric.unit, strategy), samples: samplesFor(metricName, promType, metric, base) };
}

function prometheusType(metric: OtlpMetricShape, options: TranslateOptions): PrometheusMetricType {
  switch (metric.kind) {
    case 'gauge':
      return 'gauge';
    case 'sum':
      return metric.monotonic ? 'counter' : 'gauge';
    case 'histogram':
      return options.convertHistogramsToNhcb ? 'native_histogram' : 'histogram';
    case 'exponential_histogram':
      return 'native_histogram';
    case 'summary':
      return 'summary';
  }
}

function withLabel(base: Record<string, string>, name: string, value: string): Record<string, string> {
  return sortedRecord(new Map([...Object.entries(base), [name, value]]));
}

function samplesFor(metricName: string, type: PrometheusMetricType, metric: OtlpMetricShape, base: Record<string, string>): ExpectedSample[] {
  if (type === 'histogram') {
    const out: ExpectedSample[] = [];
    if (metric.hasSum !== false) out.push({ name: `${metricName}_sum`, labels: { ...base } });
    out.push({ name: `${metricName}_count`, labels: { ...base } });
    for (const bound of metric.explicitBounds ?? []) out.push({ name: `${metricName}_bucket`, labels: withLabel(base, 'le', formatFloatLikeGo(bound)) });
    out.push({ name: `${metricName}_bucket`, labels: withLabel(base, 'le', '+Inf') });
    return out;
  }
  if (type === 'summary') {
    const out: ExpectedSample[] = [
      { name: `${metricName}_sum`, labels: { ...base } },
      { name: `${metricName}_count`, labels: { ...base } },
    ];
    for (const q of metric.quantiles ?? []) out.push({ name: metricName, labels: withLabel(base, 'quantile', formatFloatLikeGo(q)) });
    return out;
  }
  return [{ name: metricName, labels: base }];
}

/**
 * The `target_info` series Prometheus writes for a resource: every resource attribute
 * except service.namespace/name/instance.id (unless `keepIdentifyingResourceAttributes`),
 * plus `job` and `instance`. Prometheus writes none when the resource has no other
 * attributes, or has neither `service.name` nor `service.instance.id`.
 * @returns the series, `null` when none is written, or `{ unsupported }` for an attribute key that escapes to nothing.
 * @see https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/#resource-attributes-1
 * @see https://prometheus.io/docs/guides/opentelemetry/#including-resource-attributes-at-query-time
 */
export function expectedTargetInfo(resource: OtlpResourceShape, options: TranslateOptions = {}): ExpectedSample | UnsupportedMetric | null {
  const keys = Object.keys(resource.attributes);
  if (keys.every((k) => IDENTIFYING_ATTRIBUTES.includes(k))) return null;
  const skip = options.keepIdentifyingResourceAttributes ? [] : IDENTIFYING_ATTRIBUTES;
  const built = sanitisedLabels(resource.attributes, options, skip);
  if ('badKey' in built) return { unsupported: 'invalid_label_name', message: `target_info: resource attribute key "${built.badKey}" escapes to an invalid label name` };
  setJobAndInstance(built.labels, resource);
  if (!built.labels.has('job') && !built.labels.has('instance')) return null;
  return { name: 'target_info', labels: sortedRecord(built.labels) };
}
