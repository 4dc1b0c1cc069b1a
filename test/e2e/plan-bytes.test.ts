/**
 * The bytes `tally plan` counts are the bytes `tally run` sends: on real sockets, the embedded
 * receiver's byte count over a run equals the plan's OTLP protobuf bytes per export × ticks
 * exactly (every instrument: the fast path's fixed-width fields take the same bytes every
 * tick), and an HTTP sink taking remote write receives the plan's remote-write protobuf bytes
 * per export × ticks exactly. Text and compression vary a little with the values (OTLP/JSON
 * writes numbers as digits; snappy's output depends on the bytes): within 1 % of tick 1's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { uncompressSync } from 'snappy';
import { planScenario } from '../../pipeline/plan.ts';
import { runScenario } from '../../pipeline/run.ts';
import { captureStdout, scenarioFile } from './readback-helpers.ts';

const METRICS = `
    - { name: tally.requests, instrument: counter, attributes: { route: 30, pod: 7 } }
    - { name: tally.inflight, instrument: up-down-counter, attributes: { pod: 7 } }
    - { name: node.temperature, instrument: gauge, unit: Cel, attributes: { zone: 5 } }
    - { name: http.latency, instrument: histogram, unit: ms, buckets: [5, 10, 50], attributes: { route: 30 } }
    - { name: http.size, instrument: exponential-histogram, unit: By, scale: 3, maxSize: 8, attributes: { route: 30 } }`;

async function planAndRun(text: string): Promise<{ plan: Awaited<ReturnType<typeof planScenario>>; results: any }> {
  const { dir, path } = await scenarioFile(text);
  const plan = await planScenario(path, availableParallelism());
  const { results } = await runScenario({ scenarioPath: path, outDir: join(dir, 'out'), stdout: captureStdout(), handleSignals: false });
  return { plan, results };
}

for (const protocol of ['http/protobuf', 'http/json']) {
  test(`OTLP ${protocol}: the receiver gets the plan's bytes per export × ticks`, async () => {
    const { plan, results } = await planAndRun(`
name: bytes
seed: 5
duration: 2s
telemetry:
  protocol: ${protocol}
  exportInterval: 1s
  maxBatchDataPoints: 100
  metrics:${METRICS}
`);
    const ticks = results.summary.metrics.pointsSent / plan.cardinality!.series;
    assert.equal(ticks, 2);
    assert.equal(results.summary.metrics.pointsAcknowledged, results.summary.metrics.pointsSent);
    const perExport = plan.cardinality!.bytesPerExport.otlp!.bytes;
    if (protocol === 'http/protobuf') assert.equal(results.receiver.bytesReceived, perExport * ticks);
    else assert.ok(Math.abs(results.receiver.bytesReceived / ticks - perExport) <= perExport * 0.01, `${results.receiver.bytesReceived} / ${ticks} against ${perExport}`);
    assert.equal(results.receiver.requests, plan.cardinality!.bytesPerExport.otlp!.requests * ticks);
  });
}

test('remote write: an HTTP sink gets the plan\'s remote-write bytes per export × ticks', async () => {
  let bytes = 0;
  let protobufBytes = 0;
  let requests = 0;
  const sink: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      bytes += body.length;
      protobufBytes += uncompressSync(body).length;
      requests++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = sink.address() as AddressInfo;
    const { plan, results } = await planAndRun(`
name: bytes-rw
seed: 5
duration: 3s
telemetry:
  protocol: prometheus/remote-write
  endpoint: http://127.0.0.1:${port}/api/v1/write
  exportInterval: 1s
  maxBatchDataPoints: 50
  metrics:
    - { name: tally.requests, instrument: counter, attributes: { route: 30, pod: 7 } }
    - { name: tally.inflight, instrument: up-down-counter, attributes: { pod: 7 } }
    - { name: node.temperature, instrument: gauge, unit: Cel, attributes: { zone: 5 } }
`);
    assert.equal(results.summary.metrics.pointsAcknowledged, results.summary.metrics.pointsSent);
    const ticks = results.summary.metrics.pointsSent / plan.cardinality!.series;
    assert.equal(ticks, 3);
    const rw = plan.cardinality!.bytesPerExport.remoteWrite!;
    assert.equal(protobufBytes, rw.protobufBytes * ticks);
    assert.ok(Math.abs(bytes / ticks - rw.bytes) <= rw.bytes * 0.01, `${bytes} / ${ticks} against ${rw.bytes}`);
    assert.equal(requests, plan.cardinality!.bytesPerExport.remoteWrite!.requests * ticks);
  } finally {
    await new Promise((resolve) => sink.close(resolve));
  }
});
