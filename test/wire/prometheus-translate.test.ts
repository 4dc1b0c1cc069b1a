/**
 * Table-driven cases for OTLP → Prometheus translation. Every case names its source:
 *
 * - [SPEC §x]  OpenTelemetry specification, "Prometheus and OpenMetrics Compatibility",
 *              section x of "OTLP Metric points to Prometheus"
 *              https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/
 * - [PROM-GUIDE] Prometheus docs, "Using Prometheus as your OpenTelemetry backend"
 *              https://prometheus.io/docs/guides/opentelemetry/
 * - [PROM-CONFIG] Prometheus docs, configuration, the `otlp:` block and its defaults
 * - [OTLPTRANSLATOR] prometheus/otlptranslator, the library Prometheus's OTLP receiver
 *              names with: metric_namer_test.go, label_namer_test.go (expected values read
 *              from its test tables)
 * - [CONTRIB-README] opentelemetry-collector-contrib pkg/translator/prometheus/README.md,
 *              the "commonly agreed normalization" Prometheus's config docs point to for
 *              UnderscoreEscapingWithSuffixes
 * - [PROM-RECEIVER] prometheus/prometheus storage/remote/otlptranslator/prometheusremotewrite
 *              (helper.go, metrics_to_prw.go): behaviour read from the receiver itself
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  expectedSeries,
  expectedTargetInfo,
  formatFloatLikeGo,
  compareCodePoints,
  type ExpectedSample,
  type OtlpMetricShape,
  type OtlpResourceShape,
  type PrometheusMetricType,
  type TranslateOptions,
  type UnsupportedReason,
} from '../../wire/prometheus-translate.ts';

interface Case {
  name: string;
  metric: Partial<OtlpMetricShape> & Pick<OtlpMetricShape, 'name' | 'kind'>;
  resource?: OtlpResourceShape;
  options?: TranslateOptions;
  want:
    | { metricName: string; type?: PrometheusMetricType; unit?: string; samples?: ExpectedSample[]; labels?: Record<string, string> }
    | { unsupported: UnsupportedReason };
}

const cumulative = { temporality: 'cumulative' as const };
const counter = { kind: 'sum' as const, monotonic: true, ...cumulative };
const upDown = { kind: 'sum' as const, monotonic: false, ...cumulative };
const noResource: OtlpResourceShape = { attributes: {} };

const cases: Case[] = [
  // [OTLPTRANSLATOR] README quick start; [SPEC §Histograms] _bucket/_sum/_count with le.
  {
    name: 'histogram: unit suffix, then _sum/_count/_bucket with le ascending and +Inf',
    metric: { name: 'http.server.request.duration', unit: 's', kind: 'histogram', ...cumulative, attributes: { 'http.route': '/a' }, explicitBounds: [0.005, 0.1, 1] },
    want: {
      metricName: 'http_server_request_duration_seconds',
      type: 'histogram',
      unit: 'seconds',
      samples: [
        { name: 'http_server_request_duration_seconds_sum', labels: { http_route: '/a' } },
        { name: 'http_server_request_duration_seconds_count', labels: { http_route: '/a' } },
        { name: 'http_server_request_duration_seconds_bucket', labels: { http_route: '/a', le: '0.005' } },
        { name: 'http_server_request_duration_seconds_bucket', labels: { http_route: '/a', le: '0.1' } },
        { name: 'http_server_request_duration_seconds_bucket', labels: { http_route: '/a', le: '1' } },
        { name: 'http_server_request_duration_seconds_bucket', labels: { http_route: '/a', le: '+Inf' } },
      ],
    },
  },
  // [CONTRIB-README] "Standard unit": By → bytes.
  { name: 'By → _bytes', metric: { name: 'system.filesystem.usage', unit: 'By', kind: 'gauge' }, want: { metricName: 'system_filesystem_usage_bytes', type: 'gauge', unit: 'bytes' } },
  // [CONTRIB-README] "Unsupported characters and extraneous underscores"; [SPEC §Metric Metadata] invalid → _, runs collapsed.
  { name: 'invalid characters → _, runs and edges dropped', metric: { name: '(lambda).function.executions(#)', unit: '', kind: 'gauge' }, want: { metricName: 'lambda_function_executions' } },
  // [CONTRIB-README] "Non-standard unit (surrounded with {})"; [SPEC §Metric Metadata] bracketed portions dropped.
  { name: '{packets} annotation dropped', metric: { name: 'system.network.dropped', unit: '{packets}', kind: 'gauge' }, want: { metricName: 'system_network_dropped', unit: '' } },
  // [CONTRIB-README] "Non-standard unit (not surrounded with {})".
  { name: 'unknown unit appended as is', metric: { name: 'system.network.dropped', unit: 'packets', kind: 'gauge' }, want: { metricName: 'system_network_dropped_packets' } },
  // [CONTRIB-README] "Percentages (unit is 1)"; [SPEC §Metric Metadata] special case 1 → ratio.
  { name: 'gauge with unit 1 → _ratio', metric: { name: 'system.memory.utilization', unit: '1', kind: 'gauge' }, want: { metricName: 'system_memory_utilization_ratio', unit: '' } },
  // [CONTRIB-README] "Percentages (unit is %)".
  { name: '% → _percent', metric: { name: 'storage.filesystem.utilization', unit: '%', kind: 'gauge' }, want: { metricName: 'storage_filesystem_utilization_percent' } },
  // [CONTRIB-README] "Rates (unit contains /)"; [SPEC §Metric Metadata] foo/bar → foo_per_bar.
  { name: 'm/s → _meters_per_second', metric: { name: 'astro.light.speed', unit: 'm/s', kind: 'gauge' }, want: { metricName: 'astro_light_speed_meters_per_second', unit: 'meters_per_second' } },
  // [OTLPTRANSLATOR] "metric with complex per unit".
  { name: 'By/s → _bytes_per_second', metric: { name: 'throughput', unit: 'By/s', kind: 'gauge' }, want: { metricName: 'throughput_bytes_per_second', unit: 'bytes_per_second' } },
  // [OTLPTRANSLATOR] "metric with time unit"; [SPEC §Metric Metadata] ms → milliseconds.
  { name: 'ms → _milliseconds', metric: { name: 'response_time', unit: 'ms', kind: 'gauge' }, want: { metricName: 'response_time_milliseconds', unit: 'milliseconds' } },
  // [CONTRIB-README] "Counter"; [SPEC §Sums] cumulative monotonic → Counter with _total.
  { name: 'cumulative monotonic sum → counter _total', metric: { name: 'system.processes.created', unit: '', ...counter }, want: { metricName: 'system_processes_created_total', type: 'counter' } },
  // [OTLPTRANSLATOR] "counter with unit 1 does not get ratio suffix".
  { name: 'counter with unit 1: _total, no _ratio', metric: { name: 'items', unit: '1', ...counter }, want: { metricName: 'items_total', type: 'counter' } },
  // [OTLPTRANSLATOR] "metric name already contains total suffix"; [SPEC §Sums] name unchanged when it ends in _total.
  { name: '_total not doubled', metric: { name: 'requests_total', unit: '', ...counter }, want: { metricName: 'requests_total' } },
  // [OTLPTRANSLATOR] "metric name already contains unit suffix"; [SPEC §Metric Metadata] unless the name already contains the unit.
  { name: 'unit not doubled', metric: { name: 'response_time_seconds', unit: 's', kind: 'gauge' }, want: { metricName: 'response_time_seconds' } },
  // [OTLPTRANSLATOR] "metric with namespace and suffixes" (without namespace): 1/s → per_second, unit before _total.
  { name: 'unit suffix before _total', metric: { name: 'requests', unit: '1/s', ...counter }, want: { metricName: 'requests_per_second_total', unit: 'per_second' } },
  // [OTLPTRANSLATOR] "metric with multiple underscores normalized"; [SPEC §Metric Metadata] collapse runs of _.
  {
    name: 'runs of _ collapsed in name and unit',
    metric: { name: 'metric__with__multiple__underscores', unit: 'unit__multiple__underscores', kind: 'gauge' },
    want: { metricName: 'metric_with_multiple_underscores_unit_multiple_underscores' },
  },
  // [OTLPTRANSLATOR] "metric with per unit containing braces is ignored".
  { name: 'annotated per-unit dropped', metric: { name: 'custom_metric', unit: 'By/{custom}', kind: 'gauge' }, want: { metricName: 'custom_metric_bytes', unit: 'bytes' } },
  // [SPEC §Sums] cumulative non-monotonic → Gauge; [OTLPTRANSLATOR] "non-monotonic counter metric type": no _total.
  { name: 'non-monotonic sum → gauge, no _total', metric: { name: 'active_connections', unit: '', ...upDown }, want: { metricName: 'active_connections', type: 'gauge' } },
  // [PROM-RECEIVER] otlptranslator adds _ratio for OTLP gauges only; an UpDownCounter with unit 1 is a non-monotonic sum.
  { name: 'non-monotonic sum with unit 1: no _ratio', metric: { name: 'queue.fill', unit: '1', ...upDown }, want: { metricName: 'queue_fill', type: 'gauge' } },
  // [SPEC §Summaries] {name}_sum, {name}_count, {name}{quantile=…}; [PROM-RECEIVER] quantile formatted like Go's FormatFloat('f', -1).
  {
    name: 'summary → _sum, _count and quantile series',
    metric: { name: 'rpc.latency', unit: 'ms', kind: 'summary', attributes: { method: 'get' }, quantiles: [0.5, 0.99] },
    want: {
      metricName: 'rpc_latency_milliseconds',
      type: 'summary',
      samples: [
        { name: 'rpc_latency_milliseconds_sum', labels: { method: 'get' } },
        { name: 'rpc_latency_milliseconds_count', labels: { method: 'get' } },
        { name: 'rpc_latency_milliseconds', labels: { method: 'get', quantile: '0.5' } },
        { name: 'rpc_latency_milliseconds', labels: { method: 'get', quantile: '0.99' } },
      ],
    },
  },
  // [SPEC §Exponential Histograms] cumulative → one native histogram; [OTLPTRANSLATOR] "exponential histogram metric type".
  {
    name: 'exponential histogram → one native histogram series, unit suffix only',
    metric: { name: 'request_size', unit: 'By', kind: 'exponential_histogram', ...cumulative },
    want: { metricName: 'request_size_bytes', type: 'native_histogram', samples: [{ name: 'request_size_bytes', labels: {} }] },
  },
  // [PROM-RECEIVER] metrics_to_prw.go "invalid temporality and type combination"; [PROM-GUIDE] §Delta Temporality.
  { name: 'delta monotonic sum is unsupported', metric: { name: 'requests', unit: '', kind: 'sum', monotonic: true, temporality: 'delta' }, want: { unsupported: 'delta_temporality' } },
  // [SPEC §Histograms] delta SHOULD be aggregated to cumulative or MUST be dropped; tally does not guess.
  { name: 'delta histogram is unsupported', metric: { name: 'latency', unit: 's', kind: 'histogram', temporality: 'delta' }, want: { unsupported: 'delta_temporality' } },
  // [SPEC §Exponential Histograms] delta temporality is dropped.
  { name: 'delta exponential histogram is unsupported', metric: { name: 'size', unit: 'By', kind: 'exponential_histogram', temporality: 'delta' }, want: { unsupported: 'delta_temporality' } },
  // [PROM-RECEIVER] metrics_to_prw.go: only cumulative (or allowed delta) temporality is valid.
  { name: 'unspecified temporality is unsupported', metric: { name: 'requests', unit: '', kind: 'sum', monotonic: true }, want: { unsupported: 'unspecified_temporality' } },
  // [OTLPTRANSLATOR] "metric name with only special characters" → "" (an error in Prometheus).
  { name: 'name that escapes to nothing is unsupported', metric: { name: '@#$%', unit: '', kind: 'gauge' }, want: { unsupported: 'invalid_metric_name' } },
  // [OTLPTRANSLATOR] label_namer_test.go; [CONTRIB-README] Labels; [PROM-CONFIG] label_name_underscore_sanitization and
  // label_name_preserve_multiple_underscores both default true.
  {
    name: 'label names: invalid → _, leading digit → key_, _x → key_x, __x kept, runs kept',
    metric: {
      name: 'm',
      unit: '',
      kind: 'gauge',
      attributes: {
        'label:with:colons': 'a',
        'label.with.dots': 'b',
        '123label': 'c',
        _label_starting_with_underscore: 'd',
        __label_starting_with_2underscores: 'e',
        'name (of the host)': 'f',
        '2 cents': 'g',
        LabelWithCapitalLetters: 'h',
        'label_with_foreign_characters_字符': 'i',
      },
    },
    want: {
      metricName: 'm',
      labels: {
        label_with_colons: 'a',
        label_with_dots: 'b',
        key_123label: 'c',
        key_label_starting_with_underscore: 'd',
        __label_starting_with_2underscores: 'e',
        name__of_the_host_: 'f',
        key_2_cents: 'g',
        LabelWithCapitalLetters: 'h',
        label_with_foreign_characters___: 'i',
      },
    },
  },
  // [PROM-CONFIG] label_name_underscore_sanitization: false / label_name_preserve_multiple_underscores: false;
  // [SPEC §Metric Attributes] runs of _ SHOULD be collapsed.
  {
    name: 'label options: keep _x, collapse runs',
    metric: { name: 'm', unit: '', kind: 'gauge', attributes: { _name: 'a', 'name (of the host)': 'b' } },
    options: { labelNameUnderscoreSanitization: false, labelNamePreserveMultipleUnderscores: false },
    want: { metricName: 'm', labels: { _name: 'a', name_of_the_host_: 'b' } },
  },
  // [OTLPTRANSLATOR] label_namer_test.go "ようこそ" → "" (an error).
  { name: 'label that escapes to only underscores is unsupported', metric: { name: 'm', unit: '', kind: 'gauge', attributes: { 'ようこそ': 'x' } }, want: { unsupported: 'invalid_label_name' } },
  // [SPEC §Metric Attributes] colliding keys: values joined with ';' in lexicographic order of the original keys.
  {
    name: 'colliding keys merged with ; in key order',
    metric: { name: 'm', unit: '', kind: 'gauge', attributes: { host_name: 'second', 'host.name': 'first' } },
    want: { metricName: 'm', labels: { host_name: 'first;second' } },
  },
  // [SPEC §Resource Attributes] job = <service.namespace>/<service.name>, instance = service.instance.id; [PROM-GUIDE] same.
  {
    name: 'resource → job and instance',
    metric: { name: 'up.time', unit: 's', kind: 'gauge', attributes: { zone: 'a' } },
    resource: { attributes: { 'service.namespace': 'shop', 'service.name': 'cart', 'service.instance.id': 'pod-7', 'k8s.pod.name': 'cart-7' } },
    want: { metricName: 'up_time_seconds', labels: { instance: 'pod-7', job: 'shop/cart', zone: 'a' } },
  },
  // [SPEC §Resource Attributes] job is <service.name> when namespace is empty.
  {
    name: 'job without namespace is service.name',
    metric: { name: 'g', unit: '', kind: 'gauge' },
    resource: { attributes: { 'service.name': 'cart' } },
    want: { metricName: 'g', labels: { job: 'cart' } },
  },
  // [PROM-RECEIVER] helper.go: job/instance from the resource overwrite attributes of the same name.
  {
    name: 'job from resource overwrites a job attribute',
    metric: { name: 'g', unit: '', kind: 'gauge', attributes: { job: 'mine' } },
    resource: { attributes: { 'service.name': 'cart' } },
    want: { metricName: 'g', labels: { job: 'cart' } },
  },
  // [PROM-GUIDE] §Promoting resource attributes; [PROM-RECEIVER] helper.go: a data point attribute keeps its name.
  {
    name: 'promoted resource attributes become labels; attributes win collisions',
    metric: { name: 'g', unit: '', kind: 'gauge', attributes: { 'k8s.pod.name': 'from-point' } },
    resource: { attributes: { 'service.name': 'cart', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'from-resource', 'host.arch': 'amd64' } },
    options: { promoteResourceAttributes: ['k8s.namespace.name', 'k8s.pod.name'] },
    want: { metricName: 'g', labels: { job: 'cart', k8s_namespace_name: 'prod', k8s_pod_name: 'from-point' } },
  },
  // [PROM-CONFIG] promote_all_resource_attributes with ignore_resource_attributes.
  {
    name: 'promote all resource attributes except ignored',
    metric: { name: 'g', unit: '', kind: 'gauge' },
    resource: { attributes: { 'service.name': 'cart', 'host.arch': 'amd64', 'host.id': 'h-1' } },
    options: { promoteAllResourceAttributes: true, ignoreResourceAttributes: ['host.id'] },
    want: { metricName: 'g', labels: { host_arch: 'amd64', job: 'cart', service_name: 'cart' } },
  },
  // [OTLPTRANSLATOR] "utf8 metric with time unit"; [PROM-GUIDE] NoUTF8EscapingWithSuffixes keeps characters, adds suffixes.
  {
    name: 'NoUTF8EscapingWithSuffixes: characters kept, suffixes added, labels kept',
    metric: { name: 'respønse.time', unit: 'ms', kind: 'gauge', attributes: { 'http.method': 'GET' } },
    options: { translationStrategy: 'NoUTF8EscapingWithSuffixes' },
    want: { metricName: 'respønse.time_milliseconds', labels: { 'http.method': 'GET' } },
  },
  // [OTLPTRANSLATOR] "utf8 counter metric with total suffix".
  { name: 'NoUTF8EscapingWithSuffixes: counter gets _total', metric: { name: 'requêsts', unit: '', ...counter }, options: { translationStrategy: 'NoUTF8EscapingWithSuffixes' }, want: { metricName: 'requêsts_total' } },
  // [OTLPTRANSLATOR] "http.request.duration/OTel-style"; [PROM-GUIDE] NoTranslation passes names through.
  {
    name: 'NoTranslation: names and labels unaltered, no suffixes',
    metric: { name: 'http.request.duration', unit: 'ms', kind: 'histogram', ...cumulative, attributes: { 'http.method': 'GET' }, explicitBounds: [] },
    options: { translationStrategy: 'NoTranslation' },
    want: {
      metricName: 'http.request.duration',
      samples: [
        { name: 'http.request.duration_sum', labels: { 'http.method': 'GET' } },
        { name: 'http.request.duration_count', labels: { 'http.method': 'GET' } },
        { name: 'http.request.duration_bucket', labels: { 'http.method': 'GET', le: '+Inf' } },
      ],
    },
  },
  // [PROM-GUIDE] UnderscoreEscapingWithoutSuffixes escapes but appends no type or unit suffix.
  { name: 'UnderscoreEscapingWithoutSuffixes: escaped, no _total, no unit', metric: { name: 'http.requests', unit: 's', ...counter }, options: { translationStrategy: 'UnderscoreEscapingWithoutSuffixes' }, want: { metricName: 'http_requests' } },
  // [OTLPTRANSLATOR] "metric starting with digit gets underscore prefix".
  { name: 'UnderscoreEscapingWithoutSuffixes: leading digit → _', metric: { name: '123metric', unit: '', kind: 'gauge' }, options: { translationStrategy: 'UnderscoreEscapingWithoutSuffixes' }, want: { metricName: '_123metric' } },
  // [PROM-CONFIG] convert_histograms_to_nhcb: one native histogram with custom buckets, no suffixes.
  {
    name: 'convert_histograms_to_nhcb: one native series',
    metric: { name: 'latency', unit: 's', kind: 'histogram', ...cumulative, explicitBounds: [1, 2] },
    options: { convertHistogramsToNhcb: true },
    want: { metricName: 'latency_seconds', type: 'native_histogram', samples: [{ name: 'latency_seconds', labels: {} }] },
  },
  // [PROM-RECEIVER] an attribute named `le` would duplicate the bucket label; tally reports it instead of guessing.
  { name: 'attribute le on a histogram is a reserved collision', metric: { name: 'h', unit: '', kind: 'histogram', ...cumulative, attributes: { le: '1' } }, want: { unsupported: 'reserved_label_collision' } },
];

for (const c of cases) {
  test(`translate: ${c.name}`, () => {
    const metric: OtlpMetricShape = { unit: '', attributes: {}, ...c.metric };
    const got = expectedSeries(metric, c.resource ?? noResource, c.options);
    if ('unsupported' in c.want) {
      assert.ok('unsupported' in got, `expected unsupported, got ${JSON.stringify(got)}`);
      assert.equal(got.unsupported, c.want.unsupported);
      return;
    }
    assert.ok(!('unsupported' in got), `unexpected ${JSON.stringify(got)}`);
    assert.equal(got.metricName, c.want.metricName);
    if (c.want.type !== undefined) assert.equal(got.type, c.want.type);
    if (c.want.unit !== undefined) assert.equal(got.unit, c.want.unit);
    if (c.want.samples !== undefined) assert.deepEqual(got.samples, c.want.samples);
    if (c.want.labels !== undefined) assert.deepEqual(got.samples[0].labels, c.want.labels);
  });
}

test('translate: at least 25 cases, each with a source', () => {
  assert.ok(cases.length >= 25);
});

// [PROM-GUIDE] §Including resource attributes at query time: target_info carries the non-identifying
// resource attributes plus job and instance; service.* only with keep_identifying_resource_attributes.
test('target_info: other resource attributes plus job and instance', () => {
  const resource: OtlpResourceShape = { attributes: { 'service.name': 'cart', 'service.instance.id': 'pod-7', 'k8s.cluster.name': 'c1', 'host.cpu.count': 8 } };
  assert.deepEqual(expectedTargetInfo(resource), { name: 'target_info', labels: { host_cpu_count: '8', instance: 'pod-7', job: 'cart', k8s_cluster_name: 'c1' } });
  assert.deepEqual(expectedTargetInfo(resource, { keepIdentifyingResourceAttributes: true }), {
    name: 'target_info',
    labels: { host_cpu_count: '8', instance: 'pod-7', job: 'cart', k8s_cluster_name: 'c1', service_instance_id: 'pod-7', service_name: 'cart' },
  });
});

// [PROM-GUIDE] no target_info without service.name and service.instance.id; [PROM-RECEIVER] helper.go
// addResourceTargetInfo: none when only identifying attributes are present.
test('target_info: none without identity or without other attributes', () => {
  assert.equal(expectedTargetInfo({ attributes: { 'host.name': 'h' } }), null);
  assert.equal(expectedTargetInfo({ attributes: { 'service.name': 'cart', 'service.instance.id': 'i' } }), null);
});

// [PROM-RECEIVER] helper.go formats le with strconv.FormatFloat(bound, 'f', -1, 64).
test('formatFloatLikeGo matches Go strconv f/-1 on exponent-range values', () => {
  assert.equal(formatFloatLikeGo(1e-7), '0.0000001');
  assert.equal(formatFloatLikeGo(2.5e21), '2500000000000000000000');
  assert.equal(formatFloatLikeGo(-1.25e-8), '-0.0000000125');
  assert.equal(formatFloatLikeGo(1000000), '1000000');
  assert.equal(formatFloatLikeGo(Infinity), '+Inf');
});

test('compareCodePoints orders astral characters after U+FFFD, as UTF-8 bytes do', () => {
  assert.ok(compareCodePoints('a\u{1F600}', 'a\uFFFD') > 0);
  assert.ok(compareCodePoints('__name__', 'a') < 0);
  assert.ok(compareCodePoints('Zone', '__name__') < 0);
  assert.equal(compareCodePoints('x', 'x'), 0);
});

// Property: translation is deterministic and label order never depends on attribute insertion order.
test('translation ignores attribute insertion order', () => {
  const keys = ['b.x', 'a', 'b_x', 'c-d', '9z', '_u'];
  const base = expectedSeries({ name: 'p', unit: '', kind: 'gauge', attributes: Object.fromEntries(keys.map((k, i) => [k, `v${i}`])) }, noResource);
  for (let rotation = 1; rotation < keys.length; rotation++) {
    const rotated = [...keys.slice(rotation), ...keys.slice(0, rotation)];
    const attributes = Object.fromEntries(rotated.map((k) => [k, `v${keys.indexOf(k)}`]));
    const got = expectedSeries({ name: 'p', unit: '', kind: 'gauge', attributes }, noResource);
    assert.deepEqual(got, base);
    assert.ok(!('unsupported' in got));
    assert.deepEqual(Object.keys(got.samples[0].labels), Object.keys(got.samples[0].labels).sort(compareCodePoints));
  }
});
