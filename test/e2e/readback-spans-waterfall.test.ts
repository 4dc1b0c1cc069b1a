/**
 * The spans waterfall end to end: a run sending traces to the embedded receiver, with
 * `backends.collector` pointed at a loopback stand-in that serves hand-written collector
 * self-metrics in the documented names (not a live collector). The stand-in says its
 * receiver accepted every span of the run and its exporter failed to send 30 of them; the
 * waterfall must start from the span ledger and attribute exactly that loss, and nothing
 * else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario } from '../../pipeline/run.ts';


test('a traces run with collector self-metrics gets a spans waterfall from the span ledger, with the collector stages and their losses', async () => {
  let reading = 0;
  let sentSpans = 0;
  const text = (accepted: number, refused: number, sent: number, failed: number): string => [
    '# TYPE otelcol_receiver_accepted_spans_total counter',
    `otelcol_receiver_accepted_spans_total{receiver="otlp",transport="grpc"} ${accepted}`,
    '# TYPE otelcol_receiver_refused_spans_total counter',
    `otelcol_receiver_refused_spans_total{receiver="otlp",transport="grpc"} ${refused}`,
    '# TYPE otelcol_exporter_sent_spans_total counter',
    `otelcol_exporter_sent_spans_total{exporter="otlp/tempo"} ${sent}`,
    '# TYPE otelcol_exporter_send_failed_spans_total counter',
    `otelcol_exporter_send_failed_spans_total{exporter="otlp/tempo"} ${failed}`,
    '',
  ].join('\n');
  const collector = createHttpServer((_req, res) => {
    // The first reading (before the run): baseline counters. Every later one: the run's spans accepted, 30 of them failed to export.
    const body = reading++ === 0 ? text(1000, 0, 1000, 0) : text(1000 + sentSpans, 0, 1000 + sentSpans - 30, 30);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  try {
    const metricsUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/metrics`;
    const dir = await mkdtemp(join(tmpdir(), 'tally-spans-wf-'));
    const path = join(dir, 'scenario.yaml');
    await writeFile(path, `
name: spans-waterfall
seed: 5
duration: 2s
telemetry:
  exportInterval: 1s
  traces: { ratePerSecond: 50, spansPerTrace: 4, batchDelay: 200ms }
backends:
  collector: { metricsUrl: ${metricsUrl}, receivers: [otlp], exporters: [otlp/tempo] }
`);
    // The stand-in needs the run's span count for its second reading: 2 s × 50 traces × 4 spans.
    sentSpans = 400;
    const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: { write: () => true, isTTY: false }, handleSignals: false });
    assert.ok(reading >= 3, `read before the first export, every second during the run and after it (${reading} readings)`);
    const w = results.waterfalls.find((x: { signal: string }) => x.signal === 'spans');
    assert.ok(w, JSON.stringify(results.waterfalls));
    const stage = (name: string): number => w.stages.find((s: { stage: string }) => s.stage === name)?.count;
    assert.equal(stage('sent'), 400);
    assert.equal(stage('acknowledged'), 400);
    assert.equal(stage('collector_accepted'), 400);
    assert.equal(stage('exported'), 370);
    const causes = w.steps.flatMap((s: { attributed: { cause: string; count: number }[] }) => s.attributed);
    assert.deepEqual(causes, [{ cause: 'send_failed', count: 30 }]);
    assert.deepEqual(w.findings, []);
    assert.equal(w.unattributedTotal, 0);
    assert.deepEqual(w.counters, [{ source: 'collector', readings: reading, failedReadings: 0, resets: 0, restarts: 0, intervalMs: 1000 }]);
  } finally {
    collector.closeAllConnections();
    await new Promise((resolve) => collector.close(resolve));
  }
});
