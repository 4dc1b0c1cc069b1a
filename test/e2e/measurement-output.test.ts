/**
 * Live: a real tally run (load on the embedded target, OTLP telemetry into Prometheus 3 and
 * read back from it) with its own figures pushed to the same Prometheus 3, as remote write
 * and as OTLP (straight to Prometheus's OTLP receiver, and through the OpenTelemetry
 * Collector's prometheus_remote_write exporter). At the end, the last value of every
 * counter equals its results.json field, and each native histogram's count equals
 * results.json's count; the measurement series never mix with the generated ones.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MEASUREMENT_METRICS, PROMETHEUS_NAMESPACE, promName } from '../../core/measurement-metrics.ts';
import { PrometheusApi } from '../../readback/prometheus/api.ts';
import { otelcolConfig, startOtelcol, type OtelcolServer } from '../peers/otelcol.ts';
import { startPrometheus3, type Prometheus3Server } from '../peers/prometheus3.ts';
import { expectedCounters, labelText, liveScenario, runLive, vector } from './measurement-output-helpers.ts';

const HISTOGRAM_COUNTS: Record<string, string> = { latency: 'latencyUs', serviceTime: 'serviceUs', connect: 'connectUs', ttfb: 'ttfbUs', schedulerLag: 'schedulerLagUs' };

/** Every counter's last value, every histogram's count, against results.json. */
async function assertExact(api: PrometheusApi, results: any): Promise<void> {
  const runId = results.run.id;
  const expected = expectedCounters(results);
  const seen = new Map<string, number>();
  for (const s of await vector(api, `last_over_time({__name__=~"${PROMETHEUS_NAMESPACE}.*_total", run_id="${runId}"}[10m])`)) {
    // Labels a storing path adds (the collector's exporter: the instrumentation scope) are not the output's.
    const { __name__: name, job, run_id: _r, scenario, shard, otel_scope_name: _s, otel_scope_version: _v, otel_scope_schema_url: _u, ...rest } = s.labels;
    assert.deepEqual([job, scenario, shard], ['tally-self', results.run.scenario, '0'], name);
    seen.set(`${name}${labelText(rest)}`, s.value);
  }
  for (const [series, value] of expected) assert.equal(seen.get(series), value, series);
  for (const [key, field] of Object.entries(HISTOGRAM_COUNTS)) {
    const [h] = await vector(api, `histogram_count(last_over_time(${promName(key)}{run_id="${runId}"}[10m]))`);
    assert.equal(h?.value, results.summary.load[field].count, key);
  }
  const [lag] = await vector(api, `histogram_count(last_over_time(${promName('visibilityLag')}{run_id="${runId}"}[10m]))`);
  assert.equal(lag?.value, results.readback.visibility.lagUs.count, 'visibility lag');
  const [saturated] = await vector(api, `last_over_time(${promName('saturated')}{run_id="${runId}"}[10m])`);
  assert.equal(saturated?.value, results.generator.saturated ? 1 : 0);
  // The p99 of the native histogram lands within a bucket (factor 2^(1/8)) of results.json's.
  const [p99] = await vector(api, `histogram_quantile(0.99, last_over_time(${promName('latency')}{run_id="${runId}"}[10m]))`);
  const exact = results.summary.load.latencyUs.p99 / 1e6;
  assert.ok(p99.value / exact < 2 ** (1 / 8) * 1.01 && exact / p99.value < 2 ** (1 / 8) * 1.01, `p99 ${p99.value} vs ${exact}`);
  // Live, not only at the end: one sample per interval line, plus the final one.
  const [samples] = await vector(api, `count_over_time(${promName('requests')}{run_id="${runId}"}[10m])`);
  assert.ok(samples.value >= results.run.plannedDurationMs / 1000, `${samples.value} samples`);
}

/** The measurement series and the generated ones never share a name or the run label. */
async function assertApart(api: PrometheusApi, results: any): Promise<void> {
  const runId = results.run.id;
  const names = new Set((await vector(api, `group by (__name__) ({run_id="${runId}"})`)).map((s) => s.labels.__name__));
  assert.ok(names.size > 30);
  for (const n of names) assert.ok(n.startsWith(PROMETHEUS_NAMESPACE) || n === 'target_info', n);
  assert.deepEqual(await vector(api, `{__name__=~"${PROMETHEUS_NAMESPACE}.*", tally_run_id!=""}`), []);
}

