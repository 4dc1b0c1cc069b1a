/**
 * A cardinality sweep against the real pipeline, as a cardinality-budgeting workshop would
 * run it: tally → OpenTelemetry Collector (OTLP/HTTP, batch processor, prometheus_remote_write
 * exporter) → Prometheus 3, all started on 127.0.0.1 by the test, read back from Prometheus.
 * The SLO: no data point lost (refused, dropped, or not visible within the hard deadline) and
 * visibility p99 within the SLO's lag. The sweep must end (found, or above the range, or
 * generator-limited, all with figures for every step), and the knee it finds is reported (a
 * measured figure, never asserted as a constant). Every step's series are new to Prometheus
 * (each run has its own run label), so later steps meet a larger head: as a shared backend would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSweep } from '../../pipeline/sweep.ts';
import { otelcolConfig, startOtelcol, type OtelcolServer } from '../peers/otelcol.ts';
import { startPrometheus3, type Prometheus3Server } from '../peers/prometheus3.ts';
import { captureStdout, scenarioFile } from './readback-helpers.ts';

let prom: Prometheus3Server;
let collector: OtelcolServer;

before(async () => {
  prom = await startPrometheus3();
  collector = await startOtelcol({
    config: (ports) => otelcolConfig(ports, {
      processors: { batch: {} },
      exporters: { prometheus_remote_write: { endpoint: prom.remoteWriteUrl, resource_to_telemetry_conversion: { enabled: true } } },
      pipelines: { metrics: { processors: ['batch'], exporters: ['prometheus_remote_write'] } },
    }),
  });
});

after(async () => {
  await collector?.stop();
  await prom?.stop();
});

test('the collector → Prometheus 3 pipeline: a cardinality sweep finds where it starts losing or lagging', async (t) => {
  const { dir, path } = await scenarioFile(`
name: pipeline-cardinality
seed: 23
duration: 2s
telemetry:
  endpoint: ${collector.httpEndpoint}
  exportInterval: 1s
  retry: { enabled: false }
  metrics:
    - { name: tally.requests, instrument: counter, attributes: { route: 10, pod: 100 } }
backends:
  prometheus: { url: ${prom.url}, pollInterval: 500ms }
  collector: { metricsUrl: ${collector.metricsUrl}, receivers: [otlp], exporters: [prometheus_remote_write] }
reconcile: { settle: 1s, maxWait: 4s }
`);
  const outDir = join(dir, 'sweep');
  const started = performance.now();
  const { report } = await runSweep({
    scenarioPath: path,
    vary: 'telemetry.metrics.0.attributes.pod',
    from: '1000',
    to: '30000',
    steps: '3',
    scale: 'log',
    resolution: '25%',
    slo: "{ otlp_loss: ['rate==0'], visibility_lag: ['p(99)<2s'] }",
    outDir,
    // A busy shared host starves tally's main thread now and then: a saturated step is run once more before it counts.
    retryLimited: 1,
    // An overloaded step leaves batches in the collector's queue: they are exported before the next step starts.
    drainMaxMs: 30_000,
    stdout: captureStdout(),
    handleSignals: false,
  });
  const seconds = (performance.now() - started) / 1000;
  const rows = report.steps.map((s) => `${s.valueText}×10 series: ${s.verdict}, ${s.figures?.throughputPerSecond?.toFixed(0)} points/s, lag p99 ${s.figures?.latencyP99Ms?.toFixed(0)} ms, loss ${s.figures?.lossRatio?.toFixed(4)}`);
  t.diagnostic(`${report.knee.summary} (in ${seconds.toFixed(0)} s)\n${rows.join('\n')}`);
  assert.ok(['found', 'above-range', 'generator-limited'].includes(report.knee.status), report.knee.summary);
  assert.equal(report.complete, true);
  assert.equal(report.steps[0].verdict, 'pass', 'the smallest step meets the SLO');
  for (const step of report.steps) {
    const results = JSON.parse(readFileSync(join(outDir, step.runDir, 'results.json'), 'utf8'));
    assert.equal(results.readback.backend, 'prometheus', 'every step was read back from Prometheus');
    assert.ok(step.figures?.throughputPerSecond !== undefined && step.figures.lossRatio !== undefined);
    // A failed step names what broke: points lost (with the waterfall saying where) or lag.
    if (step.verdict === 'fail') assert.ok(step.thresholds!.some((th) => th.status !== 'ok'));
    if (step.index > 1) assert.ok(step.collectorQueue !== undefined, 'the collector\'s queues were read before the step');
  }
});
