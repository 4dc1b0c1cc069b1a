/**
 * End to end against the real Prometheus 2.42 (Debian's, started on 127.0.0.1 with the
 * remote-write receiver and a temporary TSDB): `tally run` sends by remote write, polls
 * visibility, reads every (series, tick) back and reconciles with the ledger.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runScenario } from '../../pipeline/run.ts';
import { counterIncrement } from '../../core/series.ts';
import { decodeHistogram, initHistograms } from '../../core/histogram.ts';
import { requestFault } from '../../workers/remote-write-shard.ts';
import { startPrometheus, type PrometheusServer } from '../peers/prometheus.ts';
import { captureStdout, remoteWriteScenario, scenarioFile } from './readback-helpers.ts';

describe('tally run with remote write and backends.prometheus, on a real Prometheus 2.42', () => {
  let prom: PrometheusServer;
  before(async () => {
    prom = await startPrometheus();
  });
  after(async () => {
    await prom.stop();
  });

  test('10k series × 10 ticks of 500 ms: 0 loss, exact values, every point visible with a measured lag, a waterfall that adds up', async () => {
    const seed = 42;
    const { dir, path } = await scenarioFile(remoteWriteScenario({
      name: 'rb-10k', seed, remoteWriteUrl: prom.remoteWriteUrl, prometheusUrl: prom.url, attributes: '{ route: 20, status: 5, pod: 100 }', ticks: 10, intervalMs: 500,
      extraPrometheus: '    datapathMetrics: true',
    }));
    const stdout = captureStdout();
    const { results, outDir } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout, handleSignals: false });
    assert.equal(results.complete, true);
    const m = results.summary.metrics;
    assert.equal(m.protocol, 'prometheus/remote-write');
    assert.equal(m.pointsSent, 100_000);
    assert.equal(m.pointsAcknowledged, 100_000);
    assert.equal(m.pointsReceived, 100_000);
    assert.equal(m.pointsMissing, 0);
    assert.equal(m.valueMismatches, 0);
    assert.equal(m.duplicatePoints, 0);
    assert.equal(m.unexpectedPoints, 0);
    assert.equal(results.remoteWrite.requests, m.requests);
    assert.deepEqual(results.remoteWrite.statuses, { '204': m.requests });

    // Exact values, checked apart from the read-back code: Prometheus's own sum at the last
    // tick equals Σ 10 · inc(i) computed here from the seed.
    const runId = results.run.id;
    const lastTickMs = Date.parse(results.run.startedAt) + 10 * 500;
    let expectedSum = 0;
    for (let i = 0; i < 10_000; i++) expectedSum += 10 * counterIncrement(seed, 0, i);
    const body = new URLSearchParams({ query: `sum(tally_requests_total{tally_run_id="${runId}"})`, time: String(lastTickMs / 1000) });
    const reply = (await (await fetch(`${prom.url}/api/v1/query?${body}`)).json()) as { data: { result: { value: [number, string] }[] } };
    assert.equal(Number(reply.data.result[0].value[1]), expectedSum);

    const rb = results.readback;
    assert.equal(rb.runLabel.value, runId);
    assert.deepEqual(rb.metricNames, ['tally_requests_total']);
    assert.equal(rb.report.pointsPresent, 100_000);
    assert.equal(rb.report.seriesMissing, 0);
    const v = rb.visibility;
    assert.equal(v.pointsExpected, 100_000);
    assert.equal(v.pointsVisible, 100_000);
    assert.equal(v.onTime + v.late, 100_000);
    assert.equal(v.lost, 0);
    assert.equal(v.pending, 0);
    assert.equal(v.negativeLag, 0);
    assert.equal(v.lagUs.count, 100_000);
    assert.ok(v.lagUs.min >= 0 && v.lagUs.min <= v.lagUs.p50 && v.lagUs.p50 <= v.lagUs.max, JSON.stringify(v.lagUs));
    initHistograms();
    const h = decodeHistogram(v.lagHistogramUs);
    assert.equal(h.totalCount, 100_000);
    h.destroy();

    const [w] = results.waterfalls;
    assert.deepEqual(w.stages.map((s: { stage: string; count: number }) => [s.stage, s.count]), [['sent', 100_000], ['acknowledged', 100_000], ['stored', 100_000], ['queryable', 100_000]]);
    assert.equal(w.lossTotal, 0);
    assert.equal(w.unattributedTotal, 0);
    assert.equal(results.prometheusIngest.samplesAppended, 100_000);
    // This Prometheus scrapes no Cilium or node-exporter: the window was queried, nothing found, not an error.
    assert.equal(results.datapathMetrics.available, false);
    assert.equal(results.datapathMetrics.missing.length, 14);

    await access(join(outDir, 'plan.json'));
    await access(join(outDir, 'ledger.bin'));
    const summary = await readFile(join(outDir, 'summary.md'), 'utf8');
    assert.match(summary, /## Read-back \(Prometheus 2\.42/);
    assert.match(summary, /## Loss waterfall: metric data points/);
    assert.match(stdout.text(), /time to visible p50/);
  });

  test('out-of-order and duplicate samples: the requests are refused whole (HTTP 400), the ledger counts them failed, and exactly their points are missing', async () => {
    const seed = 5;
    const ticks = 8;
    const { dir, path } = await scenarioFile(remoteWriteScenario({
      name: 'rb-faults', seed, remoteWriteUrl: prom.remoteWriteUrl, prometheusUrl: prom.url, attributes: '{ route: 10, pod: 100 }', ticks, intervalMs: 500,
      extraTelemetry: '  maxBatchDataPoints: 100\n  remoteWrite: { faults: { outOfOrderRequestRatio: 0.15, duplicateRequestRatio: 0.15 } }',
    }).replace('  maxBatchDataPoints: 2000\n', ''));
    const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: captureStdout(), handleSignals: false });
    const m = results.summary.metrics;
    const rejections = results.remoteWrite.rejections;

    // The planned faults, per request, from the same seeded decision the shards made.
    const workers = results.run.workers;
    const planned = { out_of_order: 0, duplicate: 0 };
    let faultedPoints = 0;
    const faults = { outOfOrderRequestRatio: 0.15, duplicateRequestRatio: 0.15 };
    for (let shard = 0; shard < workers; shard++) {
      const start = Math.floor((1000 * shard) / workers);
      const end = Math.floor((1000 * (shard + 1)) / workers);
      for (let s = start; s < end; s += 100) {
        for (let k = 1; k <= ticks; k++) {
          const f = requestFault({ seed, faults }, 0, s, k);
          if (f === null) continue;
          planned[f]++;
          faultedPoints += Math.min(end, s + 100) - s;
        }
      }
    }
    assert.ok(planned.out_of_order > 0 && planned.duplicate > 0, `this seed plans both faults: ${JSON.stringify(planned)}`);
    assert.deepEqual(rejections, planned);
    assert.equal(results.remoteWrite.statuses['400'], planned.out_of_order + planned.duplicate);
    assert.equal(m.pointsFailed, faultedPoints);
    assert.equal(m.pointsAcknowledged, 8000 - faultedPoints);
    // Prometheus stored nothing of a refused request (it rolls it back), and never the
    // duplicate's conflicting value.
    assert.equal(m.pointsMissing, faultedPoints);
    assert.equal(m.missingByStage.failedExport, faultedPoints);
    assert.equal(m.missingByStage.lostAfterAck, 0);
    assert.equal(m.valueMismatches, 0);
    assert.equal(m.unexpectedPoints, 0);
    const kinds = Object.fromEntries(results.findings.map((f: { kind: string; count: number }) => [f.kind, f.count]));
    assert.equal(kinds.remote_write_rejected_out_of_order, planned.out_of_order);
    assert.equal(kinds.remote_write_rejected_duplicate, planned.duplicate);

    // Visibility is judged on acknowledged points only.
    assert.equal(results.readback.visibility.pointsExpected, 8000 - faultedPoints);
    assert.equal(results.readback.visibility.lost, 0);
    // The waterfall: the failures are the sender's; Prometheus's out-of-order discards are
    // in refused requests (a backend_refused finding), duplicates move no TSDB counter.
    const [w] = results.waterfalls;
    const ack = w.steps.find((s: { to: string }) => s.to === 'acknowledged');
    assert.deepEqual(ack.attributed, [{ cause: 'failed_export', count: faultedPoints }]);
    assert.equal(w.unattributedTotal, 0);
    const refused = w.findings.find((f: { kind: string; reason?: string }) => f.kind === 'backend_refused' && f.reason === 'out_of_order');
    assert.equal(refused.count, planned.out_of_order);
    assert.equal(results.prometheusIngest.writeRequestsByCode['400'], planned.out_of_order + planned.duplicate);
  });

  test('with collector self-metrics (a loopback stand-in serving hand-written text in the documented names, not a live collector), the waterfall has the collector stages and adds up', async () => {
    // The stand-in reports a collector that accepted and exported exactly the run's 400 points.
    let reading = 0;
    const text = (accepted: number, sent: number): string => [
      '# TYPE otelcol_receiver_accepted_metric_points_total counter',
      `otelcol_receiver_accepted_metric_points_total{receiver="otlp",transport="http"} ${accepted}`,
      '# TYPE otelcol_receiver_refused_metric_points_total counter',
      'otelcol_receiver_refused_metric_points_total{receiver="otlp",transport="http"} 0',
      '# TYPE otelcol_exporter_sent_metric_points_total counter',
      `otelcol_exporter_sent_metric_points_total{exporter="prometheusremotewrite"} ${sent}`,
      '# TYPE otelcol_exporter_send_failed_metric_points_total counter',
      'otelcol_exporter_send_failed_metric_points_total{exporter="prometheusremotewrite"} 0',
      '',
    ].join('\n');
    const collector = createServer((_req, res) => {
      const body = reading++ === 0 ? text(5000, 5000) : text(5400, 5400);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(body);
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const metricsUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/metrics`;
      const { dir, path } = await scenarioFile(remoteWriteScenario({
        name: 'rb-collector', seed: 8, remoteWriteUrl: prom.remoteWriteUrl, prometheusUrl: prom.url, attributes: '{ route: 100 }', ticks: 4, intervalMs: 500,
      }).replace('backends:\n', `backends:\n  collector: { metricsUrl: ${metricsUrl}, receivers: [otlp], exporters: [prometheusremotewrite] }\n`));
      const { results, outDir } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: captureStdout(), handleSignals: false });
      assert.ok(reading >= 3, `read before the first export, every second during the run and after read-back (${reading} readings)`);
      const [w] = results.waterfalls;
      assert.deepEqual(w.stages.map((s: { stage: string; count: number }) => [s.stage, s.count]), [
        ['sent', 400], ['acknowledged', 400], ['collector_accepted', 400], ['exported', 400], ['stored', 400], ['queryable', 400],
      ]);
      assert.equal(w.lossTotal, 0);
      assert.equal(w.unattributedTotal, 0);
      assert.deepEqual(w.findings, []);
      assert.match(await readFile(join(outDir, 'summary.md'), 'utf8'), /accepted by the collector receiver \| 400/);
    } finally {
      collector.closeAllConnections();
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