function assertDelivered(results: any, kind: string): void {
  assert.equal(results.complete, true);
  assert.deepEqual(results.findings.map((f: { kind: string }) => f.kind), [], 'the generated telemetry read back whole, nothing unattributed');
  const [o] = results.measurementOutputs;
  assert.equal(o.kind, kind);
  assert.equal(o.finalDelivered, true);
  assert.equal(o.snapshotsDelivered, o.snapshots);
  assert.deepEqual([o.snapshotsDropped, o.snapshotsFailed, o.snapshotsUnsent], [0, 0, 0]);
}

describe('live: the measurement output into Prometheus 3', () => {
  /** The system under test: the generated telemetry goes here and is read back from here. */
  let sut: Prometheus3Server;
  /** The team's Prometheus, where tally's own figures go (apart, so the read-back waterfall counts only the generated samples). */
  let prom: Prometheus3Server;
  let api: PrometheusApi;
  before(async () => {
    [sut, prom] = await Promise.all([startPrometheus3({ otlp: { promote_resource_attributes: ['tally.run.id'] } }), startPrometheus3()]);
    api = new PrometheusApi({ url: prom.url });
  });
  after(async () => {
    await api?.close();
    await Promise.all([sut?.stop(), prom?.stop()]);
  });

  test('remote write (native histograms): every counter equals results.json, histogram counts too', async () => {
    const results = await runLive(liveScenario({ name: 'out-rw', otlpUrl: sut.otlpUrl, prometheusUrl: sut.url, outputs: `  - { type: prometheus-remote-write, url: ${prom.remoteWriteUrl} }` }));
    assertDelivered(results, 'prometheus-remote-write');
    assert.equal(results.summary.metrics.pointsMissing, 0);
    await assertExact(api, results);
    await assertApart(api, results);
  });

  test('OTLP to Prometheus 3 (exponential histograms): the same series, the same exact values', async () => {
    const results = await runLive(liveScenario({ name: 'out-otlp', otlpUrl: sut.otlpUrl, prometheusUrl: sut.url, outputs: `  - { type: otlp, url: ${prom.otlpUrl} }` }));
    assertDelivered(results, 'otlp');
    await assertExact(api, results);
    await assertApart(api, results);
    // Every catalogue name Prometheus stored is the catalogue's Prometheus name.
    const names = new Set((await vector(api, `group by (__name__) ({run_id="${results.run.id}"})`)).map((s) => s.labels.__name__));
    const catalogue = new Set(MEASUREMENT_METRICS.map((m) => m.prometheusName));
    for (const n of names) assert.ok(catalogue.has(n) || n === 'target_info', n);
  });

  describe('through the OpenTelemetry Collector', () => {
    let otelcol: OtelcolServer;
    before(async () => {
      otelcol = await startOtelcol({
        config: (ports) => otelcolConfig(ports, {
          exporters: { prometheus_remote_write: { endpoint: prom.remoteWriteUrl, tls: { insecure: true } } },
          pipelines: { metrics: { exporters: ['prometheus_remote_write'] } },
        }),
      });
    });
    after(async () => {
      await otelcol?.stop();
    });

    test('OTLP → collector → prometheus_remote_write → Prometheus 3: exact', async () => {
      const results = await runLive(liveScenario({ name: 'out-col', otlpUrl: sut.otlpUrl, prometheusUrl: sut.url, outputs: `  - { type: otlp, url: ${otelcol.httpEndpoint} }` }));
      assertDelivered(results, 'otlp');
      // The exporter's own batching is asynchronous to the acknowledgement: wait for the final samples.
      const runId = results.run.id;
      const want = results.summary.load.requests;
      for (let i = 0; i < 40; i++) {
        const [v] = await vector(api, `last_over_time(${promName('requests')}{run_id="${runId}"}[10m])`);
        if (v?.value === want) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      await assertExact(api, results);
    });
  });
});
