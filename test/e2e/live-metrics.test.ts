/**
 * Suite 2a, live: `tally run` through the real pipeline, read back from a real Prometheus 3.
 *
 * - tally → Prometheus 3's own OTLP receiver (OTLP/HTTP protobuf), `tally.run.id` promoted;
 * - tally → OpenTelemetry Collector (OTLP/gRPC and OTLP/HTTP) → prometheusremotewrite
 *   exporter (resource attributes converted to labels) → Prometheus 3;
 * - explicit-bucket histograms as native histograms with custom buckets
 *   (`otlp.convert_histograms_to_nhcb`).
 *
 * Every point of every instrument must read back with the model's value (counters, up-down
 * counters, gauges, classic and native histograms), the waterfall must add up with nothing
 * unattributed, and what Prometheus actually stored (metric names, labels, target_info) is
 * checked against the OpenTelemetry → Prometheus naming, independently of tally's read-back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runScenario } from '../../pipeline/run.ts';
import { otelcolConfig, startOtelcol, type OtelcolServer } from '../peers/otelcol.ts';
import { startPrometheus3, type Prometheus3Server } from '../peers/prometheus3.ts';
import { captureStdout, scenarioFile } from './readback-helpers.ts';

/** The instruments of the suite: one of each, small cardinality, a fine exponential scale (merged to schema 8 by Prometheus). */
const METRICS = `
    - { name: tally.requests, instrument: counter, attributes: { route: 6, code: 3 } }
    - { name: tally.inflight, instrument: up-down-counter, attributes: { pod: 4 } }
    - { name: node.temperature, instrument: gauge, unit: Cel, attributes: { zone: 5 } }
    - { name: http.latency, instrument: histogram, unit: ms, buckets: [0.5, 5, 10, 50, 250], attributes: { route: 3 } }
    - { name: http.size, instrument: exponential-histogram, unit: By, scale: 11, maxSize: 12, attributes: { route: 3 } }`;
const SERIES = 18 + 4 + 5 + 3 + 3;
const TICKS = 4;

function scenario(name: string, endpoint: string, protocol: string, prometheusUrl: string, extra = '', collectorMetricsUrl?: string): string {
  return `
name: ${name}
seed: 17
duration: ${TICKS}s
telemetry:
  endpoint: ${endpoint}
  protocol: ${protocol}
  exportInterval: 1s
  resource: { deployment.environment: live }
  metrics:${METRICS}
backends:
  prometheus: { url: ${prometheusUrl}, pollInterval: 250ms${extra} }
${collectorMetricsUrl === undefined ? '' : `  collector: { metricsUrl: ${collectorMetricsUrl} }`}
reconcile: { settle: 3s, maxWait: 15s }
`;
}

async function run(text: string): Promise<any> {
  const { dir, path } = await scenarioFile(text);
  const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: captureStdout(), handleSignals: false });
  return results;
}

async function query(prom: Prometheus3Server, expr: string): Promise<{ metric: Record<string, string> }[]> {
  const body = new URLSearchParams({ query: expr, time: String(Date.now() / 1000) });
  const reply = (await (await fetch(`${prom.url}/api/v1/query?${body}`)).json()) as { status: string; data: { result: { metric: Record<string, string> }[] } };
  assert.equal(reply.status, 'success', expr);
  return reply.data.result;
}

/** Every point of every metric read back exactly, seen on time, and a waterfall with nothing unattributed. */
function assertExact(results: any, stages: string[]): void {
  const m = results.summary.metrics;
  assert.equal(results.complete, true);
  assert.equal(m.pointsSent, SERIES * TICKS);
  assert.equal(m.pointsAcknowledged, SERIES * TICKS);
  assert.equal(m.pointsReceived, SERIES * TICKS);
  assert.equal(m.pointsMissing, 0);
  assert.equal(m.valueMismatches, 0, JSON.stringify(results.readback.report.samples.valueMismatches.slice(0, 3)));
  assert.equal(m.unexpectedPoints, 0, JSON.stringify(results.readback.report.samples.unexpected.slice(0, 3)));
  assert.equal(results.readback.visibility.lost, 0);
  const w = results.waterfalls.find((x: { signal: string }) => x.signal === 'metric_points');
  assert.deepEqual(w.stages.map((s: { stage: string }) => s.stage), stages);
  for (const s of w.stages) assert.equal(s.count, SERIES * TICKS, `stage ${s.stage}`);
  assert.equal(w.unattributedTotal, 0);
  assert.deepEqual(results.findings.filter((f: { kind: string }) => f.kind !== 'late_points'), []);
}

describe('live: tally → Prometheus 3 OTLP receiver', () => {
  let prom: Prometheus3Server;
  before(async () => {
    prom = await startPrometheus3({ otlp: { promote_resource_attributes: ['tally.run.id'] } });
  });
  after(async () => {
    await prom?.stop();
  });

  test('every instrument reads back exactly; names and labels are what Prometheus stored', async () => {
    const results = await run(scenario('live-direct', prom.otlpUrl, 'http/protobuf', prom.url));
    assertExact(results, ['sent', 'acknowledged', 'stored', 'queryable']);
    assert.equal(results.readback.version.split('.')[0], '3');
    const runId = results.run.id;
    // Names as the OpenTelemetry → Prometheus compatibility spec gives them (unit and _total suffixes), checked on the TSDB.
    const names = new Set((await query(prom, `group by (__name__) ({tally_run_id="${runId}"})`)).map((s) => s.metric.__name__));
    assert.deepEqual([...names].sort(), [
      'http_latency_milliseconds_bucket', 'http_latency_milliseconds_count', 'http_latency_milliseconds_sum', 'http_size_bytes',
      'node_temperature_celsius', 'tally_inflight', 'tally_requests_total', 'target_info',
    ]);
    // Only the promoted resource attribute is on the data series; the rest is on target_info.
    const series = await query(prom, `tally_requests_total{tally_run_id="${runId}", route="route-0", code="code-0"}`);
    assert.deepEqual(Object.keys(series[0].metric).sort(), ['__name__', 'code', 'job', 'route', 'tally_run_id']);
    const info = await query(prom, `target_info{tally_run_id="${runId}"}`);
    assert.ok(info.length >= 1);
    for (const s of info) {
      assert.equal(s.metric.deployment_environment, 'live');
      assert.match(s.metric.tally_shard, /^\d+$/);
    }
    assert.deepEqual(results.readback.pathLabels, []);
    assert.ok(results.prometheusIngest.targetInfoSamples > 0, 'target_info samples counted apart from data points');
    assert.ok(results.prometheusIngest.histogramPartSamples > 0, 'classic histogram parts counted apart');
  });

  test('with otlp.convert_histograms_to_nhcb, explicit histograms read back as native histograms with custom buckets', async () => {
    const nhcb = await startPrometheus3({ otlp: { promote_resource_attributes: ['tally.run.id'], convert_histograms_to_nhcb: true } });
    try {
      const results = await run(scenario('live-nhcb', nhcb.otlpUrl, 'http/protobuf', nhcb.url, ', convertHistogramsToNhcb: true'));
      assertExact(results, ['sent', 'acknowledged', 'stored', 'queryable']);
      const names = (await query(nhcb, `group by (__name__) ({tally_run_id="${results.run.id}", __name__=~"http_latency.*"})`)).map((s) => s.metric.__name__);
      assert.deepEqual(names, ['http_latency_milliseconds']);
    } finally {
      await nhcb.stop();
    }
  });
});

describe('live: tally → OpenTelemetry Collector → prometheusremotewrite → Prometheus 3', () => {
  let prom: Prometheus3Server;
  let collector: OtelcolServer;
  before(async () => {
    prom = await startPrometheus3();
    collector = await startOtelcol({
      config: (ports) => otelcolConfig(ports, {
        processors: { batch: { timeout: '200ms' } },
        exporters: { prometheus_remote_write: { endpoint: prom.remoteWriteUrl, resource_to_telemetry_conversion: { enabled: true } } },
        pipelines: { metrics: { processors: ['batch'], exporters: ['prometheus_remote_write'] } },
      }),
    });
  });
  after(async () => {
    await collector?.stop();
    await prom?.stop();
  });

  for (const protocol of ['grpc', 'http/protobuf'] as const) {
    test(`over OTLP ${protocol}: every instrument reads back exactly; the collector's own counters agree`, async () => {
      const endpoint = protocol === 'grpc' ? collector.grpcEndpoint : collector.httpEndpoint;
      const results = await run(scenario(`live-col-${protocol.replace('/', '-')}`, endpoint, protocol, prom.url, '', collector.metricsUrl));
      assertExact(results, ['sent', 'acknowledged', 'collector_accepted', 'exported', 'stored', 'queryable']);
      // resource_to_telemetry_conversion turns the other resource attributes into labels, and the exporter adds the scope.
      assert.deepEqual(results.readback.pathLabels, ['deployment_environment', 'otel_scope_name', 'otel_scope_version', 'service_name', 'tally_shard']);
      const series = await query(prom, `tally_requests_total{tally_run_id="${results.run.id}", route="route-0", code="code-0"}`);
      assert.equal(series.length, 1, 'one series per attribute set, whatever shard sent it');
    });
  }
});
